#include "core/lead/lead_id.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(lead_id)

BOOST_AUTO_TEST_CASE(ids_carry_their_time_and_sort_by_it) {
  LeadIdGenerator generator;
  const WallTime first(std::chrono::milliseconds(1'795'604'472'123));
  const auto id = generator.next(first);
  BOOST_TEST(id.size() == 26u);
  BOOST_TEST(is_lead_id(id));
  BOOST_TEST((lead_id_time(id) == first));
  const auto later = generator.next(first + std::chrono::milliseconds(1));
  BOOST_TEST(id < later);
}

BOOST_AUTO_TEST_CASE(within_one_millisecond_ids_still_go_up_and_never_repeat) {
  LeadIdGenerator generator;
  const WallTime now(std::chrono::milliseconds(1'795'604'472'000));
  std::set<std::string> seen;
  std::string previous;
  for (int index = 0; index < 10'000; ++index) {
    const auto id = generator.next(now);
    BOOST_TEST_REQUIRE(previous < id);
    previous = id;
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 10'000u);
}

BOOST_AUTO_TEST_CASE(what_is_not_a_lead_id) {
  BOOST_TEST(!is_lead_id(""));
  BOOST_TEST(!is_lead_id("01M89GEGBQXW57F1EKQXC07AE"));    // 25
  BOOST_TEST(!is_lead_id("01M89GEGBQXW57F1EKQXC07AEU"));   // U is not Crockford
  BOOST_TEST(!is_lead_id("81M89GEGBQXW57F1EKQXC07AED"));   // beyond 128 bits
  BOOST_TEST(!is_lead_id("../../etc/passwd0000000000"));
  BOOST_TEST(is_lead_id("01M89GEGBQXW57F1EKQXC07AED"));
}

BOOST_AUTO_TEST_SUITE_END()
