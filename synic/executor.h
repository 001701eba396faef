// Executors that run the partition's strand work.
//
// DeterministicExecutor: one io_context, driven by the caller on one thread;
// run_until_idle() runs every ready handler, including those they post, until
// none is left (quiescence). Replay and most tests use it.
// ThreadPoolExecutor: one io_context run by N host threads; each VP's strand
// keeps its own work serial while different VPs run in parallel.
// An emulator that owns its vCPU threads can instead give each VP an
// io_context of its own and poll it from that vCPU thread (see
// docs/EMULATOR_GUIDE.md).
#pragma once

#include <cstddef>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace softsynic {

// Not thread-safe: one driving thread.
class DeterministicExecutor {
 public:
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  boost::asio::io_context& context() { return io_; }
  // Returns the number of handlers run.
  std::size_t run_until_idle();

 private:
  boost::asio::io_context io_{1};
};

// Thread-safe: executor() may be used from any thread.
// Lifetime: strands made on it (every Partition's VPs) unregister from the
// context's strand service when they go, so destroy the partitions first;
// or call join() to stop the threads, destroy the partitions, then this.
class ThreadPoolExecutor {
 public:
  explicit ThreadPoolExecutor(unsigned threads);
  ~ThreadPoolExecutor();  // join()
  // Stops the context and joins the threads; the context stays alive (work
  // left in it is not run). Idempotent; not from one of its own threads.
  void join();
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  boost::asio::io_context& context() { return io_; }

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace softsynic
