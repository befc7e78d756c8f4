#include "providers/twilio/webhook.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers;

namespace {

http::FormFields callback(std::initializer_list<std::pair<std::string, std::string>> extra) {
  http::FormFields fields = {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                             {"ApiVersion", "2010-04-01"},
                             {"CallSid", "CA11"},
                             {"CallStatus", "completed"},
                             {"Direction", "outbound-api"},
                             {"From", "+14155550100"},
                             {"To", "+919876543210"},
                             {"CallbackSource", "call-progress-events"}};
  for (const auto& field : extra) {
    bool replaced = false;
    for (auto& existing : fields)
      if (existing.first == field.first) existing.second = field.second, replaced = true;
    if (!replaced) fields.push_back(field);
  }
  return fields;
}

std::string error_of(const std::variant<CallEvent, providers::twilio::WebhookError>& result) {
  const auto* error = std::get_if<providers::twilio::WebhookError>(&result);
  return error ? error->message : "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_webhook)

BOOST_AUTO_TEST_CASE(a_terminal_callback_fills_every_field) {
  auto result = providers::twilio::parse_status_callback(
      callback({{"SequenceNumber", "3"},
                {"Timestamp", "Wed, 25 Nov 2026 11:06:12 +0000"},
                {"CallDuration", "42"},
                {"Duration", "1"},
                {"SipResponseCode", "200"},
                {"AnsweredBy", "human"},
                {"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"}}),
      "lead-7", "idem-1");
  BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(result), error_of(result));
  const auto& event = std::get<CallEvent>(result);
  BOOST_TEST(event.provider == "twilio");
  BOOST_TEST(event.call_sid == "CA11");
  BOOST_TEST(event.lead_id == "lead-7");
  BOOST_TEST(event.idempotency_token == "idem-1");
  BOOST_TEST((event.status == CallStatus::completed));
  BOOST_TEST(event.raw_status == "completed");
  BOOST_TEST(*event.sequence_number == 3u);
  BOOST_TEST(event.event_time->time_since_epoch().count() ==
             std::chrono::duration_cast<WallClock::duration>(std::chrono::seconds(1'795'604'772)).count());
  BOOST_TEST(*event.duration_seconds == 42);  // CallDuration (seconds), not Duration (billed minutes)
  BOOST_TEST(*event.sip_code == 200);
  BOOST_TEST(event.answered_by == "human");
  BOOST_TEST(event.recording_url.ends_with("/Recordings/RE1"));
}

BOOST_AUTO_TEST_CASE(gather_results_are_kept) {
  auto result = providers::twilio::parse_status_callback(callback({{"CallStatus", "in-progress"},
                                                                   {"SpeechResult", "call me tomorrow"},
                                                                   {"Confidence", "0.92"},
                                                                   {"Digits", "1"}}),
                                                         "", "");
  const auto& event = std::get<CallEvent>(result);
  BOOST_TEST((event.status == CallStatus::in_progress));
  BOOST_TEST(event.speech_result == "call me tomorrow");
  BOOST_TEST(*event.confidence == 0.92);
  BOOST_TEST(event.digits == "1");
  BOOST_TEST(!event.sequence_number.has_value());
  BOOST_TEST(!event.event_time.has_value());
}

BOOST_AUTO_TEST_CASE(malformed_callbacks_say_what_is_wrong) {
  http::FormFields no_sid = callback({});
  no_sid.erase(no_sid.begin() + 2);
  BOOST_TEST(error_of(providers::twilio::parse_status_callback(no_sid, "", "")) == "CallSid is missing");
  BOOST_TEST(error_of(providers::twilio::parse_status_callback(callback({{"CallStatus", "answered"}}), "", "")) ==
             "CallStatus 'answered' is not a Twilio call status");
  BOOST_TEST(error_of(providers::twilio::parse_status_callback(callback({{"SequenceNumber", "-1"}}), "", "")) ==
             "SequenceNumber is not a whole number");
  BOOST_TEST(error_of(providers::twilio::parse_status_callback(callback({{"Timestamp", "yesterday"}}), "", "")) ==
             "Timestamp is not an RFC 2822 date-time");
  BOOST_TEST(error_of(providers::twilio::parse_status_callback(callback({{"CallDuration", "4x"}}), "", "")) ==
             "CallDuration is not a number of seconds");
  // Not inside [0, 1], "nan" included: it parses, fails every comparison,
  // and has no JSON to be written as.
  for (const char* bad :
       {"1.5", "-0.1", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "0x0.8", " 0.5", "0.5 ", "1e999"})
    BOOST_TEST(error_of(providers::twilio::parse_status_callback(callback({{"Confidence", bad}}), "", "")) ==
                   "Confidence is not a number from 0 to 1",
               bad);
  for (const char* good : {"0", "1", "0.5", "1e-3"})
    BOOST_TEST(std::holds_alternative<CallEvent>(
                   providers::twilio::parse_status_callback(callback({{"Confidence", good}}), "", "")),
               good);
}

BOOST_AUTO_TEST_CASE(rfc2822_times_with_zones) {
  const auto utc = providers::twilio::parse_rfc2822_time("Wed, 25 Nov 2026 11:06:12 +0000");
  BOOST_TEST_REQUIRE(utc.has_value());
  BOOST_TEST((*providers::twilio::parse_rfc2822_time("Wed, 25 Nov 2026 16:36:12 +0530") == *utc));
  BOOST_TEST((*providers::twilio::parse_rfc2822_time("25 Nov 2026 11:06:12 GMT") == *utc));
  BOOST_TEST((*providers::twilio::parse_rfc2822_time("Wed, 25 Nov 2026 06:06:12 -0500") == *utc));
  BOOST_TEST((*providers::twilio::parse_rfc2822_time("Thu, 01 Jan 1970 00:00:00 +0000") == WallTime()));
  BOOST_TEST((*providers::twilio::parse_rfc2822_time("Tue, 29 Feb 2028 00:00:00 +0000") ==
              WallTime(std::chrono::seconds(1'835'395'200))));
  for (const char* bad : {"", "Wed, 25 Nov 2026", "Wed, 25 Foo 2026 11:06:12 +0000", "Wed, 25 Nov 2026 25:06:12 +0000",
                          "Wed, 25 Nov 2026 11:06:12 EST", "Wed, 25 Nov 2026 11:06:12 +0000 extra"})
    BOOST_TEST(!providers::twilio::parse_rfc2822_time(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
