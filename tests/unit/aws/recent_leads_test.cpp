// The store's memory of recent leads: what is kept comes back as kept,
// the least recently used goes first, a forgotten or oversized lead is
// not there, and nothing grows past its bounds.
#include "aws/recent_leads.hpp"

#include <boost/test/unit_test.hpp>

namespace callgate::aws {
namespace {

StoredLead stored(const std::string& id, std::int64_t version, std::size_t events = 0) {
  StoredLead kept;
  kept.lead.id = id;
  kept.version = version;
  kept.lead.events.resize(events);
  return kept;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recent_leads)

BOOST_AUTO_TEST_CASE(a_kept_lead_comes_back_with_its_latest_version) {
  RecentLeads recent(4, 8);
  BOOST_TEST(!recent.find("a").has_value());
  recent.keep(stored("a", 1));
  recent.keep(stored("a", 2));
  const auto found = recent.find("a");
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->version == 2);
  BOOST_TEST(recent.size() == 1u);
  recent.forget("a");
  BOOST_TEST(!recent.find("a").has_value());
  recent.forget("never kept");
  BOOST_TEST(recent.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_goes_first) {
  RecentLeads recent(3, 8);
  recent.keep(stored("a", 1));
  recent.keep(stored("b", 1));
  recent.keep(stored("c", 1));
  BOOST_TEST(recent.find("a").has_value());  // a is used: b is now the oldest
  recent.keep(stored("d", 1));
  BOOST_TEST(recent.size() == 3u);
  BOOST_TEST(!recent.find("b").has_value());
  BOOST_TEST(recent.find("a").has_value());
  BOOST_TEST(recent.find("c").has_value());
  BOOST_TEST(recent.find("d").has_value());
  for (int index = 0; index < 100; ++index) recent.keep(stored(std::to_string(1000 + index), 1));
  BOOST_TEST(recent.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_lead_with_too_many_events_is_not_kept_and_its_older_self_is_forgotten) {
  RecentLeads recent(4, 2);
  recent.keep(stored("a", 1, 2));
  BOOST_TEST(recent.find("a").has_value());
  recent.keep(stored("a", 2, 3));
  BOOST_TEST(!recent.find("a").has_value());  // version 1 would be stale
  RecentLeads none(0, 8);
  none.keep(stored("a", 1));
  BOOST_TEST(!none.find("a").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate::aws
