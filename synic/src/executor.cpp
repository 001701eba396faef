// DeterministicExecutor and ThreadPoolExecutor: the two ways the
// partition's strand work is run. No TLFS section (host plumbing).
#include "synic/executor.h"

namespace softsynic {

std::size_t DeterministicExecutor::run_until_idle() {
  // poll() stops once the context runs out of ready work and marks it
  // stopped; restart() before each round so handlers posted by the last
  // round run too.
  std::size_t total = 0;
  for (;;) {
    io_.restart();
    const std::size_t n = io_.poll();
    if (n == 0) return total;
    total += n;
  }
}

ThreadPoolExecutor::ThreadPoolExecutor(unsigned threads) {
  guard_.emplace(io_.get_executor());
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
}

ThreadPoolExecutor::~ThreadPoolExecutor() { join(); }

void ThreadPoolExecutor::join() {
  guard_.reset();
  io_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace softsynic
