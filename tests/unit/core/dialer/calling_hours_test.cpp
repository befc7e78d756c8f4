// Calling hours: the next moment a dial may happen, with windows that cross
// midnight, weekdays, holidays and a zone with daylight saving.
#include "core/dialer/calling_hours.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::dialer;

namespace {

UnixSeconds utc(std::int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute) {
  return days_from_civil(year, month, day) * 86'400 + hour * 3600 + minute * 60;
}

CallingWindow kolkata_nine_to_nine() {
  CallingWindow window;
  window.zone = TimeZone::from_tzif(
                    [] {
                      std::string block(44, '\0');
                      block.replace(0, 5, "TZif2");
                      block[39] = 1;
                      block[43] = 4;
                      block += std::string("\x00\x00\x4d\x58\x00\x00", 6);  // +19800
                      block += std::string("IST\0", 4);
                      return block + block + "\nIST-5:30\n";
                    }(),
                    "Asia/Kolkata")
                    .value();
  window.opens = *parse_time_of_day("09:00");
  window.closes = *parse_time_of_day("21:00");
  return window;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(calling_hours)

BOOST_AUTO_TEST_CASE(inside_the_window_now_outside_it_at_the_next_opening) {
  const auto window = kolkata_nine_to_nine();
  struct Case {
    UnixSeconds at;
    UnixSeconds expected;
    const char* what;
  };
  // 09:00 IST is 03:30Z, 21:00 IST is 15:30Z.
  const Case cases[] = {
      {utc(2026, 11, 25, 4, 30), utc(2026, 11, 25, 4, 30), "10:00 IST: at once"},
      {utc(2026, 11, 25, 3, 30), utc(2026, 11, 25, 3, 30), "09:00 IST sharp: at once"},
      {utc(2026, 11, 25, 3, 29), utc(2026, 11, 25, 3, 30), "08:59 IST: at 09:00"},
      {utc(2026, 11, 25, 15, 29), utc(2026, 11, 25, 15, 29), "20:59 IST: at once"},
      {utc(2026, 11, 25, 15, 30), utc(2026, 11, 26, 3, 30), "21:00 IST: closed, tomorrow 09:00"},
      {utc(2026, 11, 25, 17, 30), utc(2026, 11, 26, 3, 30), "an enquiry at 23:00 IST is called at 09:00"},
      {utc(2026, 12, 31, 20, 0), utc(2027, 1, 1, 3, 30), "over the new year"},
  };
  for (const auto& test : cases)
    BOOST_TEST(next_calling_time(window, test.at).value_or(-1) == test.expected, test.what);
}

BOOST_AUTO_TEST_CASE(a_window_past_midnight_belongs_to_the_day_it_opens) {
  CallingWindow window;  // UTC, 22:00-02:00
  window.opens = *parse_time_of_day("22:00");
  window.closes = *parse_time_of_day("02:00");
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 25, 1, 0)).value() == utc(2026, 11, 25, 1, 0));
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 25, 2, 0)).value() == utc(2026, 11, 25, 22, 0));
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 25, 23, 59)).value() == utc(2026, 11, 25, 23, 59));
  // Open only on Fridays (2026-11-27): Saturday 01:00 is still Friday's window, Saturday 23:00 is not.
  window.days = {false, false, false, false, false, true, false};
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 28, 1, 0)).value() == utc(2026, 11, 28, 1, 0));
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 28, 23, 0)).value() == utc(2026, 12, 4, 22, 0));
}

BOOST_AUTO_TEST_CASE(weekdays_and_holidays) {
  auto window = kolkata_nine_to_nine();
  window.days = {false, true, true, true, true, true, false};  // Monday to Friday
  window.holidays = {CivilDate{2026, 12, 25}};
  // Saturday 2026-11-28 10:00 IST -> Monday 2026-11-30 09:00 IST.
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 28, 4, 30)).value() == utc(2026, 11, 30, 3, 30));
  // Christmas (a Friday) 10:00 IST -> Monday 2026-12-28 09:00 IST.
  BOOST_TEST(next_calling_time(window, utc(2026, 12, 25, 4, 30)).value() == utc(2026, 12, 28, 3, 30));
  window.days = {};
  BOOST_TEST(!next_calling_time(window, utc(2026, 11, 28, 4, 30)).has_value());
}

BOOST_AUTO_TEST_CASE(a_daylight_saving_zone_opens_at_local_nine_all_year) {
  CallingWindow window;
  std::string block(44, '\0');
  block.replace(0, 5, "TZif2");
  block[39] = 1;
  block[43] = 4;
  block += std::string("\xff\xff\xb9\xb0\x00\x00", 6);
  block += std::string("EST\0", 4);
  window.zone = TimeZone::from_tzif(block + block + "\nEST5EDT,M3.2.0,M11.1.0\n", "America/New_York").value();
  window.opens = 9 * 3600;
  window.closes = 21 * 3600;
  // The evening before daylight saving starts (2026-03-08) and the evening before it ends (2026-11-01).
  BOOST_TEST(next_calling_time(window, utc(2026, 3, 8, 3, 0)).value() == utc(2026, 3, 8, 13, 0));    // 09:00 EDT
  BOOST_TEST(next_calling_time(window, utc(2026, 3, 7, 3, 0)).value() == utc(2026, 3, 7, 14, 0));    // 09:00 EST
  BOOST_TEST(next_calling_time(window, utc(2026, 11, 1, 3, 0)).value() == utc(2026, 11, 1, 14, 0));  // 09:00 EST
  // 20:59 EDT is open, 21:00 EDT is not.
  BOOST_TEST(next_calling_time(window, utc(2026, 7, 2, 0, 59)).value() == utc(2026, 7, 2, 0, 59));
  BOOST_TEST(next_calling_time(window, utc(2026, 7, 2, 1, 0)).value() == utc(2026, 7, 2, 13, 0));
}

BOOST_AUTO_TEST_CASE(the_longest_prefix_picks_the_window) {
  CallingHours hours;
  hours.default_window.opens = 1;
  CallingWindow india, mumbai;
  india.opens = 2;
  mumbai.opens = 3;
  hours.by_prefix = {{"+91", india}, {"+9122", mumbai}};
  BOOST_TEST(hours.for_number("+919876543210").opens == 2);
  BOOST_TEST(hours.for_number("+912212345678").opens == 3);
  BOOST_TEST(hours.for_number("+14155550123").opens == 1);
}

BOOST_AUTO_TEST_CASE(by_default_every_moment_is_calling_time) {
  const CallingWindow all_day;
  for (const auto at : {utc(2026, 11, 25, 0, 0), utc(2026, 11, 25, 3, 7), utc(2026, 11, 28, 23, 59)})
    BOOST_TEST(next_calling_time(all_day, at).value() == at);
}

BOOST_AUTO_TEST_CASE(times_of_day) {
  BOOST_TEST(parse_time_of_day("09:00").value() == 9 * 3600);
  BOOST_TEST(parse_time_of_day("23:59").value() == 23 * 3600 + 59 * 60);
  BOOST_TEST(parse_time_of_day("24:00").value() == 86'400);
  for (const char* bad : {"9:00", "24:01", "12:60", "12-00", "", "aa:bb"})
    BOOST_TEST(!parse_time_of_day(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
