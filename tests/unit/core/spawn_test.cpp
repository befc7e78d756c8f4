#include "core/spawn.hpp"

#include "core/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>

#include <stdexcept>
#include <string>
#include <thread>

using namespace callgate;
using namespace std::chrono_literals;

namespace {

std::string captured;
void capture(std::string_view lines) { captured.append(lines); }

struct CapturedLog {
  CapturedLog() {
    captured.clear();
    set_log_sink(&capture);
  }
  ~CapturedLog() { set_log_sink(nullptr); }
};

// Fails until its third start (the lambdas below are not coroutines
// themselves: a lambda coroutine's captures die with the lambda).
boost::asio::awaitable<void> fail_twice(int& starts) {
  if (++starts < 3) throw std::runtime_error("loop broke");
  co_return;
}

boost::asio::awaitable<void> set_flag(bool& flag) {
  flag = true;
  co_return;
}

boost::asio::awaitable<void> fail_with(const char* message) {
  throw std::runtime_error(message);
  co_return;
}

// Idles in an hour-long wait, bound to stop, until stopped; counts its laps
// and whether it saw its own work cut off (it must not be).
boost::asio::awaitable<void> idle_until_stopped(StopSignal::Token stop, int& laps, bool& work_finished) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  boost::asio::steady_timer work(timer.get_executor());
  do {
    ++laps;
    // Work between waits (a claim, a write) is not what stop() cancels: a
    // short wait not bound to the signal stands for it.
    work.expires_after(30ms);
    auto [worked] = co_await work.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    work_finished = !worked;
    timer.expires_after(std::chrono::hours(1));
  } while (co_await stop.wait(timer));
}

// One such loop, started; the log captured.
struct IdleLoop {
  CapturedLog log;
  boost::asio::io_context io;
  StopSignal stop{io.get_executor()};
  int laps = 0;
  bool work_finished = false;
  IdleLoop() {
    spawn_loop(
        io, [this] { return idle_until_stopped(stop.token(), laps, work_finished); }, "idle loop");
  }
  long long milliseconds_since(std::chrono::steady_clock::time_point began) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(spawn)

BOOST_FIXTURE_TEST_CASE(a_stop_signal_ends_a_loop_in_its_wait_and_never_cuts_its_work_off, IdleLoop) {
  // Stopped from another thread while the loop is in its work (the first
  // 30 ms): the work ends normally, and the loop ends before its long wait.
  std::thread stopper([&] {
    std::this_thread::sleep_for(10ms);
    stop.stop();
  });
  const auto began = std::chrono::steady_clock::now();
  io.run();  // returns once the loop is over: nothing else is pending
  stopper.join();
  BOOST_TEST(stop.stopped());
  BOOST_TEST(laps == 1);
  BOOST_TEST(work_finished);
  BOOST_TEST(milliseconds_since(began) < 5000);
  BOOST_TEST(captured.empty(), captured);  // a stopped loop is not a failure
}

BOOST_FIXTURE_TEST_CASE(a_stop_signal_wakes_a_loop_idle_in_its_wait, IdleLoop) {
  io.run_for(100ms);  // now in the hour-long wait
  BOOST_TEST(laps == 1);
  stop.stop();
  const auto began = std::chrono::steady_clock::now();
  io.restart();
  io.run();
  BOOST_TEST(laps == 1);
  BOOST_TEST(milliseconds_since(began) < 5000);
  BOOST_TEST(captured.empty(), captured);
}

BOOST_AUTO_TEST_CASE(a_task_that_throws_is_logged_with_what_it_was_and_counted) {
  CapturedLog log;
  boost::asio::io_context io;
  const auto before = task_failures();
  spawn_task(io.get_executor(), fail_with("the store went away"), "placing a call");
  io.run();
  BOOST_TEST(task_failures() == before + 1);
  BOOST_TEST(captured.find(R"("event":"task_failed")") != std::string::npos, captured);
  BOOST_TEST(captured.find(R"("task":"placing a call")") != std::string::npos, captured);
  BOOST_TEST(captured.find("the store went away") != std::string::npos, captured);
}

BOOST_AUTO_TEST_CASE(a_task_that_ends_well_says_nothing) {
  CapturedLog log;
  boost::asio::io_context io;
  const auto before = task_failures();
  bool ran = false;
  spawn_task(io.get_executor(), set_flag(ran), "fine");
  io.run();
  BOOST_TEST(ran);
  BOOST_TEST(task_failures() == before);
  BOOST_TEST(captured.empty());
}

BOOST_AUTO_TEST_CASE(a_loop_that_throws_is_started_again_after_a_back_off_until_it_returns) {
  CapturedLog log;
  boost::asio::io_context io;
  int starts = 0;
  const auto began = std::chrono::steady_clock::now();
  spawn_loop(
      io.get_executor(), [&starts] { return fail_twice(starts); },  // the third start ends normally: no more restarts
      "test loop", 20ms);
  io.run();
  BOOST_TEST(starts == 3);
  // Two back-offs: 20 ms, then 40 ms.
  BOOST_TEST((std::chrono::steady_clock::now() - began >= 60ms));
  std::size_t logged = 0;
  for (auto at = captured.find("task_failed"); at != std::string::npos; at = captured.find("task_failed", at + 1))
    ++logged;
  BOOST_TEST(logged == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
