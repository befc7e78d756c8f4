#include "core/events/lead_events.hpp"

#include "lead_store_test_helpers.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::events;
using namespace callgate::conformance;

namespace {
boost::json::object payload_of(const LeadEvent& event) { return boost::json::parse(event.payload).as_object(); }
}  // namespace

BOOST_AUTO_TEST_SUITE(lead_events)

BOOST_AUTO_TEST_CASE(a_new_lead_is_told_with_its_contact_and_metadata) {
  const auto lead = make_lead("01LEAD");
  const auto event = lead_created_event(lead);
  BOOST_TEST(event.id == "evt_01LEAD_created");
  BOOST_TEST(event.type == "lead.created");
  BOOST_TEST(event.lead_id == "01LEAD");
  BOOST_TEST((event.at == lead.created));
  BOOST_TEST(event.payload ==
             R"({"type":"lead.created","timestamp":"2026-09-21T14:13:20.000Z","data":{"leadId":"01LEAD",)"
             R"("phone":"+14155550123","name":"Asha","metadata":{"campaign":"diwali"},)"
             R"("consentGivenAt":"2026-09-21T14:13:20.000Z"}})");
}

BOOST_AUTO_TEST_CASE(calls_and_their_statuses_have_ids_made_of_what_changed) {
  auto lead = make_lead("01LEAD");
  lead.attempts.push_back(make_attempt("CA1", 1));
  auto failed = make_attempt("", 2);
  failed.error = "twilio: 21211 invalid number";
  lead.attempts.push_back(failed);

  const auto placed = call_attempt_event(lead, 0);
  BOOST_TEST(placed.id == "evt_01LEAD_call1_placed");
  BOOST_TEST(placed.type == "call.placed");
  BOOST_TEST(payload_of(placed).at("data").at("callSid").as_string() == "CA1");
  const auto not_placed = call_attempt_event(lead, 1);
  BOOST_TEST(not_placed.id == "evt_01LEAD_call2_not_placed");
  BOOST_TEST(not_placed.type == "call.not_placed");
  BOOST_TEST(payload_of(not_placed).at("data").at("error").as_string() == "twilio: 21211 invalid number");

  auto in_progress = make_event("CA1", CallStatus::in_progress, 2);
  in_progress.raw_status = "in-progress";
  in_progress.answered_by = "human";
  const auto status = call_status_event(lead, 0, {in_progress, at(30), EventOutcome::applied});
  BOOST_TEST(status.id == "evt_01LEAD_call1_in-progress");
  BOOST_TEST(status.type == "call.status");
  const auto data = payload_of(status).at("data").as_object();
  BOOST_TEST(data.at("call").as_int64() == 1);
  BOOST_TEST(data.at("status").as_string() == "in-progress");
  BOOST_TEST(data.at("answeredBy").as_string() == "human");
  BOOST_TEST(payload_of(status).at("timestamp").as_string() == "2026-09-21T14:13:50.000Z");
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_are_replaced_so_every_parser_reads_the_payload) {
  auto lead = make_lead("01LEAD");
  lead.attempts.push_back(make_attempt("CA1", 1));
  auto event = make_event("CA1", CallStatus::ringing, 1);
  event.raw_status = "ring\xff\xfeing";
  const auto status = call_status_event(lead, 0, {event, at(5), EventOutcome::applied});
  boost::system::error_code error;
  boost::json::parse(status.payload, error);  // Boost.JSON refuses invalid UTF-8
  BOOST_TEST(!error);
}

BOOST_AUTO_TEST_CASE(updates_that_tell_the_business_something_become_events) {
  auto lead = make_lead("01LEAD");
  CallFlowInput input{"twilio", "CA1", "2", "", std::nullopt, "", at(40)};
  lead.call_flow_inputs.push_back(input);
  const auto told = lead_update_event(lead, LeadUpdate(input));
  BOOST_REQUIRE(told.has_value());
  BOOST_TEST(told->id == "evt_01LEAD_input1");
  BOOST_TEST(told->type == "call.input");

  MediaStream stream{"nonce", "CA1", "twilio", "MZ1", at(41), std::nullopt, "", ""};
  BOOST_TEST(!lead_update_event(lead, LeadUpdate(stream)).has_value());
}

BOOST_AUTO_TEST_CASE(the_dialers_decisions) {
  auto lead = make_lead("01LEAD");
  lead.status = LeadStatus::no_answer;
  lead.attempts.push_back(make_attempt("CA1", 1));
  const auto redial = redial_scheduled_event("01LEAD", 2, at(100), "redial: no-answer", at(60));
  BOOST_TEST(redial.id == "evt_01LEAD_call2_scheduled");
  BOOST_TEST(payload_of(redial).at("data").at("due").as_string() == "2026-09-21T14:15:00.000Z");
  const auto failed = lead_failed_event(lead, "no more calls", at(60));
  BOOST_TEST(failed.id == "evt_01LEAD_failed");
  BOOST_TEST(payload_of(failed).at("data").at("status").as_string() == "no-answer");
}

BOOST_AUTO_TEST_SUITE_END()
