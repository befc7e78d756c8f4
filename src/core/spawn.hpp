// The one way callgated starts a coroutine. asio::detached swallows what a
// coroutine throws: a throw in the dialer's worker once left its job
// stalled, unlogged, until the lease ran out. Here every failure is logged
// with what was running and counted (callgate_task_failures_total), and a
// long-running loop is started again after a back-off.
//
// A loop that must be stoppable waits through a StopSignal: stopping is
// Asio's per-operation cancellation of the wait it is idle in, so work it
// is in the middle of (a claim, a write) is never cut off, and nothing but
// the signal says whether it should go on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
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

// Stops the loops (and posted work) of one object running on executor:
// the one way callgated stops a coroutine, and tells it that its owner is
// gone. The loop takes a token when it starts and idles through it:
//   const auto stop = stop_.token();
//   while (co_await stop.wait(timer)) { ...work... if (stop.stopped()) co_return; }
// stop() sets the flag, then cancels the wait on the loop's own thread (a
// cancellation signal belongs to the thread its operation runs on): a loop
// busy with its work finishes it and sees the flag when it next looks or
// waits; a waiting one is woken at once. The token shares the signal's
// state, so an owner may stop() and free itself while its loop is
// suspended: after any suspension the loop asks its token, not the owner.
class StopSignal {
  struct State {
    boost::asio::cancellation_signal signal;
    std::atomic<bool> stopped{false};
  };

 public:
  class Token {
   public:
    bool stopped() const { return state_->stopped.load(); }
    // Waits for timer (someone else cancelling it counts as its end: a
    // wake-up); false once stopped, before or during the wait.
    boost::asio::awaitable<bool> wait(boost::asio::steady_timer& timer) const {
      // The bound wait's cancellation slot lives in the state: held here
      // until the wait is over, whoever else lets go of it.
      const auto state = state_;
      // Checked and begun in one step on the loop's thread, where the
      // stop's cancellation runs too: it cannot fall between the two.
      if (state->stopped.load()) co_return false;
      co_await timer.async_wait(
          boost::asio::bind_cancellation_slot(state->signal.slot(), boost::asio::as_tuple(boost::asio::use_awaitable)));
      co_return !state->stopped.load();
    }

   private:
    friend class StopSignal;
    explicit Token(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
  };

  explicit StopSignal(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  // Without an executor: a flag only, for an owner whose coroutines run on
  // several threads and look at stopped() instead of waiting through it.
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  Token token() const { return Token(state_); }
  // Any thread; again is harmless.
  void stop() {
    if (state_->stopped.exchange(true) || !executor_) return;
    boost::asio::post(executor_, [state = state_] { state->signal.emit(boost::asio::cancellation_type::terminal); });
  }
  bool stopped() const { return state_->stopped.load(); }

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

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
