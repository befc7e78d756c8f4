// Pacing: one call per slot, slots 60 s / calls_per_minute apart.
#include "core/dialer/pacer.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::dialer;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(pacer)

BOOST_AUTO_TEST_CASE(calls_are_spaced_by_the_accounts_pace) {
  Pacer pacer;
  const Pacer::TimePoint t0 = Pacer::TimePoint{} + 1h;
  BOOST_TEST(!pacer.take(t0, 60).has_value());                  // the first goes at once
  BOOST_TEST(pacer.take(t0, 60).value() == 1000ms);             // the next waits a second
  BOOST_TEST(pacer.take(t0 + 400ms, 60).value() == 600ms);
  BOOST_TEST(!pacer.take(t0 + 1000ms, 60).has_value());         // its slot
  BOOST_TEST(pacer.take(t0 + 1000ms, 60).value() == 1000ms);
  // Exotel's 200 a minute: 300 ms apart.
  Pacer exotel;
  BOOST_TEST(!exotel.take(t0, 200).has_value());
  BOOST_TEST(exotel.take(t0 + 1ms, 200).value() == 299ms);
  // Idle time does not bank a burst: after a long pause, still one slot at a time.
  BOOST_TEST(!exotel.take(t0 + 1h, 200).has_value());
  BOOST_TEST(exotel.take(t0 + 1h, 200).has_value());
}

BOOST_AUTO_TEST_CASE(zero_means_unpaced) {
  Pacer pacer;
  for (int call = 0; call < 100; ++call) BOOST_TEST(!pacer.take(Pacer::TimePoint{}, 0).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
