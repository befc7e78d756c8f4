#include "core/lead/lead_id.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <set>
#include <utility>

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

BOOST_AUTO_TEST_CASE(the_floor_of_a_time_sorts_before_its_ids_and_after_earlier_ones) {
  const WallTime time(std::chrono::milliseconds(1'795'604'472'123));
  const auto floor = lead_id_floor(time);
  BOOST_TEST(is_lead_id(floor));
  BOOST_TEST((lead_id_time(floor) == time));
  for (int index = 0; index < 50; ++index) {
    LeadIdGenerator at_time;
    LeadIdGenerator just_before;
    BOOST_TEST(floor <= at_time.next(time));
    BOOST_TEST(just_before.next(time - std::chrono::milliseconds(1)) < floor);
  }
  BOOST_TEST(lead_id_floor(WallTime{}) == std::string(26, '0'));
}

// The random part of an id as a 80-bit number's two halves (base-32 digits 10..25).
std::pair<std::uint64_t, std::uint64_t> random_part(const std::string& id) {
  constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::uint64_t high = 0, low = 0;
  for (std::size_t index = 10; index < 18; ++index) high = high * 32 + alphabet.find(id[index]);
  for (std::size_t index = 18; index < 26; ++index) low = low * 32 + alphabet.find(id[index]);
  return {high, low};
}

// Before, ids of one millisecond counted up from a seeded mt19937_64: one id
// gave away its neighbours. Now every id's 80 bits are fresh from the kernel.
BOOST_AUTO_TEST_CASE(ids_of_one_millisecond_are_unrelated_and_never_repeat) {
  LeadIdGenerator generator;
  const WallTime now(std::chrono::milliseconds(1'795'604'472'000));
  std::set<std::string> seen;
  std::array<int, 80> ones{};
  std::pair<std::uint64_t, std::uint64_t> previous{};
  int successors = 0;
  constexpr int kIds = 10'000;
  for (int index = 0; index < kIds; ++index) {
    const auto id = generator.next(now);
    BOOST_TEST_REQUIRE((lead_id_time(id) == now));
    seen.insert(id);
    const auto part = random_part(id);
    if (index > 0 && part.first == previous.first && part.second == previous.second + 1) ++successors;
    previous = part;
    for (int bit = 0; bit < 40; ++bit) {
      ones[static_cast<std::size_t>(bit)] += static_cast<int>((part.first >> bit) & 1u);
      ones[static_cast<std::size_t>(40 + bit)] += static_cast<int>((part.second >> bit) & 1u);
    }
  }
  BOOST_TEST(seen.size() == static_cast<std::size_t>(kIds));
  BOOST_TEST(successors == 0);
  // Every one of the 80 bits is set in about half the ids (binomial, 10,000
  // draws: 45-55 % is more than 10 standard deviations wide).
  for (const int count : ones) {
    BOOST_TEST(count > kIds * 45 / 100);
    BOOST_TEST(count < kIds * 55 / 100);
  }
}

BOOST_AUTO_TEST_CASE(a_clock_that_steps_back_does_not_take_ids_back_in_time) {
  LeadIdGenerator generator;
  const WallTime now(std::chrono::milliseconds(1'795'604'472'000));
  const auto first = generator.next(now);
  const auto after_step = generator.next(now - std::chrono::seconds(5));
  BOOST_TEST((lead_id_time(after_step) == now));
  BOOST_TEST(first.substr(0, 10) == after_step.substr(0, 10));
}

BOOST_AUTO_TEST_CASE(what_is_not_a_lead_id) {
  BOOST_TEST(!is_lead_id(""));
  BOOST_TEST(!is_lead_id("01M89GEGBQXW57F1EKQXC07AE"));   // 25
  BOOST_TEST(!is_lead_id("01M89GEGBQXW57F1EKQXC07AEU"));  // U is not Crockford
  BOOST_TEST(!is_lead_id("81M89GEGBQXW57F1EKQXC07AED"));  // beyond 128 bits
  BOOST_TEST(!is_lead_id("../../etc/passwd0000000000"));
  BOOST_TEST(is_lead_id("01M89GEGBQXW57F1EKQXC07AED"));
}

BOOST_AUTO_TEST_SUITE_END()
