#include "core/civil_time.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;

namespace callgate {
std::ostream& operator<<(std::ostream& out, const CivilDate& date) { return out << format_civil_date(date); }
}  // namespace callgate

BOOST_AUTO_TEST_SUITE(civil_time)

BOOST_AUTO_TEST_CASE(days_and_dates_are_inverse_over_four_centuries_both_sides_of_1970) {
  // Every day from 1800 to 2200: each one's date turns back into it, the
  // dates follow each other, and the weekday steps by one.
  const auto first = days_from_civil(1800, 1, 1);
  const auto last = days_from_civil(2200, 12, 31);
  CivilDate previous = civil_from_days(first - 1);
  for (auto day = first; day <= last; ++day) {
    const auto date = civil_from_days(day);
    BOOST_REQUIRE_EQUAL(days_from_civil(date.year, date.month, date.day), day);
    BOOST_REQUIRE(previous < date);
    BOOST_REQUIRE_EQUAL(weekday_from_days(day), (weekday_from_days(day - 1) + 1) % 7);
    previous = date;
  }
  BOOST_TEST(days_from_civil(1970, 1, 1) == 0);
  BOOST_TEST(days_from_civil(2000, 3, 1) == 11'017);
  BOOST_TEST(civil_from_days(-1) == (CivilDate{1969, 12, 31}));
  BOOST_TEST(weekday_from_days(0) == 4u);                             // a Thursday
  BOOST_TEST(weekday_from_days(days_from_civil(2026, 12, 7)) == 1u);  // a Monday
}

BOOST_AUTO_TEST_CASE(floor_division_rounds_toward_minus_infinity) {
  BOOST_TEST(floor_div(86'399, 86'400) == 0);
  BOOST_TEST(floor_div(86'400, 86'400) == 1);
  BOOST_TEST(floor_div(-1, 86'400) == -1);
  BOOST_TEST(floor_div(-86'400, 86'400) == -1);
  BOOST_TEST(floor_div(-86'401, 86'400) == -2);
}

BOOST_AUTO_TEST_CASE(a_civil_time_at_an_offset_names_one_moment) {
  const auto utc = wall_time_from_civil(2026, 11, 25, 11, 1, 12, 0);
  const auto india = wall_time_from_civil(2026, 11, 25, 16, 31, 12, 5 * 3600 + 1800);
  BOOST_REQUIRE(utc && india);
  BOOST_TEST((*utc == *india));
  BOOST_TEST(format_iso8601(*utc) == "2026-11-25T11:01:12.000Z");
  BOOST_TEST(wall_time_from_civil(2028, 2, 29, 0, 0, 0, 0).has_value());  // a leap year's
  // Past midnight the other way: 23:30 at -05:00 is the next day in UTC.
  BOOST_TEST(format_iso8601(*wall_time_from_civil(2026, 12, 31, 23, 30, 0, -5 * 3600)) == "2027-01-01T04:30:00.000Z");
  for (const auto& [month, day, hour, minute, second] :
       std::vector<std::tuple<unsigned, unsigned, unsigned, unsigned, unsigned>>{{13, 1, 0, 0, 0},
                                                                                 {0, 1, 0, 0, 0},
                                                                                 {2, 30, 0, 0, 0},
                                                                                 {2, 29, 0, 0, 0},
                                                                                 {4, 31, 0, 0, 0},
                                                                                 {1, 1, 24, 0, 0},
                                                                                 {1, 1, 0, 60, 0},
                                                                                 {1, 1, 0, 0, 61}})
    BOOST_TEST(!wall_time_from_civil(2026, month, day, hour, minute, second, 0).has_value());
}

BOOST_AUTO_TEST_CASE(decimal_fields_are_read_whole_or_not_at_all) {
  BOOST_TEST(parse_decimal<int>("486").value_or(0) == 486);
  BOOST_TEST(parse_decimal<std::int64_t>("-1").value_or(0) == -1);
  BOOST_TEST(parse_decimal<double>("0.93").value_or(0) == 0.93);
  for (const char* bad : {"", "12a", " 12", "12 ", "+", "0x10"}) BOOST_TEST(!parse_decimal<int>(bad).has_value(), bad);
  BOOST_TEST(!parse_decimal<unsigned>("-1").has_value());
  BOOST_TEST(!parse_decimal<int>("99999999999").has_value());  // out of range
}

BOOST_AUTO_TEST_CASE(calendar_dates_both_ways) {
  BOOST_TEST((parse_civil_date("2028-02-29") == CivilDate{2028, 2, 29}));
  BOOST_TEST(format_civil_date(CivilDate{2026, 1, 5}) == "2026-01-05");
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-1-05", "20260105", "2026-01-5x", ""})
    BOOST_TEST(!parse_civil_date(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(iso_8601_times_both_ways) {
  const WallTime time(std::chrono::milliseconds(1'795'604'472'123));
  BOOST_TEST(format_iso8601(time) == "2026-11-25T11:01:12.123Z");
  BOOST_TEST((parse_iso8601("2026-11-25T11:01:12.123Z") == time));
  BOOST_TEST((parse_iso8601("2026-11-25T16:31:12.123+05:30") == time));
  BOOST_TEST((parse_iso8601("2026-11-25T11:01:12Z") == time - std::chrono::milliseconds(123)));
  BOOST_TEST(format_iso8601(WallTime{}) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_iso8601(WallTime(std::chrono::milliseconds(7'258'118'399'999))) == "2199-12-31T23:59:59.999Z");
  BOOST_TEST(format_iso8601(WallTime(std::chrono::milliseconds(951'782'400'007))) == "2000-02-29T00:00:00.007Z");
  BOOST_TEST(format_iso8601(WallTime(std::chrono::milliseconds(-1))) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(!parse_iso8601("2026-11-25").has_value());
  BOOST_TEST(!parse_iso8601("2026-13-25T11:01:12Z").has_value());
  BOOST_TEST(!parse_iso8601("2026-11-25T11:01:12.Z").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
