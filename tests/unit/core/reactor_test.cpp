#include "core/reactor.hpp"

#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace callgate;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(reactor)

BOOST_AUTO_TEST_CASE(runs_posted_work_on_its_own_thread) {
  Reactor reactor(3);
  reactor.start([](std::string) {});
  std::promise<std::thread::id> ran_on;
  boost::asio::post(reactor.io(), [&] { ran_on.set_value(std::this_thread::get_id()); });
  const auto id = ran_on.get_future().get();
  BOOST_TEST((id != std::this_thread::get_id()));
  BOOST_TEST(reactor.index() == 3u);
}

// What the systemd watchdog relies on: a loop stuck in a handler stops
// stamping its heartbeat, and the stamp ages for everyone to see.
BOOST_AUTO_TEST_CASE(a_stuck_loop_stops_its_heartbeat) {
  Reactor reactor(0);
  reactor.start([](std::string) {});
  reactor.start_heartbeat(10ms);
  std::this_thread::sleep_for(100ms);
  BOOST_TEST((reactor.since_last_heartbeat() < 200ms));

  boost::asio::post(reactor.io(), [] { std::this_thread::sleep_for(700ms); });  // a handler that hangs
  std::this_thread::sleep_for(450ms);
  BOOST_TEST((reactor.since_last_heartbeat() > 300ms));

  std::this_thread::sleep_for(500ms);  // it returned; the beat resumes
  BOOST_TEST((reactor.since_last_heartbeat() < 200ms));
}

BOOST_AUTO_TEST_CASE(an_exception_escaping_a_handler_is_reported) {
  Reactor reactor(1);
  std::promise<std::string> failure;
  reactor.start([&](std::string reason) { failure.set_value(reason); });
  boost::asio::post(reactor.io(), [] { throw std::runtime_error("bug in a handler"); });
  auto reported = failure.get_future();
  BOOST_REQUIRE((reported.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(reported.get() == "bug in a handler");
}

BOOST_AUTO_TEST_SUITE_END()
