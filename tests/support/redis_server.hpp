// A real redis-server for a test: started on a free loopback port with no
// persistence, stopped (and started again on the same port) at will,
// killed when the test ends.
#pragma once

#include <string>
#include <sys/types.h>

namespace callgate::testing {

class RedisServer {
 public:
  // Starts it and waits until it answers PING. With a data directory it
  // keeps an append-only file synced on every write, so a kill loses
  // nothing it acknowledged and a restart finds everything.
  explicit RedisServer(std::string data_directory = "");
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  void stop();     // SIGKILL: as abrupt as a crash
  void start();    // again, on the same port

 private:
  std::string data_directory_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

// Whether redis-server is installed (scripts/setup installs it).
bool redis_server_available();

}  // namespace callgate::testing
