// The one way callgated starts a coroutine. asio::detached swallows what a
// coroutine throws: a throw in the dialer's worker once left its job
// stalled, unlogged, until the lease ran out. Here every failure is logged
// with what was running and counted (callgate_task_failures_total), and a
// long-running loop is started again after a back-off.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>

namespace callgate {

// Logs task_failed with what (a static string naming the work) and the
// exception's message, and counts it.
void report_task_failure(const char* what, const std::exception_ptr& failure);

// Failures reported since start, for /metrics.
std::int64_t task_failures();

// A piece of work that runs once: a failure is logged and counted, and the
// work is over (its caller must not rely on it having finished).
inline void spawn_task(const boost::asio::any_io_executor& executor, boost::asio::awaitable<void> work,
                       const char* what) {
  boost::asio::co_spawn(executor, std::move(work), [what](const std::exception_ptr& failure) {
    if (failure) report_task_failure(what, failure);
  });
}

// A loop meant to run until the daemon stops: make() starts it; when it
// throws, the failure is reported and make() is called again after backoff,
// doubled each time up to 30 s. A loop that returns is over.
template <class MakeLoop>
void spawn_loop(const boost::asio::any_io_executor& executor, MakeLoop make, const char* what,
                std::chrono::milliseconds backoff = std::chrono::seconds(1)) {
  auto started = make();
  boost::asio::co_spawn(executor, std::move(started),
                        [executor, make = std::move(make), what, backoff](const std::exception_ptr& failure) mutable {
                          if (!failure) return;
                          report_task_failure(what, failure);
                          auto timer = std::make_shared<boost::asio::steady_timer>(executor, backoff);
                          timer->async_wait([timer, executor, make = std::move(make), what,
                                             backoff](const boost::system::error_code& error) mutable {
                            if (error) return;  // shutting down
                            spawn_loop(executor, std::move(make), what,
                                       std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30)));
                          });
                        });
}

inline void spawn_task(boost::asio::io_context& io, boost::asio::awaitable<void> work, const char* what) {
  spawn_task(io.get_executor(), std::move(work), what);
}

template <class MakeLoop>
void spawn_loop(boost::asio::io_context& io, MakeLoop make, const char* what,
                std::chrono::milliseconds backoff = std::chrono::seconds(1)) {
  spawn_loop(io.get_executor(), std::move(make), what, backoff);
}

}  // namespace callgate
