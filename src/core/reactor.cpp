#include "core/reactor.hpp"

#include "core/log.hpp"

#include <boost/asio/post.hpp>

#include <pthread.h>

namespace callgate {

Reactor::Reactor(std::size_t index)
    : index_(index),
      keep_running_(boost::asio::make_work_guard(io_)),
      heartbeat_timer_(io_),
      last_heartbeat_(std::chrono::steady_clock::now().time_since_epoch().count()) {}

Reactor::~Reactor() {
  stop();
  join();
}

void Reactor::start(std::function<void(std::string reason)> on_failure) {
  thread_ = std::thread([this, on_failure = std::move(on_failure)] {
    const std::string name = "reactor-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    // Lines logged by handlers go out in one write per turn of the loop.
    begin_log_batching(
        [](void* context) {
          boost::asio::post(*static_cast<boost::asio::io_context*>(context), [] { flush_log_batch(); });
        },
        &io_);
    try {
      io_.run();
    } catch (const std::exception& failure) {
      // Handlers report errors through error_code; an exception here is a bug.
      LogLine(LogLevel::error, "reactor_failed")
          .number("reactor", static_cast<std::int64_t>(index_))
          .text("reason", failure.what());
      on_failure(failure.what());
    }
    end_log_batching();
  });
}

void Reactor::stop() {
  keep_running_.reset();
  io_.stop();
}

void Reactor::join() {
  if (thread_.joinable()) thread_.join();
}

void Reactor::start_heartbeat(std::chrono::milliseconds interval) {
  heartbeat_interval_ = interval;
  boost::asio::post(io_, [this] { beat(); });
}

void Reactor::beat() {
  last_heartbeat_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  heartbeat_timer_.expires_after(heartbeat_interval_);
  heartbeat_timer_.async_wait([this](boost::system::error_code error) {
    if (!error) beat();
  });
}

std::chrono::steady_clock::duration Reactor::since_last_heartbeat() const {
  const std::chrono::steady_clock::time_point last{
      std::chrono::steady_clock::duration(last_heartbeat_.load(std::memory_order_relaxed))};
  return std::chrono::steady_clock::now() - last;
}

}  // namespace callgate
