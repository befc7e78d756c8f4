// Upgrades: a journal written by release 0.1.0 (tests/fixtures/journal-0.1.0,
// its lead records of every kind) is read by this build to the same leads.
// A change to the record format that loses or misreads what 0.1.0 wrote
// fails here; a deliberate change adds a reader for the old records and a
// fixture of its own, and says what a downgrade does (README, "The
// embedded store on disk").
//
// The fixture was written by this file's recipe (write_release_journal)
// with the 0.1.0 build: CALLGATE_WRITE_JOURNAL_FIXTURE=DIR runs it again.
#include "core/store/journal_lead_store.hpp"
#include "core/store/journal_record.hpp"

#include "lead_store_test_helpers.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

using namespace callgate;
using namespace callgate::store;
using namespace callgate::conformance;

namespace {

const std::filesystem::path kFixture = std::filesystem::path(CALLGATE_SOURCE_DIR) / "tests/fixtures/journal-0.1.0";

CallFlowInput pressed(const std::string& call_sid, const std::string& digits, int when) {
  CallFlowInput input;
  input.provider = "twilio";
  input.call_sid = call_sid;
  input.digits = digits;
  input.received = at(when);
  return input;
}

// Every kind of lead record: leads (one with an Idempotency-Key), attempts
// (placed, and refused with an error), events in and out of order and
// repeated, a call-flow input, and an orphan that waits.
void write_release_journal(const std::string& directory) {
  JournalLeadStore store(JournalStoreOptions{.directory = directory});
  expect(
      run(store.create({make_lead("01JDA0000000000000000000A1", "+919876543210", 0), "client|key-1", std::nullopt})));
  expect(run(store.create({make_lead("01JDA0000000000000000000B2", "+14155550123", 5), "", std::nullopt})));
  expect(run(store.add_attempt("01JDA0000000000000000000A1", make_attempt("CA1", 1), LeadStatus::dialing)));
  for (const auto& [status, sequence] :
       {std::pair{CallStatus::ringing, 1}, std::pair{CallStatus::initiated, 0}, std::pair{CallStatus::in_progress, 2},
        std::pair{CallStatus::ringing, 1}, std::pair{CallStatus::completed, 3}})
    expect(run(
        store.apply_event(make_event("CA1", status, static_cast<std::uint64_t>(sequence), "01JDA0000000000000000000A1"),
                          at(10 + sequence))));
  expect(run(store.record_call_flow_input("01JDA0000000000000000000A1", pressed("CA1", "1", 12))));
  auto refused = make_attempt("", 6);
  refused.error = "rejected 21210: The source phone number provided is not yet verified for your account";
  expect(run(store.add_attempt("01JDA0000000000000000000B2", refused, LeadStatus::failed)));
  expect(run(store.apply_event(make_event("CA-ORPHAN", CallStatus::ringing, 1), at(20))));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal_upgrade)

BOOST_AUTO_TEST_CASE(a_journal_written_by_release_0_1_0_reads_back_whole) {
  if (const char* target = std::getenv("CALLGATE_WRITE_JOURNAL_FIXTURE")) {
    write_release_journal(target);
    BOOST_TEST_MESSAGE("wrote a fixture journal in " << target);
  }
  BOOST_TEST_REQUIRE(std::filesystem::exists(kFixture / "leads.journal"), "the fixture is missing");
  // Opened on a copy: the store may compact or lay out room in its file.
  const auto copy =
      std::filesystem::temp_directory_path() / ("callgate-upgrade-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  std::filesystem::copy_file(kFixture / "leads.journal", copy / "leads.journal");
  {
    JournalLeadStore store(JournalStoreOptions{.directory = copy.string()});
    const auto called = expect(run(store.get("01JDA0000000000000000000A1")));
    BOOST_TEST(called.phone == "+919876543210");
    BOOST_TEST(called.name == "Asha");
    BOOST_TEST(called.metadata_json == R"({"campaign":"diwali"})");
    BOOST_TEST(called.consent.client_address == "203.0.113.9");
    BOOST_TEST((called.status == LeadStatus::completed));
    BOOST_TEST_REQUIRE(called.attempts.size() == 1u);
    BOOST_TEST(called.attempts[0].call_sid == "CA1");
    BOOST_TEST((called.attempts[0].status == CallStatus::completed));
    BOOST_TEST(called.attempts[0].answered.has_value());
    BOOST_TEST_REQUIRE(called.events.size() == 4u);  // the repeated ringing recorded once
    BOOST_TEST((called.events[0].outcome == EventOutcome::applied));
    BOOST_TEST((called.events[1].outcome == EventOutcome::out_of_order));  // initiated after ringing
    BOOST_TEST_REQUIRE(called.call_flow_inputs.size() == 1u);
    BOOST_TEST(called.call_flow_inputs[0].digits == "1");
    // The Idempotency-Key still finds its lead.
    const auto again = expect(run(
        store.create({make_lead("01JDA0000000000000000000C3", "+919876543210", 30), "client|key-1", std::nullopt})));
    BOOST_TEST(!again.created);
    BOOST_TEST(again.lead.id == "01JDA0000000000000000000A1");

    const auto refused = expect(run(store.get("01JDA0000000000000000000B2")));
    BOOST_TEST((refused.status == LeadStatus::failed));
    BOOST_TEST_REQUIRE(refused.attempts.size() == 1u);
    BOOST_TEST(refused.attempts[0].error.find("21210") != std::string::npos);
    // The orphan waited: a call that finds its lead now takes it.
    expect(run(store.add_attempt("01JDA0000000000000000000B2", make_attempt("CA-ORPHAN", 30), LeadStatus::dialing)));
    const auto adopted = expect(run(store.get("01JDA0000000000000000000B2")));
    BOOST_TEST_REQUIRE(adopted.events.size() == 1u);
    BOOST_TEST((adopted.events[0].event.status == CallStatus::ringing));
  }
  std::filesystem::remove_all(copy);
}

BOOST_AUTO_TEST_SUITE_END()
