// One reactor's acceptor. Every reactor binds its own socket to the same
// address with SO_REUSEPORT, so the kernel spreads new connections across
// reactors and no accept is ever handed between threads.
#pragma once

#include "core/listen_address.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace callgate::http {

// Opens, binds and listens; throws boost::system::system_error with the
// address in the message (start-up only).
boost::asio::ip::tcp::acceptor open_listening_socket(boost::asio::io_context& io, const ListenAddress& address);

class Listener {
 public:
  Listener(boost::asio::ip::tcp::acceptor acceptor, ServerShard& shard);
  void start();
  void stop();  // closes the socket; connections already accepted go on
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void accept_next();
  void refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  ServerShard& shard_;
};

}  // namespace callgate::http
