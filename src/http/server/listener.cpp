#include "http/server/listener.hpp"

#include "core/log.hpp"
#include "http/server/session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>

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

Listener::Listener(tcp::acceptor acceptor, ServerShard& shard) : acceptor_(std::move(acceptor)), shard_(shard) {}

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
      // EMFILE and friends: back off briefly instead of spinning on a
      // listening socket that stays readable.
      LogLine(LogLevel::warn, "accept_failed").trusted_text("reason", error.message());
      auto timer = std::make_shared<asio::steady_timer>(shard_.io(), std::chrono::milliseconds(50));
      timer->async_wait([this, timer](boost::system::error_code) {
        if (acceptor_.is_open()) accept_next();
      });
      return;
    }
    if (shard_.has_room_for_connection()) Session::start(std::move(socket), shard_);
    else refuse(std::move(socket));
    accept_next();
  });
}

void Listener::refuse(tcp::socket socket) {
  // A fresh socket's send buffer always takes these few bytes, so one
  // non-blocking write either goes out whole or the peer is already gone;
  // nothing is kept per refused connection.
  shard_.connection_refused();
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  const auto text = over_capacity_response();
  socket.write_some(asio::buffer(text.data(), text.size()), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

}  // namespace callgate::http
