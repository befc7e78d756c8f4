// A loopback HTTP/1.1 proxy in front of DynamoDB Local that plays a busy
// DynamoDB: it answers some requests itself with the throttling error the
// real service sends (400, ProvisionedThroughputExceededException), holds
// others before passing them on, and passes the rest through unchanged.
// Faults can be changed while traffic flows. Loopback only; stops itself
// when destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace callgate::testing {

class ThrottlingProxy {
 public:
  explicit ThrottlingProxy(unsigned short upstream_port);
  ~ThrottlingProxy();
  ThrottlingProxy(const ThrottlingProxy&) = delete;
  ThrottlingProxy& operator=(const ThrottlingProxy&) = delete;

  unsigned short port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // From now on: every throttle_every-th request is throttled (1: all of
  // them; 0: none), every hold_every-th of the others is held for hold.
  void set_faults(unsigned throttle_every, unsigned hold_every, std::chrono::milliseconds hold);

  std::uint64_t throttled() const { return throttled_.load(); }
  std::uint64_t held() const { return held_.load(); }
  std::uint64_t passed() const { return passed_.load(); }
  // Connections the daemon has opened to the proxy, used or not.
  std::uint64_t accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  void serve(int client);

  unsigned short upstream_port_;
  unsigned short port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> throttle_every_{0};
  std::atomic<unsigned> hold_every_{0};
  std::atomic<std::int64_t> hold_ms_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> throttled_{0};
  std::atomic<std::uint64_t> held_{0};
  std::atomic<std::uint64_t> passed_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::mutex mutex_;
  std::vector<int> open_sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace callgate::testing
