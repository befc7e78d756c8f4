#include "http/server/listener.hpp"

#include "core/log.hpp"
#include "http/server/session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace callgate::http {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::acceptor open_listening_socket(asio::io_context& io, const ListenAddress& address) {
  const tcp::endpoint endpoint(asio::ip::make_address(address.host), address.port);
  tcp::acceptor acceptor(io);
  auto fail = [&](const boost::system::error_code& error, const char* step) {
    throw boost::system::system_error(error, std::string("cannot ") + step + " " + address.to_string());
  };
  boost::system::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (error) fail(error, "open a socket for");
  acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (error) fail(error, "set SO_REUSEADDR on");
  const int enable = 1;
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &enable, sizeof enable) != 0)
    fail(boost::system::error_code(errno, boost::system::system_category()), "set SO_REUSEPORT on");
  acceptor.bind(endpoint, error);
  if (error) fail(error, "bind");
  acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) fail(error, "listen on");
  return acceptor;
}

void ensure_no_other_listener(const ListenAddress& address) {
  if (address.port == 0) return;
  boost::system::error_code error;
  const tcp::endpoint endpoint(asio::ip::make_address(address.host, error), address.port);
  if (error) return;  // open_listening_socket reports it
  const int probe = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return;
  const int enable = 1;
  // SO_REUSEADDR: a port left in TIME_WAIT by a daemon that just stopped is free.
  ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);
  const bool taken =
      ::bind(probe, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 && errno == EADDRINUSE;
  ::close(probe);
  if (taken)
    throw std::runtime_error("cannot bind " + address.to_string() +
                             ": another process already listens there (a second callgated?). Stop it, or choose "
                             "another server.listen; server.reuse_port: true shares the port on purpose, for a "
                             "hand-over restart only");
}

void check_descriptor_limit(unsigned max_connections, unsigned reactors) {
  // Each connection is a descriptor; on top: listeners, the store's and the
  // provider pools' connections, files, the event loops' own.
  const rlim_t needed = static_cast<rlim_t>(max_connections) + 64 * static_cast<rlim_t>(reactors) + 128;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= needed) return;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(limit.rlim_max, needed);
  if (raised.rlim_cur > limit.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  if (limit.rlim_cur >= needed) return;
  LogLine(LogLevel::warn, "descriptor_limit_low")
      .number("limit", static_cast<std::int64_t>(limit.rlim_cur))
      .number("needed", static_cast<std::int64_t>(needed))
      .trusted_text("detail",
                    "the open-file limit (RLIMIT_NOFILE, LimitNOFILE= in the unit) is below server.max_connections "
                    "plus what the daemon itself needs: connections past it get 503 and are closed. Raise the "
                    "limit or lower server.max_connections");
}

Listener::Listener(tcp::acceptor acceptor, ServerShard& shard) : acceptor_(std::move(acceptor)), shard_(shard) {
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Listener::~Listener() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

bool Listener::shed_one_connection() {
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd_ < 0) return false;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  boost::system::error_code error;
  acceptor_.non_blocking(true, error);
  tcp::socket socket(shard_.io());
  acceptor_.accept(socket, error);
  const bool shed = !error;
  if (shed) {
    shard_.connection_refused();
    refuse(std::move(socket), "the server is out of file descriptors, retry later");
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return shed;
}

tcp::endpoint Listener::local_endpoint() const {
  boost::system::error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

void Listener::start() { accept_next(); }

void Listener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Listener::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) {
      const bool out_of_descriptors = error.value() == EMFILE || error.value() == ENFILE;
      const auto now = std::chrono::steady_clock::now();
      // Once every ten seconds at most: a flood must not become a log flood.
      if (now - last_exhaustion_log_ > std::chrono::seconds(10)) {
        last_exhaustion_log_ = now;
        LogLine(LogLevel::warn, "accept_failed").trusted_text("reason", error.message());
      }
      // Out of descriptors, the waiting connections are answered 503 one by
      // one with the reserve, rather than left in the backlog to time out.
      if (out_of_descriptors && shed_one_connection()) {
        accept_next();
        return;
      }
      // Otherwise back off briefly instead of spinning on a listening socket
      // that stays readable.
      auto timer = std::make_shared<asio::steady_timer>(shard_.io(), std::chrono::milliseconds(50));
      timer->async_wait([this, timer](boost::system::error_code) {
        if (acceptor_.is_open()) accept_next();
      });
      return;
    }
    boost::system::error_code peer_error;
    const auto peer = socket.remote_endpoint(peer_error);
    if (peer_error) {
      // Gone before we looked: nothing to serve, nothing to count.
    } else if (!shard_.has_room_for_connection()) {
      shard_.connection_refused();
      refuse(std::move(socket), "too many connections, retry later");
    } else if (!shard_.admit_address(peer.address())) {
      refuse(std::move(socket), "too many connections from this address, retry later");
    } else {
      Session::start(std::move(socket), peer, shard_);
    }
    accept_next();
  });
}

void Listener::refuse(tcp::socket socket, std::string_view message) {
  // A fresh socket's send buffer always takes these few hundred bytes, so
  // one non-blocking write either goes out whole or the peer is already
  // gone; nothing is kept per refused connection. The answer carries what
  // every answer does (Date, Server, X-Request-Id, requestId).
  std::string request_id;
  shard_.request_ids().next_into(request_id);
  const auto text = over_capacity_response(message, request_id, shard_.date().now());
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(text.data(), text.size()), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

}  // namespace callgate::http
