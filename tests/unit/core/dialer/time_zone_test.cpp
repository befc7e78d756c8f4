// Offsets from POSIX rules and from the system's TZif files, and local
// times turned back into instants across daylight-saving changes.
#include "core/dialer/time_zone.hpp"

#include "core/civil_time.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace callgate;
using namespace callgate::dialer;

namespace {

UnixSeconds utc(std::int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute, unsigned second = 0) {
  return days_from_civil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second;
}
LocalSeconds local(std::int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute) {
  return utc(year, month, day, hour, minute);
}

bool tzdata_installed() { return std::filesystem::exists("/usr/share/zoneinfo/America/New_York"); }

TimeZone system_zone(const std::string& name) {
  auto loaded = load_time_zone(name);
  BOOST_REQUIRE_MESSAGE(loaded.zone.has_value(), loaded.problem);
  return *loaded.zone;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(time_zone)

BOOST_AUTO_TEST_CASE(a_northern_rule_changes_on_its_sundays) {
  const auto rule = PosixRule::parse("EST5EDT,M3.2.0,M11.1.0");
  BOOST_TEST_REQUIRE(rule.has_value());
  // 2026: second Sunday of March is the 8th, first Sunday of November the 1st, both at 02:00 local.
  BOOST_TEST(rule->offset_at(utc(2026, 3, 8, 6, 59, 59)) == -5 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 3, 8, 7, 0)) == -4 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 11, 1, 5, 59, 59)) == -4 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 11, 1, 6, 0)) == -5 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 1, 15, 12, 0)) == -5 * 3600);
}

BOOST_AUTO_TEST_CASE(a_southern_rule_keeps_summer_across_new_year) {
  const auto rule = PosixRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3");
  BOOST_TEST_REQUIRE(rule.has_value());
  BOOST_TEST(rule->offset_at(utc(2027, 1, 15, 0, 0)) == 11 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 7, 1, 0, 0)) == 10 * 3600);
  // 2026-10-04 02:00 AEST = 2026-10-03 16:00Z.
  BOOST_TEST(rule->offset_at(utc(2026, 10, 3, 15, 59, 59)) == 10 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 10, 3, 16, 0)) == 11 * 3600);
  // 2026-04-05 03:00 AEDT = 2026-04-04 16:00Z.
  BOOST_TEST(rule->offset_at(utc(2026, 4, 4, 15, 59, 59)) == 11 * 3600);
  BOOST_TEST(rule->offset_at(utc(2026, 4, 4, 16, 0)) == 10 * 3600);
}

BOOST_AUTO_TEST_CASE(fixed_rules_and_bad_rules) {
  BOOST_TEST(PosixRule::parse("IST-5:30")->offset_at(0) == 19'800);
  BOOST_TEST(PosixRule::parse("<+0530>-5:30")->offset_at(utc(2030, 6, 1, 0, 0)) == 19'800);
  BOOST_TEST(PosixRule::parse("<-03>3")->offset_at(0) == -3 * 3600);
  for (const char* bad : {"", "E5", "EST", "EST5EDT,J60,M11.1.0", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                          "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,M3.2.0", "EST25", "<+05", "EST5EDT,M3.2.0,M11.1.0x"})
    BOOST_TEST(!PosixRule::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(system_zones_read_from_tzif_files) {
  if (!tzdata_installed()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/share/zoneinfo is missing (scripts/setup installs tzdata)");
    BOOST_TEST(!tzdata_installed());
    return;
  }
  const auto kolkata = system_zone("Asia/Kolkata");
  BOOST_TEST(kolkata.offset_at(utc(2026, 11, 25, 12, 0)) == 19'800);
  BOOST_TEST(kolkata.offset_at(utc(1943, 1, 1, 0, 0)) == 23'400);  // war time, +06:30
  BOOST_TEST(kolkata.offset_at(utc(1900, 1, 1, 0, 0)) == 19'270);  // local mean time, +05:21:10
  const auto new_york = system_zone("America/New_York");
  BOOST_TEST(new_york.offset_at(utc(2026, 3, 8, 6, 59, 59)) == -5 * 3600);
  BOOST_TEST(new_york.offset_at(utc(2026, 3, 8, 7, 0)) == -4 * 3600);
  BOOST_TEST(new_york.offset_at(utc(2006, 4, 2, 7, 0)) == -4 * 3600);  // the rule before 2007
  BOOST_TEST(new_york.offset_at(utc(2006, 3, 12, 7, 0)) == -5 * 3600);
  // Past the file's table the rule at its end takes over.
  BOOST_TEST(new_york.offset_at(utc(2100, 7, 1, 12, 0)) == -4 * 3600);
  BOOST_TEST(new_york.offset_at(utc(2100, 1, 1, 12, 0)) == -5 * 3600);
  BOOST_TEST(system_zone("UTC").offset_at(utc(2026, 7, 1, 0, 0)) == 0);
}

BOOST_AUTO_TEST_CASE(local_times_back_to_instants_across_changes) {
  const auto rule_zone_bytes = [] {
    // A version 2 TZif with no transitions and only a rule: what "slim" files look like.
    std::string v1(44, '\0');
    v1.replace(0, 5, "TZif2");
    v1[39] = 1;                                        // typecnt = 1
    v1 += std::string("\xff\xff\xb9\xb0\x00\x00", 6);  // one type: -18000, standard, name index 0
    v1 += std::string("EST\0", 4);
    v1[43] = 4;  // charcnt = 4
    return v1 + v1 + "\nEST5EDT,M3.2.0,M11.1.0\n";
  }();
  const auto zone = TimeZone::from_tzif(rule_zone_bytes, "Test/Eastern");
  BOOST_TEST_REQUIRE(zone.has_value());
  BOOST_TEST(zone->to_utc(local(2026, 7, 1, 9, 0)) == utc(2026, 7, 1, 13, 0));
  BOOST_TEST(zone->to_utc(local(2026, 1, 1, 9, 0)) == utc(2026, 1, 1, 14, 0));
  // 02:30 does not exist on 2026-03-08: read with the offset before, it is 03:30 EDT.
  BOOST_TEST(zone->to_utc(local(2026, 3, 8, 2, 30)) == utc(2026, 3, 8, 7, 30));
  // 01:30 happens twice on 2026-11-01: the first (EDT).
  BOOST_TEST(zone->to_utc(local(2026, 11, 1, 1, 30)) == utc(2026, 11, 1, 5, 30));
  BOOST_TEST(zone->to_local(utc(2026, 7, 1, 13, 0)) == local(2026, 7, 1, 9, 0));
}

BOOST_AUTO_TEST_CASE(damaged_files_and_odd_names_are_refused) {
  BOOST_TEST(!TimeZone::from_tzif("", "x").has_value());
  BOOST_TEST(!TimeZone::from_tzif("TZif2 but far too short", "x").has_value());
  std::string header(44, '\0');
  header.replace(0, 5, "TZif2");
  header[35] = 10;  // ten transitions that are not there
  header[39] = 1;
  BOOST_TEST(!TimeZone::from_tzif(header + header, "x").has_value());
  BOOST_TEST(!load_time_zone("../../etc/passwd").zone.has_value());
  BOOST_TEST(!load_time_zone("/etc/passwd").zone.has_value());
  BOOST_TEST(!load_time_zone("Mars/Olympus_Mons").zone.has_value());
  BOOST_TEST(load_time_zone("Mars/Olympus_Mons").problem.find("Mars/Olympus_Mons") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
