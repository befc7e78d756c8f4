// Exotel status callbacks in each format Exotel sends, and every way
// callgate can tell them from forgeries.
#include "providers/exotel/webhook.hpp"

#include "core/crypto.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;
using boost::asio::ip::make_address;
using callgate::providers::exotel::ExotelSettings;

namespace {

const char* kTerminalJson = R"({
  "CallSid": "b6cfaf2ba6f8e7ef1a8d5fbe1c2d3e4f",
  "EventType": "terminal",
  "Status": "completed",
  "DateCreated": "2026-11-25 16:30:01",
  "DateUpdated": "2026-11-25 16:31:12",
  "To": null,
  "From": "09876543210",
  "PhoneNumberSid": "08047112233",
  "StartTime": "2026-11-25 16:30:01",
  "EndTime": "2026-11-25 16:31:12",
  "Direction": "outbound-api",
  "RecordingUrl": "https://recordings.exotel.com/exotelrecordings/acme1/b6cf.mp3",
  "ConversationDuration": 64,
  "CustomField": "{\"leadId\":\"01JD3ZQ8X4V0R5M2K7N9P6T1YB\"}",
  "Legs": [{"Number": "09876543210", "Type": "single", "OnCallDuration": 64, "CauseCode": "NORMAL_CLEARING",
            "Cause": "16", "Status": "completed", "AnsweredBy": "Human"}]
})";

std::variant<CallEvent, providers::exotel::WebhookError> parse(std::string_view content_type, std::string_view body,
                                                               std::string_view lead_id = "") {
  const auto fields = providers::exotel::callback_fields(content_type, body);
  BOOST_TEST_REQUIRE(fields.has_value());
  return providers::exotel::parse_status_callback(*fields, lead_id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exotel_webhook)

BOOST_AUTO_TEST_CASE(a_terminal_json_callback) {
  auto parsed = parse("application/json", kTerminalJson);
  const auto* event = std::get_if<CallEvent>(&parsed);
  BOOST_TEST_REQUIRE(event != nullptr);
  BOOST_TEST(event->provider == "exotel");
  BOOST_TEST(event->call_sid == "b6cfaf2ba6f8e7ef1a8d5fbe1c2d3e4f");
  BOOST_TEST((event->status == CallStatus::completed));
  BOOST_TEST(event->raw_status == "completed");
  BOOST_TEST(event->lead_id == "01JD3ZQ8X4V0R5M2K7N9P6T1YB");
  BOOST_TEST(event->duration_seconds.value_or(-1) == 64);
  BOOST_TEST(event->recording_url == "https://recordings.exotel.com/exotelrecordings/acme1/b6cf.mp3");
  BOOST_TEST(event->answered_by == "human");
  // 16:31:12 in India is 11:01:12 UTC.
  BOOST_TEST_REQUIRE(event->event_time.has_value());
  BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(event->event_time->time_since_epoch()).count() ==
             1'795'604'472);
  BOOST_TEST(!event->sequence_number.has_value());
}

BOOST_AUTO_TEST_CASE(an_answered_event_is_in_progress) {
  auto parsed =
      parse("application/json",
            R"({"CallSid":"c1","EventType":"answered","Status":"in-progress","DateUpdated":"2026-11-25 16:30:09"})",
            "lead-from-url");
  const auto& event = std::get<CallEvent>(parsed);
  BOOST_TEST((event.status == CallStatus::in_progress));
  BOOST_TEST(event.lead_id == "lead-from-url");  // the URL's leadId wins over CustomField
  // Without a Status, EventType=answered still says what happened.
  auto no_status = parse("application/json", R"({"CallSid":"c1","EventType":"answered"})");
  BOOST_TEST((std::get<CallEvent>(no_status).status == CallStatus::in_progress));
}

BOOST_AUTO_TEST_CASE(form_encoded_callbacks_with_flattened_legs_and_odd_case) {
  auto parsed = parse("application/x-www-form-urlencoded",
                      "callsid=c2&status=no-answer&EventType=terminal&Legs%5B0%5D%5BStatus%5D=no-answer"
                      "&Legs%5B0%5D%5BOnCallDuration%5D=0&Legs%5B0%5D%5BAnsweredBy%5D=NA"
                      "&CustomField=01JD3ZQ8X4V0R5M2K7N9P6T1YC");
  const auto& event = std::get<CallEvent>(parsed);
  BOOST_TEST(event.call_sid == "c2");
  BOOST_TEST((event.status == CallStatus::no_answer));
  BOOST_TEST(event.duration_seconds.value_or(-1) == 0);
  BOOST_TEST(event.answered_by.empty());  // NA is no answer about who answered
  BOOST_TEST(event.lead_id == "01JD3ZQ8X4V0R5M2K7N9P6T1YC");
}

BOOST_AUTO_TEST_CASE(multipart_callbacks) {
  const std::string body =
      "--exo\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\nc3\r\n"
      "--exo\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\nbusy\r\n"
      "--exo\r\nContent-Disposition: form-data; name=\"Legs[0][AnsweredBy]\"\r\n\r\nMachine\r\n"
      "--exo--\r\n";
  auto parsed = parse("multipart/form-data; boundary=exo", body);
  const auto& event = std::get<CallEvent>(parsed);
  BOOST_TEST(event.call_sid == "c3");
  BOOST_TEST((event.status == CallStatus::busy));
  BOOST_TEST(event.answered_by == "machine");
}

BOOST_AUTO_TEST_CASE(every_exotel_status_maps) {
  const std::pair<const char*, CallStatus> table[] = {
      {"completed", CallStatus::completed},
      {"failed", CallStatus::failed},
      {"busy", CallStatus::busy},
      {"no-answer", CallStatus::no_answer},
      {"in-progress", CallStatus::in_progress},
      {"ringing", CallStatus::ringing},
      {"queued", CallStatus::queued},
      {"canceled", CallStatus::canceled},
      {"cancelled", CallStatus::canceled},
      {"Completed", CallStatus::completed},
      {"NO-ANSWER", CallStatus::no_answer},
  };
  for (const auto& [raw, expected] : table) {
    auto parsed = providers::exotel::parse_status_callback({{"CallSid", "c"}, {"Status", raw}}, "");
    BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(parsed), raw);
    BOOST_TEST((std::get<CallEvent>(parsed).status == expected), raw);
  }
}

