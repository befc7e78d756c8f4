#include "core/spawn.hpp"

#include "core/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

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

}  // namespace

BOOST_AUTO_TEST_SUITE(spawn)

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
      io.get_executor(),
      [&starts] { return fail_twice(starts); },  // the third start ends normally: no more restarts
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
