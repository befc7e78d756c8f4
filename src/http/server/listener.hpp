// One reactor's acceptor. Every reactor binds its own socket to the same
// address with SO_REUSEPORT, so the kernel spreads new connections across
// reactors and no accept is ever handed between threads.
#pragma once

#include "core/listen_address.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>

namespace callgate::http {

// Opens, binds and listens; throws boost::system::system_error with the
// address in the message (start-up only).
boost::asio::ip::tcp::acceptor open_listening_socket(boost::asio::io_context& io, const ListenAddress& address);

// Throws std::runtime_error when another process already listens on
// address. SO_REUSEPORT (which every reactor sets, to share the port among
// themselves) would otherwise let a second daemon bind it too, and the
// kernel would split the traffic between two daemons with different
// stores. A socket that does not ask for SO_REUSEPORT is refused by any
// listener there, which is the test. Port 0 is never taken.
void ensure_no_other_listener(const ListenAddress& address);

// What this process may have open (RLIMIT_NOFILE) against what the config
// needs; raises the soft limit toward the hard one when short, and says
// (a warning) when it stays short.
void check_descriptor_limit(unsigned max_connections, unsigned reactors);

class Listener {
 public:
  Listener(boost::asio::ip::tcp::acceptor acceptor, ServerShard& shard);
  ~Listener();
  void start();
  void stop();  // closes the socket; connections already accepted go on
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void accept_next();
  void refuse(boost::asio::ip::tcp::socket socket, std::string_view message);
  // Out of descriptors: the reserve is let go to accept one waiting
  // connection, answer it 503 and close it, then taken again. False when
  // nothing was waiting or the reserve could not be used.
  bool shed_one_connection();

  int reserve_fd_ = -1;  // a descriptor held back for shed_one_connection
  std::chrono::steady_clock::time_point last_exhaustion_log_{};

  boost::asio::ip::tcp::acceptor acceptor_;
  ServerShard& shard_;
};

}  // namespace callgate::http
