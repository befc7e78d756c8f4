#include "providers/twilio/client.hpp"
#include "providers/provider_answers.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

using testing::provider_answer;

BOOST_AUTO_TEST_SUITE(twilio_create_call)

BOOST_AUTO_TEST_CASE(a_201_with_a_call_sid_is_placed) {
  auto outcome = twilio::classify_create_call_response(
      provider_answer(201, R"({"sid": "CA0123456789abcdef0123456789abcdef", "status": "queued", "to": "+14155550100"})"));
  const auto* placed = std::get_if<Placed>(&outcome);
  BOOST_TEST_REQUIRE(placed != nullptr);
  BOOST_TEST(placed->call_sid == "CA0123456789abcdef0123456789abcdef");
  BOOST_TEST(placed->status == "queued");
}

BOOST_AUTO_TEST_CASE(success_without_a_call_sid_may_still_have_placed_a_call) {
  for (const char* body : {"", "not json", R"({"status": "queued"})", R"({"sid": 42})", R"(["CA1"])"})
    BOOST_TEST(std::holds_alternative<Ambiguous>(twilio::classify_create_call_response(provider_answer(201, body))), body);
}

BOOST_AUTO_TEST_CASE(client_errors_are_rejected_with_twilios_code) {
  auto invalid = twilio::classify_create_call_response(provider_answer(
      400, R"({"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})"));
  const auto* rejected = std::get_if<Rejected>(&invalid);
  BOOST_TEST_REQUIRE(rejected != nullptr);
  BOOST_TEST(rejected->code == 21211);
  BOOST_TEST(rejected->message.find("not a valid phone number") != std::string::npos);

  auto auth = twilio::classify_create_call_response(provider_answer(401, R"({"code": 20003, "message": "Authenticate"})"));
  BOOST_TEST(std::get<Rejected>(auth).code == 20003);

  auto bare = twilio::classify_create_call_response(provider_answer(404, "<html>not found</html>"));
  BOOST_TEST(std::get<Rejected>(bare).code == 404);
  BOOST_TEST(std::get<Rejected>(bare).message == "HTTP 404");
}

BOOST_AUTO_TEST_CASE(overload_and_server_errors_are_retryable) {
  auto limited = twilio::classify_create_call_response(provider_answer(429, R"({"code": 20429, "message": "Too Many Requests"})", "3"));
  const auto* retry = std::get_if<Retryable>(&limited);
  BOOST_TEST_REQUIRE(retry != nullptr);
  BOOST_TEST(retry->retry_after.value_or(std::chrono::seconds(-1)).count() == 3);
  BOOST_TEST(retry->reason == "HTTP 429: Too Many Requests");

  auto no_header = twilio::classify_create_call_response(provider_answer(429, ""));
  BOOST_TEST(!std::get<Retryable>(no_header).retry_after.has_value());
  for (unsigned status : {500u, 502u, 503u, 504u})
    BOOST_TEST(std::holds_alternative<Retryable>(twilio::classify_create_call_response(provider_answer(status, ""))), status);
}

BOOST_AUTO_TEST_CASE(transport_failures_split_on_whether_the_request_left) {
  ProviderResponse before;
  before.failure = TransportFailure::before_sending;
  before.failure_reason = "connect: connection refused";
  BOOST_TEST(std::holds_alternative<Retryable>(twilio::classify_create_call_response(before)));

  ProviderResponse after;
  after.failure = TransportFailure::after_sending;
  after.failure_reason = "read: timed out";
  const auto outcome = twilio::classify_create_call_response(after);
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
