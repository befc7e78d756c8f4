// What callgate sends Exotel and how each answer is taken.
#include "providers/exotel/client.hpp"
#include "providers/provider_answers.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;

using testing::provider_answer;

BOOST_AUTO_TEST_SUITE(exotel_client)

BOOST_AUTO_TEST_CASE(the_flow_url_comes_from_the_flow_id_unless_given) {
  exotel::ExotelSettings settings;
  settings.account_sid = "acme1";
  settings.flow_id = "2345";
  BOOST_TEST(providers::exotel::flow_url(settings) == "http://my.exotel.com/acme1/exoml/start_voice/2345");
  settings.call_flow_url = "http://my.exotel.com/acme1/exoml/start_voice/99";
  BOOST_TEST(providers::exotel::flow_url(settings) == "http://my.exotel.com/acme1/exoml/start_voice/99");
}

BOOST_AUTO_TEST_CASE(the_callback_url_carries_token_and_credentials_when_configured) {
  Config config;
  config.server.public_base_url = "https://gw.example.com";
  BOOST_TEST(providers::exotel::status_callback_url(config, "L1") == "https://gw.example.com/webhook/exotel?leadId=L1");
  exotel::settings_of(config).webhook_auth.callback_token = "t0k/en";
  exotel::settings_of(config).webhook_auth.basic_username = "exotel";
  exotel::settings_of(config).webhook_auth.basic_password = "p@ss";
  BOOST_TEST(providers::exotel::status_callback_url(config, "L1") ==
             "https://exotel:p%40ss@gw.example.com/webhook/exotel?leadId=L1&token=t0k%2Fen");
}

BOOST_AUTO_TEST_CASE(the_custom_field_is_json_within_128_characters) {
  const auto field = providers::exotel::custom_field_for("01JD3ZQ8X4V0R5M2K7N9P6T1YB");
  BOOST_TEST(field == R"({"leadId":"01JD3ZQ8X4V0R5M2K7N9P6T1YB"})");
  BOOST_TEST(providers::exotel::custom_field_for(std::string(500, 'x')).size() <= 128u);
  BOOST_TEST(boost::json::parse(providers::exotel::custom_field_for("a\"b")).as_object().at("leadId").as_string() ==
             "a\"b");
}

BOOST_AUTO_TEST_CASE(answers_are_classified_exactly) {
  struct Case {
    unsigned status;
    const char* body;
    const char* expected;  // placed / retryable / ambiguous / rejected
    int code;
  };
  const Case cases[] = {
      {200, R"({"Call":{"Sid":"abc123","Status":"in-progress"}})", "placed", 0},
      {200, "<TwilioResponse><Call><Sid>xyz</Sid><Status>queued</Status></Call></TwilioResponse>", "placed", 0},
      {200, R"({"Call":{"Status":"in-progress"}})", "ambiguous", 0},
      {200, "not json", "ambiguous", 0},
      {400, R"({"RestException":{"Status":400,"Message":"Invalid From","Code":34001}})", "rejected", 34001},
      {401, R"({"RestException":{"Status":401,"Message":"Authentication required"}})", "rejected", 401},
      {402, R"({"RestException":{"Status":402,"Message":"Payment required","Code":"402"}})", "rejected", 402},
      {403, "<TwilioResponse><RestException><Message>Forbidden</Message></RestException></TwilioResponse>", "rejected",
       403},
      {404, "", "rejected", 404},
      {429, R"({"RestException":{"Status":429,"Message":"Too many requests"}})", "retryable", 0},
      {500, "", "retryable", 0},
      {502, "<html>bad gateway</html>", "retryable", 0},
  };
  for (const auto& each : cases) {
    const auto outcome = providers::exotel::classify_connect_call_response(provider_answer(each.status, each.body));
    const std::string got = std::holds_alternative<Placed>(outcome)      ? "placed"
                            : std::holds_alternative<Retryable>(outcome) ? "retryable"
                            : std::holds_alternative<Ambiguous>(outcome) ? "ambiguous"
                                                                         : "rejected";
    BOOST_TEST(got == each.expected, each.status << " " << each.body);
    if (const auto* rejected = std::get_if<Rejected>(&outcome)) BOOST_TEST(rejected->code == each.code, each.body);
  }
}

