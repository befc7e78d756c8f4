// Pacing: one call per slot, slots 60 s / calls_per_minute apart, each call
// reserving the first free one.
#include "core/dialer/pacer.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::dialer;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(pacer)

BOOST_AUTO_TEST_CASE(calls_are_spaced_by_the_accounts_pace) {
  Pacer pacer;
  const WallTime t0 = WallTime{} + 1h;
  BOOST_TEST((pacer.reserve(t0, 60) == t0));               // the first goes at once
  BOOST_TEST((pacer.reserve(t0, 60) == t0 + 1s));          // the next a second later
  BOOST_TEST((pacer.reserve(t0 + 400ms, 60) == t0 + 2s));  // a burst queues up, one slot each
  BOOST_TEST((pacer.reserve(t0 + 5s, 60) == t0 + 5s));     // slots free again: at once
  // Exotel's 200 a minute: 300 ms apart.
  Pacer exotel;
  BOOST_TEST((exotel.reserve(t0, 200) == t0));
  BOOST_TEST((exotel.reserve(t0 + 1ms, 200) == t0 + 300ms));
  // Idle time does not bank a burst: after a long pause, still one slot at a time.
  BOOST_TEST((exotel.reserve(t0 + 1h, 200) == t0 + 1h));
  BOOST_TEST((exotel.reserve(t0 + 1h, 200) == t0 + 1h + 300ms));
}

BOOST_AUTO_TEST_CASE(zero_means_unpaced) {
  Pacer pacer;
  for (int call = 0; call < 100; ++call) BOOST_TEST((pacer.reserve(WallTime{} + 1h, 0) == WallTime{} + 1h));
  BOOST_TEST(pacing_interval(0).count() == 0);
  BOOST_TEST(pacing_interval(7).count() == 60'000'000 / 7);
}

BOOST_AUTO_TEST_SUITE_END()
