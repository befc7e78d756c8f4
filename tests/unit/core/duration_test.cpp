#include "core/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(parses_each_unit) {
  BOOST_TEST(parse_duration("250ms")->count() == 250);
  BOOST_TEST(parse_duration("10s")->count() == 10'000);
  BOOST_TEST(parse_duration("5m")->count() == 300'000);
  BOOST_TEST(parse_duration("1h")->count() == 3'600'000);
  BOOST_TEST(parse_duration("0s")->count() == 0);
}

BOOST_AUTO_TEST_CASE(rejects_missing_or_unknown_units_and_junk) {
  for (const char* bad : {"30", "", "s", "10 s", "-5s", "1.5s", "10sec", "5d", "ms10", "10S"})
    BOOST_TEST(!parse_duration(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(rejects_values_that_would_overflow_deadlines) {
  BOOST_TEST(!parse_duration("99999999999999h").has_value());
  BOOST_TEST(!parse_duration("18446744073709551616ms").has_value());
}

BOOST_AUTO_TEST_CASE(formats_back_to_the_shortest_exact_unit) {
  BOOST_TEST(format_duration(Milliseconds(250)) == "250ms");
  BOOST_TEST(format_duration(Milliseconds(15'000)) == "15s");
  BOOST_TEST(format_duration(Milliseconds(120'000)) == "2m");
  BOOST_TEST(format_duration(Milliseconds(7'200'000)) == "2h");
  BOOST_TEST(format_duration(Milliseconds(1500)) == "1500ms");
  BOOST_TEST(format_duration(Milliseconds(0)) == "0ms");
}

BOOST_AUTO_TEST_SUITE_END()