BOOST_AUTO_TEST_CASE(malformed_callbacks_say_what_is_wrong) {
  BOOST_TEST(!providers::exotel::callback_fields("application/json", "{not json").has_value());
  BOOST_TEST(!providers::exotel::callback_fields("application/json", "[1,2]").has_value());
  BOOST_TEST(!providers::exotel::callback_fields("multipart/form-data", "--x--").has_value());
  BOOST_TEST(!providers::exotel::callback_fields("application/x-www-form-urlencoded", "a=%zz").has_value());
  auto no_sid = providers::exotel::parse_status_callback({{"Status", "completed"}}, "");
  BOOST_TEST(std::get<providers::exotel::WebhookError>(no_sid).message == "CallSid is missing");
  auto odd_status = providers::exotel::parse_status_callback({{"CallSid", "c"}, {"Status", "exploded"}}, "");
  BOOST_TEST(std::get<providers::exotel::WebhookError>(odd_status).message == "unknown Status 'exploded'");
  auto bad_duration = providers::exotel::parse_status_callback(
      {{"CallSid", "c"}, {"Status", "completed"}, {"ConversationDuration", "-3"}}, "");
  BOOST_TEST(std::holds_alternative<providers::exotel::WebhookError>(bad_duration));
}

BOOST_AUTO_TEST_CASE(exotel_times_are_read_as_india_time) {
  BOOST_TEST(!providers::exotel::parse_exotel_time("2026-11-25T16:31:12").has_value());
  BOOST_TEST(!providers::exotel::parse_exotel_time("2026-13-25 16:31:12").has_value());
  BOOST_TEST(!providers::exotel::parse_exotel_time("").has_value());
  const auto midnight = providers::exotel::parse_exotel_time("1970-01-01 05:30:00");
  BOOST_TEST_REQUIRE(midnight.has_value());
  BOOST_TEST(midnight->time_since_epoch().count() == 0);
}

