// What the in-memory table does beyond the shared conformance suite: it
// lets orphan events go by count and by age, and a picture of it stays as
// it was while the table changes.
#include "core/store/lead_table.hpp"

#include "core/lead/lead_json.hpp"

#include "lead_store_test_helpers.hpp"

using namespace callgate;
using namespace callgate::store;
using namespace callgate::conformance;

namespace {

bool has_orphan(const store::LeadTable::Picture& picture, const std::string& call_sid) {
  for (const auto& orphan : picture.orphans.orphans) {
    boost::system::error_code error;
    const auto event = call_event_from_json(parse_stored_json(orphan.event_json, error));
    if (!error && event && event->call_sid == call_sid) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lead_table)

BOOST_AUTO_TEST_CASE(orphans_beyond_the_count_limit_go_oldest_first) {
  store::LeadTable table(store::OrphanLimits{3, std::chrono::hours(1)});
  for (int index = 1; index <= 5; ++index)
    BOOST_TEST(
        (table.apply_event(make_event("CA" + std::to_string(index), CallStatus::ringing, 1), at(index)).outcome ==
         EventOutcome::unknown_call));
  BOOST_TEST(table.orphans_in_memory() == 3u);
  BOOST_TEST(table.orphans_let_go() == 2u);
  const auto picture = table.picture();
  BOOST_TEST(!has_orphan(picture, "CA1"));
  BOOST_TEST(!has_orphan(picture, "CA2"));
  BOOST_TEST(has_orphan(picture, "CA3"));
  BOOST_TEST(has_orphan(picture, "CA5"));

  // A let-go orphan is not attached any more; a kept one is.
  table.create({make_lead("01A"), "", std::nullopt});
  table.create({make_lead("01B", "+14155550124"), "", std::nullopt});
  BOOST_TEST(
      (expect(table.add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing)).status == LeadStatus::dialing));
  BOOST_TEST(
      (expect(table.add_attempt("01B", make_attempt("CA4"), LeadStatus::dialing)).status == LeadStatus::ringing));
  BOOST_TEST(table.orphans_in_memory() == 2u);
}

BOOST_AUTO_TEST_CASE(orphans_older_than_the_wait_go_when_a_newer_one_arrives) {
  store::LeadTable table(store::OrphanLimits{1000, std::chrono::seconds(60)});
  table.apply_event(make_event("CA-old", CallStatus::ringing, 1), at(0));
  table.apply_event(make_event("CA-mid", CallStatus::ringing, 1), at(30));
  BOOST_TEST(table.orphans_in_memory() == 2u);
  table.apply_event(make_event("CA-new", CallStatus::ringing, 1), at(61));
  BOOST_TEST(table.orphans_in_memory() == 2u);
  BOOST_TEST(!has_orphan(table.picture(), "CA-old"));
  BOOST_TEST(has_orphan(table.picture(), "CA-mid"));
}

BOOST_AUTO_TEST_CASE(adopted_orphans_do_not_count_twice_against_the_limit) {
  store::LeadTable table(store::OrphanLimits{2, std::chrono::hours(1)});
  table.create({make_lead("01A"), "", std::nullopt});
  table.apply_event(make_event("CA1", CallStatus::ringing, 1), at(1));
  table.add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing);  // adopts CA1
  table.apply_event(make_event("CA2", CallStatus::ringing, 1), at(2));
  table.apply_event(make_event("CA3", CallStatus::ringing, 1), at(3));
  // CA1's place in the arrival order goes first, not CA2.
  BOOST_TEST(table.orphans_in_memory() == 2u);
  BOOST_TEST(table.orphans_let_go() == 0u);
  BOOST_TEST(has_orphan(table.picture(), "CA2"));
  BOOST_TEST(expect(table.get("01A")).events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_picture_keeps_what_the_table_held_when_it_was_taken) {
  store::LeadTable table;
  table.create({make_lead("01A"), "key-1", std::nullopt});
  table.add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing);
  const auto picture = table.picture();
  table.apply_event(make_event("CA1", CallStatus::ringing, 1), at(5));
  table.apply_event(make_event("CA1", CallStatus::completed, 2), at(6));
  table.create({make_lead("01B", "+14155550124"), "", std::nullopt});

  BOOST_TEST_REQUIRE(picture.leads.size() == 1u);
  BOOST_TEST(picture.leads[0].idempotency_key == "key-1");
  BOOST_TEST((picture.leads[0].lead->status == LeadStatus::dialing));
  BOOST_TEST(picture.leads[0].lead->events.empty());
  const auto now = expect(table.get("01A"));
  BOOST_TEST((now.status == LeadStatus::completed));
  BOOST_TEST(now.events.size() == 2u);
  BOOST_TEST(table.picture().leads.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
