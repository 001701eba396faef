#include "emu/gdb/server.h"

#include <array>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "emu/gdb/session.h"

namespace softsynic::gdb {

namespace asio = boost::asio;
using asio::ip::tcp;

std::optional<Endpoint> parse_endpoint(std::string_view text) {
  Endpoint e;
  std::string_view port = text;
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return std::nullopt;
    e.host = std::string(host);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 0xffff) return std::nullopt;
  e.port = static_cast<std::uint16_t>(value);
  return e;
}

struct GdbServer::Impl {
  // One connection: reads and writes on the server thread; writes queue
  // so that each async_write finishes before the next starts.
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Impl& server, tcp::socket socket) : server(server), socket(std::move(socket)) {}
    Impl& server;
    tcp::socket socket;
    std::array<char, 4096> buffer{};
    std::string outgoing;  // waiting to be written
    bool writing = false;
    bool closed = false;

    void read() {
      socket.async_read_some(asio::buffer(buffer), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (self->closed) return;
        if (ec) {
          self->close();
          return;
        }
        self->server.session.receive(std::string_view(self->buffer.data(), n));
        self->read();
      });
    }
    void send(std::string_view bytes) {
      outgoing += bytes;
      flush();
    }
    void flush() {
      if (writing || outgoing.empty() || closed) return;
      writing = true;
      auto data = std::make_shared<std::string>(std::move(outgoing));
      outgoing.clear();
      asio::async_write(socket, asio::buffer(*data), [self = shared_from_this(), data](boost::system::error_code ec, std::size_t) {
        self->writing = false;
        if (ec) {
          self->close();
          return;
        }
        self->flush();
      });
    }
    void close() {
      if (closed) return;
      closed = true;
      boost::system::error_code ignored;
      socket.close(ignored);
      server.session.disconnect();
      server.connection.reset();
      server.set_connected(false);
    }
  };

  void set_connected(bool on) {
    {
      std::lock_guard lock(connected_mutex);
      connected = on;
    }
    connected_cv.notify_all();
  }

  Impl(GdbTarget& target, const Endpoint& endpoint)
      : session(target), acceptor(io), work(asio::make_work_guard(io)) {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port));
    const tcp::endpoint at = results.begin()->endpoint();
    acceptor.open(at.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(at);
    acceptor.listen();
    bound_port = acceptor.local_endpoint().port();
    accept();
    thread = std::thread([this] { io.run(); });
  }

  ~Impl() {
    asio::post(io, [this] {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      if (connection) connection->close();
      work.reset();
    });
    thread.join();
  }

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      if (connection) {
        boost::system::error_code ignored;
        socket.close(ignored);  // one debugger at a time
      } else {
        socket.set_option(tcp::no_delay(true), ec);
        connection = std::make_shared<Connection>(*this, std::move(socket));
        set_connected(true);
        std::weak_ptr<Connection> weak = connection;
        session.connect([weak](std::string_view bytes) {
          if (auto c = weak.lock()) c->send(bytes);
        });
        connection->read();
      }
      accept();
    });
  }

  asio::io_context io;
  GdbSession session;
  tcp::acceptor acceptor;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::shared_ptr<Connection> connection;
  std::uint16_t bound_port = 0;
  std::mutex connected_mutex;
  std::condition_variable connected_cv;
  bool connected = false;  // guarded by connected_mutex
  std::thread thread;
};

GdbServer::GdbServer(GdbTarget& target, const Endpoint& endpoint)
    : impl_(std::make_unique<Impl>(target, endpoint)) {}

GdbServer::~GdbServer() = default;

std::uint16_t GdbServer::port() const { return impl_->bound_port; }

bool GdbServer::wait_until_disconnected(std::chrono::milliseconds limit) {
  std::unique_lock lock(impl_->connected_mutex);
  return impl_->connected_cv.wait_for(lock, limit, [this] { return !impl_->connected; });
}

void GdbServer::report_stop(const StopEvent& event) {
  asio::post(impl_->io, [impl = impl_.get(), event] { impl->session.on_stop(event); });
}

}  // namespace softsynic::gdb
