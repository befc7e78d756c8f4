// The per-provider breaker: closed -> open after repeated retryable
// failures -> one probe after a while -> closed or open again.
#include "core/dialer/circuit_breaker.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::dialer;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(circuit_breaker)

BOOST_AUTO_TEST_CASE(opens_after_failures_in_a_row_and_probes_once_after_a_while) {
  CircuitBreaker breaker(BreakerPolicy{3, 30s});
  const CircuitBreaker::TimePoint t0{};
  breaker.record_retryable_failure(t0);
  breaker.record_retryable_failure(t0);
  breaker.record_success();  // a success in between starts the count again
  breaker.record_retryable_failure(t0);
  breaker.record_retryable_failure(t0);
  BOOST_TEST((breaker.state() == CircuitBreaker::State::closed));
  BOOST_TEST(breaker.allows(t0));
  breaker.record_retryable_failure(t0);
  BOOST_TEST((breaker.state() == CircuitBreaker::State::open));
  BOOST_TEST(!breaker.allows(t0 + 29s));
  BOOST_TEST(breaker.allows(t0 + 30s));  // the probe
  BOOST_TEST((breaker.state() == CircuitBreaker::State::half_open));
  BOOST_TEST(!breaker.allows(t0 + 31s));  // only one at a time
  breaker.record_success();
  BOOST_TEST((breaker.state() == CircuitBreaker::State::closed));
  BOOST_TEST(breaker.allows(t0 + 31s));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_opens_it_again_and_a_lost_probe_is_replaced) {
  CircuitBreaker breaker(BreakerPolicy{1, 10s});
  const CircuitBreaker::TimePoint t0{};
  breaker.record_retryable_failure(t0);
  BOOST_TEST(breaker.allows(t0 + 10s));
  breaker.record_retryable_failure(t0 + 11s);  // the probe failed
  BOOST_TEST((breaker.state() == CircuitBreaker::State::open));
  BOOST_TEST(!breaker.allows(t0 + 20s));
  BOOST_TEST(breaker.allows(t0 + 21s));  // next probe
  BOOST_TEST(!breaker.allows(t0 + 30s));
  BOOST_TEST(breaker.allows(t0 + 41s));  // its outcome never came: another after open_for more
  BOOST_TEST(to_string(breaker.state()) == "half_open");
}

BOOST_AUTO_TEST_SUITE_END()
