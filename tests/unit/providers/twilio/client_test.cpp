#include "providers/twilio/client.hpp"
#include "providers/provider_answers.hpp"
#include "providers/twilio/settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers;

using testing::provider_answer;

BOOST_AUTO_TEST_SUITE(twilio_create_call)

BOOST_AUTO_TEST_CASE(a_201_with_a_call_sid_is_placed) {
  auto outcome = providers::twilio::classify_create_call_response(provider_answer(
      201, R"({"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued", "to": "+14155550100"})"));
  const auto* placed = std::get_if<Placed>(&outcome);
  BOOST_TEST_REQUIRE(placed != nullptr);
  BOOST_TEST(placed->call_sid == "CA0123456789abcdef0123456789abcdef");
  BOOST_TEST(placed->status == "queued");
}

BOOST_AUTO_TEST_CASE(success_without_a_call_sid_may_still_have_placed_a_call) {
  for (const char* body : {"", "not json", R"({"status": "queued"})", R"({"sid": 42})", R"(["CA1"])"})
    BOOST_TEST(
        std::holds_alternative<Ambiguous>(providers::twilio::classify_create_call_response(provider_answer(201, body))),
        body);
}

BOOST_AUTO_TEST_CASE(client_errors_are_rejected_with_twilios_code) {
  auto invalid = providers::twilio::classify_create_call_response(provider_answer(
      400,
      R"({"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})"));
  const auto* rejected = std::get_if<Rejected>(&invalid);
  BOOST_TEST_REQUIRE(rejected != nullptr);
  BOOST_TEST(rejected->code == 21211);
  BOOST_TEST(rejected->message.find("not a valid phone number") != std::string::npos);

  auto auth = providers::twilio::classify_create_call_response(
      provider_answer(401, R"({"code": 20003, "message": "Authenticate"})"));
  BOOST_TEST(std::get<Rejected>(auth).code == 20003);

  auto bare = providers::twilio::classify_create_call_response(provider_answer(404, "<html>not found</html>"));
  BOOST_TEST(std::get<Rejected>(bare).code == 404);
  BOOST_TEST(std::get<Rejected>(bare).message == "HTTP 404");
}

BOOST_AUTO_TEST_CASE(overload_and_server_errors_are_retryable) {
  auto limited = providers::twilio::classify_create_call_response(
      provider_answer(429, R"({"code": 20429, "message": "Too Many Requests"})", "3"));
  const auto* retry = std::get_if<Retryable>(&limited);
  BOOST_TEST_REQUIRE(retry != nullptr);
  BOOST_TEST(retry->retry_after.value_or(std::chrono::seconds(-1)).count() == 3);
  BOOST_TEST(retry->reason == "HTTP 429: Too Many Requests");

  auto no_header = providers::twilio::classify_create_call_response(provider_answer(429, ""));
  BOOST_TEST(!std::get<Retryable>(no_header).retry_after.has_value());
  for (unsigned status : {500u, 502u, 503u, 504u})
    BOOST_TEST(std::holds_alternative<Retryable>(
                   providers::twilio::classify_create_call_response(provider_answer(status, ""))),
               status);
}

