#include "core/rate_limiter.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(a_burst_then_the_steady_rate) {
  RateLimiter limiter(1.0, 3.0);  // one a second, three at once
  const auto start = RateLimiter::Clock::time_point{} + 1000s;
  for (int index = 0; index < 3; ++index) BOOST_TEST(!limiter.take("203.0.113.9", start).has_value());
  const auto wait = limiter.take("203.0.113.9", start);
  BOOST_TEST_REQUIRE(wait.has_value());
  BOOST_TEST(wait->count() == 1000);
  BOOST_TEST(limiter.take("203.0.113.9", start + 500ms).value_or(0ms).count() == 500);
  BOOST_TEST(!limiter.take("203.0.113.9", start + 1000ms).has_value());
  // Another address has its own bucket.
  BOOST_TEST(!limiter.take("198.51.100.1", start).has_value());
}

BOOST_AUTO_TEST_CASE(idle_clients_are_forgotten_when_the_table_is_full) {
  RateLimiter limiter(1.0, 2.0, 3);
  const auto start = RateLimiter::Clock::time_point{} + 1000s;
  for (int client = 0; client < 3; ++client) limiter.take("client-" + std::to_string(client), start);
  BOOST_TEST(limiter.tracked_clients() == 3u);
  limiter.take("client-3", start + 10s);  // everyone else has refilled by now
  BOOST_TEST(limiter.tracked_clients() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
