// A real redis-server for a test: started on a free loopback port with no
// persistence, stopped (and started again on the same port) at will,
// killed when the test ends.
#pragma once

#include <boost/test/unit_test.hpp>

#include <sys/types.h>
#include <optional>
#include <string>
#include <vector>

namespace callgate::testing {

// A TLS port beside the plain one (which the test's own command() keeps using).
struct RedisTls {
  std::string cert_file, key_file;  // the server's
  std::string ca_file;              // what it trusts for client certificates
  bool auth_clients = false;        // tls-auth-clients: a client certificate required
};

class RedisServer {
 public:
  // Starts it and waits until it answers PING. With a data directory it
  // keeps an append-only file synced on every write, so a kill loses
  // nothing it acknowledged and a restart finds everything.
  explicit RedisServer(std::string data_directory = "", std::optional<RedisTls> tls = std::nullopt);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  unsigned short tls_port() const { return tls_port_; }
  // rediss:// to the TLS port, at host (which must reach 127.0.0.1).
  std::string tls_url(const std::string& host = "127.0.0.1") const {
    return "rediss://" + host + ":" + std::to_string(tls_port_) + "/0";
  }
  void stop();    // SIGKILL: as abrupt as a crash
  void start();   // again, on the same port
  void pause();   // SIGSTOP: connections stay open and nothing is answered
  void resume();  // SIGCONT
  // Sends one command on a connection of its own and returns the reply as
  // Redis wrote it ("+OK\r\n", ":1\r\n", "$3\r\nabc\r\n"): for setting
  // up states a test needs and reading what callgated wrote.
  std::string command(const std::vector<std::string>& arguments) const;

 private:
  std::string data_directory_;
  std::optional<RedisTls> tls_;
  unsigned short port_ = 0;
  unsigned short tls_port_ = 0;
  pid_t pid_ = -1;
};

// Whether redis-server is installed (scripts/setup installs it).
bool redis_server_available();

// A suite's precondition: skipped, and saying why, without redis-server.
struct RedisInstalled {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result installed = redis_server_available();
    if (!installed)
      installed.message() << "SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)";
    return installed;
  }
};

}  // namespace callgate::testing