BOOST_AUTO_TEST_CASE(lead_ids_in_custom_fields) {
  BOOST_TEST(providers::exotel::lead_id_from_custom_field(R"({"leadId":"L-1"})") == "L-1");
  BOOST_TEST(providers::exotel::lead_id_from_custom_field("L_2") == "L_2");
  BOOST_TEST(providers::exotel::lead_id_from_custom_field(R"({"other":"x"})") == "");
  BOOST_TEST(providers::exotel::lead_id_from_custom_field("has spaces and <tags>") == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exotel_webhook_authentication)

namespace {
ExotelSettings with_secret() {
  ExotelSettings exotel;
  exotel.webhook_secret = "whsec";
  return exotel;
}
constexpr std::string_view kCallbackUrl = "https://gw.example.in/webhook/exotel?leadId=01M8";

providers::exotel::WebhookCredentials credentials(std::string_view body = "{}") {
  return {"POST", kCallbackUrl, body, "", "", std::nullopt, make_address("203.0.113.9")};
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_request_hmac_in_hex_or_base64) {
  const std::string body = R"({"CallSid":"c1","Status":"completed"})";
  const auto digest = hmac_sha256("whsec", "POST\n" + std::string(kCallbackUrl) + "\n" + body);
  auto sent = credentials(body);
  const auto hex = hex_encode(digest);
  sent.signature = hex;
  BOOST_TEST(!providers::exotel::authentication_failure(with_secret(), sent).has_value());
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  sent.signature = upper;
  BOOST_TEST(!providers::exotel::authentication_failure(with_secret(), sent).has_value());
  const auto base64 = base64_encode(digest);
  sent.signature = base64;
  BOOST_TEST(!providers::exotel::authentication_failure(with_secret(), sent).has_value());
  sent.body = R"({"CallSid":"c1","Status":"failed"})";
  BOOST_TEST(providers::exotel::authentication_failure(with_secret(), sent).value_or("") == "bad_signature");
  sent.signature = "";
  BOOST_TEST(providers::exotel::authentication_failure(with_secret(), sent).value_or("") == "missing_signature");
}

// The body alone was signed: the query (leadId, CallSid, digits) could be
// changed under a good signature, and a GET with no body (the Passthru
// applet) carried one constant signature, a password that never changed
// (issue 18, defect 6).
BOOST_AUTO_TEST_CASE(the_signature_covers_the_method_and_the_whole_url_too) {
  const std::string body = R"({"CallSid":"c1","Status":"completed"})";
  auto sent = credentials(body);
  const auto signature = providers::exotel::request_signature("whsec", "POST", kCallbackUrl, body);
  sent.signature = signature;
  BOOST_TEST(!providers::exotel::authentication_failure(with_secret(), sent).has_value());
  sent.url = "https://gw.example.in/webhook/exotel?leadId=01M9";  // another lead
  BOOST_TEST(providers::exotel::authentication_failure(with_secret(), sent).value_or("") == "bad_signature");
  sent.url = kCallbackUrl;
  sent.method = "GET";
  BOOST_TEST(providers::exotel::authentication_failure(with_secret(), sent).value_or("") == "bad_signature");
  // Two passthru GETs with empty bodies and other digits: other signatures.
  const auto first =
      providers::exotel::request_signature("whsec", "GET", "https://gw.example.in/exotel/passthru?digits=1", "");
  const auto second =
      providers::exotel::request_signature("whsec", "GET", "https://gw.example.in/exotel/passthru?digits=2", "");
  BOOST_TEST(first != second);
  // And the body-only signature of old is refused.
  sent.method = "POST";
  const auto body_only = hex_encode(hmac_sha256("whsec", body));
  sent.signature = body_only;
  BOOST_TEST(providers::exotel::authentication_failure(with_secret(), sent).value_or("") == "bad_signature");
}

BOOST_AUTO_TEST_CASE(the_callback_token) {
  ExotelSettings exotel;
  exotel.webhook_auth.callback_token = "tok-123";
  auto sent = credentials();
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "missing_token");
  sent.token = "tok-124";
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "bad_token");
  sent.token = "tok-123";
  BOOST_TEST(!providers::exotel::authentication_failure(exotel, sent).has_value());
}

BOOST_AUTO_TEST_CASE(basic_credentials) {
  ExotelSettings exotel;
  exotel.webhook_auth.basic_username = "exotel";
  exotel.webhook_auth.basic_password = "s3cret";
  auto sent = credentials();
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "missing_credentials");
  const auto good = "Basic " + base64_encode("exotel:s3cret");
  sent.authorization = good;
  BOOST_TEST(!providers::exotel::authentication_failure(exotel, sent).has_value());
  const auto bad = "Basic " + base64_encode("exotel:guess");
  sent.authorization = bad;
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "bad_credentials");
  sent.authorization = "Basic !!!!";
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "bad_credentials");
}

BOOST_AUTO_TEST_CASE(source_addresses) {
  ExotelSettings exotel;
  exotel.webhook_auth.allowed_sources = {*NetworkRange::parse("203.0.113.0/24")};
  auto sent = credentials();
  BOOST_TEST(!providers::exotel::authentication_failure(exotel, sent).has_value());
  sent.peer = make_address("198.51.100.1");
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "source_not_allowed");
}

BOOST_AUTO_TEST_CASE(every_configured_check_must_pass) {
  ExotelSettings exotel = with_secret();
  exotel.webhook_auth.callback_token = "tok";
  exotel.webhook_auth.allowed_sources = {*NetworkRange::parse("203.0.113.0/24")};
  const std::string body = "{}";
  const auto signature = providers::exotel::request_signature("whsec", "POST", kCallbackUrl, body);
  auto sent = credentials(body);
  sent.signature = signature;
  sent.token = "tok";
  BOOST_TEST(!providers::exotel::authentication_failure(exotel, sent).has_value());
  sent.token = "nope";
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "bad_token");
  sent.token = "tok";
  sent.peer = make_address("198.51.100.1");
  BOOST_TEST(providers::exotel::authentication_failure(exotel, sent).value_or("") == "source_not_allowed");
}

BOOST_AUTO_TEST_CASE(no_check_at_all_lets_nothing_in_unless_development_says_so) {
  ExotelSettings exotel;
  BOOST_TEST(providers::exotel::authentication_failure(exotel, credentials()).value_or("") == "no_check_configured");
  exotel.webhook_auth.allow_unauthenticated = true;
  BOOST_TEST(!providers::exotel::authentication_failure(exotel, credentials()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
