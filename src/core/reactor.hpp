// A reactor: one thread running one io_context, created with a concurrency
// hint of 1 so Asio skips its internal locking. Everything a reactor owns is
// touched only from its thread; other threads reach it with post().
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace callgate {

class Reactor {
 public:
  explicit Reactor(std::size_t index);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  std::size_t index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // Runs the loop on a new thread; on_failure hears of an exception that
  // escaped a handler (a bug), after which this loop has ended.
  void start(std::function<void(std::string reason)> on_failure);
  void stop();  // ends the loop, abandoning pending work
  void join();

  // The watchdog's evidence that this loop still turns: a timer on the loop
  // itself stamps the time, so a loop stuck in a handler stops stamping.
  void start_heartbeat(std::chrono::milliseconds interval);
  std::chrono::steady_clock::duration since_last_heartbeat() const;

 private:
  void beat();

  std::size_t index_;
  // Only this reactor's thread touches its sockets and timers, so Asio may
  // skip locking them; posting from other threads (reload, drain) stays safe.
  boost::asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running_;
  boost::asio::steady_timer heartbeat_timer_;
  std::chrono::milliseconds heartbeat_interval_{0};
  std::atomic<std::chrono::steady_clock::rep> last_heartbeat_;
  std::thread thread_;
};

}  // namespace callgate
