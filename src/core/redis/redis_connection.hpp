// One Redis connection driven by a reactor's io_context: Asio owns the
// socket (plain TCP, or TLS through OpenSSL for rediss://), resolves the
// host's name on the reactor at every connect (a managed Redis fails over
// by changing what its name points at), and hiredis 0.14 is kept for what
// it does well, its RESP reader (hiredis 0.14 has no TLS and resolves names
// with a blocking call). Every command carries its own deadline; a command
// past it fails, and the connection is dropped and made again (a reply that
// comes late would otherwise be taken for the next command's). Disconnects
// are survived: commands fail fast while the connection is down, and it is
// re-established with a growing back-off.
//
// Redis answers a connection's commands in the order they were sent, so the
// commands in flight are a queue: a reply completes the oldest, and the
// oldest has the earliest deadline. One timer watches that deadline for the
// whole connection (a timer per command cost more than the command).
// Commands sent while a write is under way are written together by the
// next one (one system call for many, as a pipeline), and the commands a
// read completed are resumed once the reader is done with it.
#pragma once

#include "core/spawn.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include "core/redis/redis_reply.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace callgate::redis {

// Why a command has no reply: the connection is down, or the deadline passed.
struct Failure {
  std::string message;
};

// What a connection has carried: commands sent, bytes sent and received.
struct Traffic {
  std::int64_t commands = 0;
  std::int64_t bytes_sent = 0;
  std::int64_t bytes_received = 0;
};

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 6379;
  std::string username;   // a Redis 6 ACL user: AUTH username password
  std::string password;   // AUTH on connect when set
  unsigned database = 0;  // SELECT on connect when not 0
  // rediss://: TLS, the server's certificate verified against ca_file (or
  // the system's store when empty) and the host (its name, sent as SNI too,
  // or its IP address); a client certificate when cert_file is set.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::chrono::milliseconds command_timeout{1000};
  // From the name's lookup to the end of the TLS handshake.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

// Parses redis[s]://[[user]:password@]host[:port][/db] (user and password
// percent-decoded; rediss: TLS); nothing when malformed, or with a user but
// no password.
std::optional<ConnectionOptions> parse_redis_url(std::string_view url);

class Connection {
 public:
  // on_connected runs (on the io_context) after each successful connect and
  // AUTH/SELECT, before commands are let through: where scripts are loaded.
  Connection(boost::asio::io_context& io, ConnectionOptions options,
             std::function<boost::asio::awaitable<bool>(Connection&)> on_connected = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();  // begins connecting; call on the io_context's thread
  void stop();   // disconnects for good

  // Sends one command (arguments as binary-safe strings). Commands are
  // pipelined: many may be in flight on the one connection.
  boost::asio::awaitable<std::variant<Reply, Failure>> command(std::vector<std::string> arguments);
  // The same without copies: the arguments are written out before the
  // first suspension, so they need only outlive the co_await's start.
  boost::asio::awaitable<std::variant<Reply, Failure>> command(std::span<const std::string_view> arguments);

  // For on_connected (loading scripts): sends even before the connection
  // counts as ready.
  boost::asio::awaitable<std::variant<Reply, Failure>> command_before_ready(std::vector<std::string> arguments) {
    return raw_command(std::move(arguments));
  }

  bool connected() const;
  // Commands sent and bytes each way since it was made (any thread may ask).
  Traffic traffic() const;
  // Whether it has been connected at least once since it was made.
  bool has_connected() const { return has_connected_.load(); }
  const ConnectionOptions& options() const { return options_; }

  struct Link;  // what the socket's handlers reach; outlives this object if it must

 private:
  // Like command(), before the connection counts as ready (AUTH, SELECT, SCRIPT LOAD).
  boost::asio::awaitable<std::variant<Reply, Failure>> raw_command(std::vector<std::string> arguments);
  boost::asio::awaitable<std::variant<Reply, Failure>> raw_command(std::span<const std::string_view> arguments);
  boost::asio::awaitable<void> connect_loop();
  // Resolves, connects and (rediss) shakes hands; on failure, why.
  boost::asio::awaitable<std::optional<std::string>> open_connection();
  void watch_oldest_deadline();
  void oldest_deadline_reached();

  boost::asio::io_context& io_;
  ConnectionOptions options_;
  std::function<boost::asio::awaitable<bool>(Connection&)> on_connected_;
  std::atomic<bool> has_connected_{false};
  std::unique_ptr<boost::asio::ssl::context> tls_;  // rediss:// only
  std::shared_ptr<Link> link_;
  boost::asio::steady_timer wake_;      // the connect loop sleeps on it
  boost::asio::steady_timer deadline_;  // the oldest command's
  bool deadline_armed_ = false;
  bool watching_ = false;  // the loop sleeps on a live connection
  // Stops the connect loop; the loop and the deadline's handler hold its
  // token, since this object may be freed while they are suspended.
  StopSignal stop_;
};

}  // namespace callgate::redis
