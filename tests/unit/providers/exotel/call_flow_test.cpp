#include "providers/exotel/call_flow.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers;

BOOST_AUTO_TEST_SUITE(exotel_call_flow)

BOOST_AUTO_TEST_CASE(a_passthru_request_as_exotel_sends_it) {
  const auto query = http::parse_form(
      "CallSid=b6cfaf2b&CallFrom=09876543210&CallTo=08047112233&Direction=incoming&DialCallDuration=0"
      "&StartTime=2026-11-25+16%3A30%3A01&CurrentTime=2026-11-25+16%3A30%3A20&CallType=call-attempt"
      "&digits=%2212%22&CustomField=%7B%22leadId%22%3A%22L-7%22%7D");
  BOOST_TEST_REQUIRE(query.has_value());
  auto parsed = providers::exotel::parse_passthru(*query);
  const auto* passthru = std::get_if<providers::exotel::PassthruRequest>(&parsed);
  BOOST_TEST_REQUIRE(passthru != nullptr);
  BOOST_TEST(passthru->call_sid == "b6cfaf2b");
  BOOST_TEST(passthru->from == "09876543210");
  BOOST_TEST(passthru->to == "08047112233");
  BOOST_TEST(passthru->digits == "12");
  BOOST_TEST(passthru->lead_id == "L-7");
  BOOST_TEST(passthru->call_type == "call-attempt");
}

BOOST_AUTO_TEST_CASE(older_flows_say_from_and_to) {
  auto parsed = providers::exotel::parse_passthru({{"CallSid", "x"}, {"From", "0987"}, {"To", "0804"}});
  const auto& passthru = std::get<providers::exotel::PassthruRequest>(parsed);
  BOOST_TEST(passthru.from == "0987");
  BOOST_TEST(passthru.to == "0804");
  BOOST_TEST(passthru.digits.empty());
}

BOOST_AUTO_TEST_CASE(without_a_call_sid_it_is_an_error) {
  BOOST_TEST(std::holds_alternative<providers::exotel::PassthruError>(
      providers::exotel::parse_passthru({{"CallFrom", "0987"}})));
}

BOOST_AUTO_TEST_CASE(digit_quotes_are_stripped_only_when_they_wrap) {
  BOOST_TEST(providers::exotel::strip_digit_quotes("\"123\"") == "123");
  BOOST_TEST(providers::exotel::strip_digit_quotes("\"\"") == "");
  BOOST_TEST(providers::exotel::strip_digit_quotes("123") == "123");
  BOOST_TEST(providers::exotel::strip_digit_quotes("\"12") == "\"12");
}

BOOST_AUTO_TEST_SUITE_END()