BOOST_AUTO_TEST_CASE(transport_failures_split_on_whether_the_request_left) {
  ProviderResponse before;
  before.failure = TransportFailure::before_sending;
  before.failure_reason = "connect: connection refused";
  BOOST_TEST(std::holds_alternative<Retryable>(providers::twilio::classify_create_call_response(before)));

  ProviderResponse after;
  after.failure = TransportFailure::after_sending;
  after.failure_reason = "read: timed out";
  const auto outcome = providers::twilio::classify_create_call_response(after);
  BOOST_TEST_REQUIRE(std::holds_alternative<Ambiguous>(outcome));
  BOOST_TEST(std::get<Ambiguous>(outcome).reason.find("timed out") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(retry_after_accepts_only_delay_seconds) {
  BOOST_TEST(parse_retry_after_seconds("120")->count() == 120);
  BOOST_TEST(parse_retry_after_seconds(" 5 ")->count() == 5);
  BOOST_TEST(parse_retry_after_seconds("999999999")->count() == 86'400);
  for (const char* bad : {"", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "soon"})
    BOOST_TEST(!parse_retry_after_seconds(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()

// Settling an ambiguous placement: the list of calls to the number.
BOOST_AUTO_TEST_SUITE(twilio_list_calls)

CallLookup lookup_since(const std::string& iso) {
  CallLookup lookup;
  lookup.to = "+14155550100";
  lookup.since = *parse_iso8601(iso);
  lookup.known_call_sids = {"CA00000000000000000000000000000001"};
  return lookup;
}

BOOST_AUTO_TEST_CASE(the_request_asks_for_the_newest_calls_to_the_number) {
  Config config;
  twilio::settings_of(config).api_base = "https://api.twilio.com";
  twilio::settings_of(config).account_sid = "AC0123";
  twilio::settings_of(config).auth_token = "secret";
  const auto request = providers::twilio::build_list_calls_request(config, lookup_since("2026-11-25T10:00:00Z"));
  BOOST_TEST((request.method == boost::beast::http::verb::get));
  BOOST_TEST(request.url ==
             "https://api.twilio.com/2010-04-01/Accounts/AC0123/Calls.json?To=%2B14155550100&PageSize=50");
  BOOST_TEST(request.body.empty());
  BOOST_TEST_REQUIRE(request.headers.size() == 2u);
  BOOST_TEST(request.headers[0].first == "Authorization");
  BOOST_TEST(request.headers[0].second == "Basic QUMwMTIzOnNlY3JldA==");  // AC0123:secret
  BOOST_TEST(request.headers[1].second == "application/json");
}

BOOST_AUTO_TEST_CASE(the_earliest_new_call_to_the_number_is_the_one_sought) {
  const auto lookup = lookup_since("2026-11-25T10:00:00Z");
  const auto outcome = providers::twilio::classify_list_calls_response(provider_answer(200, R"({"calls": [
      {"sid": "CA00000000000000000000000000000004", "to": "+14155550100", "status": "ringing", "date_created": "Wed, 25 Nov 2026 10:00:09 +0000"},
      {"sid": "CA00000000000000000000000000000003", "to": "+14155550100", "status": "queued", "date_created": "Wed, 25 Nov 2026 10:00:02 +0000"},
      {"sid": "CA00000000000000000000000000000009", "to": "+14155550199", "status": "queued", "date_created": "Wed, 25 Nov 2026 10:00:01 +0000"},
      {"sid": "CA00000000000000000000000000000001", "to": "+14155550100", "status": "busy", "date_created": "Wed, 25 Nov 2026 10:00:00 +0000"},
      {"sid": "CA00000000000000000000000000000002", "to": "+14155550100", "status": "completed", "date_created": "Wed, 25 Nov 2026 09:50:00 +0000"}
    ], "page": 0})"),
                                                                       lookup);
  const auto* found = std::get_if<FoundCall>(&outcome);
  BOOST_TEST_REQUIRE(found != nullptr);
  BOOST_TEST(found->call_sid ==
             "CA00000000000000000000000000000003");  // not another number's, not a known or older one
  BOOST_TEST(found->raw_status == "queued");
  BOOST_TEST((found->status == CallStatus::queued));
}

BOOST_AUTO_TEST_CASE(a_list_without_the_call_says_so_and_failures_settle_nothing) {
  const auto lookup = lookup_since("2026-11-25T10:00:00Z");
  BOOST_TEST(std::holds_alternative<NoSuchCall>(
      providers::twilio::classify_list_calls_response(provider_answer(200, R"({"calls": []})"), lookup)));
  BOOST_TEST(std::holds_alternative<NoSuchCall>(
      providers::twilio::classify_list_calls_response(provider_answer(200, R"({"calls": [
      {"sid": "CA00000000000000000000000000000002", "to": "+14155550100", "status": "completed", "date_created": "Wed, 25 Nov 2026 09:58:59 +0000"}]})"),
                                                      lookup)));
  // A date that does not parse: taken as the call (better no call than two).
  BOOST_TEST(std::holds_alternative<FoundCall>(
      providers::twilio::classify_list_calls_response(provider_answer(200, R"({"calls": [
      {"sid": "CA00000000000000000000000000000005", "to": "+14155550100", "status": "queued", "date_created": "yesterday"}]})"),
                                                      lookup)));
  for (const auto& [status, body] :
       std::vector<std::pair<unsigned, std::string>>{{200, "not json"},
                                                     {200, R"({"calls": 3})"},
                                                     {200, "{}"},
                                                     {401, R"({"code": 20003, "message": "Authenticate"})"},
                                                     {503, ""}}) {
    const auto outcome = providers::twilio::classify_list_calls_response(provider_answer(status, body), lookup);
    BOOST_TEST(std::holds_alternative<LookupFailed>(outcome), status << " " << body);
  }
  ProviderResponse dropped;
  dropped.failure = TransportFailure::after_sending;
  dropped.failure_reason = "read: timed out";
  BOOST_TEST(std::get<LookupFailed>(providers::twilio::classify_list_calls_response(dropped, lookup)).reason ==
             "no answer: read: timed out");
  BOOST_TEST(std::get<LookupFailed>(providers::twilio::classify_list_calls_response(
                                        provider_answer(401, R"({"message": "Authenticate"})"), lookup))
                 .reason == "HTTP 401: Authenticate");
}

BOOST_AUTO_TEST_SUITE_END()
