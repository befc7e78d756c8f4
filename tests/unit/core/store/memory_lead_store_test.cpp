// The memory backend's behaviour; the shared conformance suite for every
// backend comes with the journal and Redis stores.
#include "core/store/memory_lead_store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate;

namespace {

template <class T>
T run(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.run();
  return future.get();
}

Lead new_lead(std::string id) {
  Lead lead;
  lead.id = std::move(id);
  lead.phone = "+14155550123";
  return lead;
}

CallEvent event(std::string sid, CallStatus status, std::uint64_t sequence) {
  CallEvent made;
  made.provider = "twilio";
  made.call_sid = std::move(sid);
  made.status = status;
  made.sequence_number = sequence;
  return made;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memory_lead_store)

BOOST_AUTO_TEST_CASE(an_idempotency_key_returns_the_first_lead) {
  MemoryLeadStore store;
  auto first = run(store.create(new_lead("L1"), "key-1"));
  BOOST_TEST(std::get<CreateResult>(first).created);
  auto again = run(store.create(new_lead("L2"), "key-1"));
  BOOST_TEST(!std::get<CreateResult>(again).created);
  BOOST_TEST(std::get<CreateResult>(again).lead.id == "L1");
  BOOST_TEST((std::get<StoreError>(run(store.get("L2"))).failure == StoreFailure::not_found));
  BOOST_TEST((std::get<StoreError>(run(store.create(new_lead("L1"), ""))).failure == StoreFailure::conflict));
}

BOOST_AUTO_TEST_CASE(events_apply_through_the_state_machine) {
  MemoryLeadStore store;
  run(store.create(new_lead("L1"), ""));
  Attempt attempt;
  attempt.provider = "twilio";
  attempt.call_sid = "CA1";
  run(store.add_attempt("L1", attempt));
  auto applied = std::get<ApplyResult>(run(store.apply_event(event("CA1", CallStatus::ringing, 1), WallTime{})));
  BOOST_TEST((applied.outcome == EventOutcome::applied));
  BOOST_TEST(applied.lead_id == "L1");
  auto again = std::get<ApplyResult>(run(store.apply_event(event("CA1", CallStatus::ringing, 1), WallTime{})));
  BOOST_TEST((again.outcome == EventOutcome::duplicate));
  const auto lead = std::get<Lead>(run(store.get("L1")));
  BOOST_TEST((lead.status == LeadStatus::ringing));
  BOOST_TEST(lead.events.size() == 1u);
  BOOST_TEST(std::get<std::optional<std::string>>(run(store.find_lead_by_call_sid("CA1"))).value_or("") == "L1");
}

BOOST_AUTO_TEST_CASE(orphans_wait_for_their_attempt) {
  MemoryLeadStore store;
  run(store.create(new_lead("L1"), ""));
  auto orphan = std::get<ApplyResult>(run(store.apply_event(event("CA9", CallStatus::completed, 3), WallTime{})));
  BOOST_TEST((orphan.outcome == EventOutcome::unknown_call));
  BOOST_TEST(store.orphan_count() == 1u);
  Attempt attempt;
  attempt.call_sid = "CA9";
  const auto lead = std::get<Lead>(run(store.add_attempt("L1", attempt)));
  BOOST_TEST((lead.status == LeadStatus::completed));
  BOOST_TEST(store.orphan_count() == 0u);
}

BOOST_AUTO_TEST_CASE(call_flow_input_is_kept_with_the_lead) {
  MemoryLeadStore store;
  run(store.create(new_lead("L1"), ""));
  CallFlowInput input;
  input.digits = "1";
  input.speech_result = "I want a callback tomorrow";
  input.confidence = 0.92;
  BOOST_TEST(std::get<Lead>(run(store.record_call_flow_input("L1", input))).call_flow_inputs.size() == 1u);
  BOOST_TEST((std::get<StoreError>(run(store.record_call_flow_input("nope", input))).failure == StoreFailure::not_found));
}

BOOST_AUTO_TEST_SUITE_END()