BOOST_AUTO_TEST_CASE(retry_after_is_kept_and_transport_failures_are_split_by_whether_the_request_left) {
  const auto limited = providers::exotel::classify_connect_call_response(provider_answer(429, "", "30"));
  BOOST_TEST((std::get<Retryable>(limited).retry_after == std::chrono::seconds(30)));
  ProviderResponse before;
  before.failure = TransportFailure::before_sending;
  before.failure_reason = "connection refused";
  BOOST_TEST(std::holds_alternative<Retryable>(providers::exotel::classify_connect_call_response(before)));
  ProviderResponse after;
  after.failure = TransportFailure::after_sending;
  after.failure_reason = "timed out";
  BOOST_TEST(std::holds_alternative<Ambiguous>(providers::exotel::classify_connect_call_response(after)));
}

BOOST_AUTO_TEST_SUITE_END()

// Settling an ambiguous placement: bulk call details From the customer.
BOOST_AUTO_TEST_SUITE(exotel_list_calls)

BOOST_AUTO_TEST_CASE(the_request_filters_by_the_customer_and_india_time) {
  Config config;
  exotel::settings_of(config).api_base = "https://api.in.exotel.com";
  exotel::settings_of(config).account_sid = "acme1";
  exotel::settings_of(config).api_key = "key";
  exotel::settings_of(config).api_token = "token";
  CallLookup lookup;
  lookup.to = "+919876543210";
  lookup.since = *parse_iso8601("2026-11-25T10:00:30Z");  // 15:30:30 in India; asked from a minute earlier
  const auto request = providers::exotel::build_list_calls_request(config, lookup);
  BOOST_TEST((request.method == boost::beast::http::verb::get));
  BOOST_TEST(request.url ==
             "https://api.in.exotel.com/v1/Accounts/acme1/"
             "Calls.json?From=%2B919876543210&DateCreated=gte%3A2026-11-25+15%3A29%3A30&PageSize=50");
  BOOST_TEST(request.headers.at(0).second == "Basic a2V5OnRva2Vu");  // key:token
}

BOOST_AUTO_TEST_CASE(the_listed_call_is_found_with_exotels_status_words) {
  CallLookup lookup;
  lookup.to = "+919876543210";
  lookup.since = *parse_iso8601("2026-11-25T10:00:30Z");
  const auto outcome =
      providers::exotel::classify_list_calls_response(provider_answer(200, R"({"Metadata": {"Total": 1},
      "Calls": [{"Sid": "b6cfaf5f5cef3ca0fc937749ef96d245", "DateCreated": "2026-11-25 15:30:31", "From": "09876543210", "Status": "no-answer"}]})"),
                                                      lookup);
  const auto* found = std::get_if<FoundCall>(&outcome);
  BOOST_TEST_REQUIRE(found != nullptr);
  BOOST_TEST(found->call_sid == "b6cfaf5f5cef3ca0fc937749ef96d245");
  BOOST_TEST((found->status == CallStatus::no_answer));
  BOOST_TEST(std::holds_alternative<NoSuchCall>(
      providers::exotel::classify_list_calls_response(provider_answer(200, R"({"Calls": []})"), lookup)));
  BOOST_TEST(std::get<LookupFailed>(
                 providers::exotel::classify_list_calls_response(
                     provider_answer(403, R"({"RestException": {"Status": 403, "Message": "Not permitted"}})"), lookup))
                 .reason == "HTTP 403: Not permitted");
  BOOST_TEST(std::holds_alternative<LookupFailed>(
      providers::exotel::classify_list_calls_response(provider_answer(200, R"({"Call": {}})"), lookup)));
}

BOOST_AUTO_TEST_SUITE_END()
