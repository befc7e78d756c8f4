// The simulated customer reading callgate's own TwiML and answering a Gather.
#include "providers/simulator/call_flow.hpp"
#include "providers/simulator/settings.hpp"

#include "http/form/form_codec.hpp"
#include "providers/twilio/call_flow.hpp"
#include "providers/twilio/signature.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;
using namespace callgate::providers::simulator;

BOOST_AUTO_TEST_SUITE(simulator_call_flow)

BOOST_AUTO_TEST_CASE(the_gather_action_of_callgate_s_own_twiml_is_found_with_its_entities_decoded) {
  CallFlowConfig flow;
  flow.next = CallFlowStep::gather;
  const auto document = providers::twilio::render_call_flow(flow, "http://127.0.0.1:8080", "01J&X");
  BOOST_TEST(!twiml_problem(200, "text/xml; charset=utf-8", document).has_value());
  BOOST_TEST(gather_action(document).value_or("") == "http://127.0.0.1:8080/twiml/gather?leadId=01J%26X");

  flow.next = CallFlowStep::hangup;
  BOOST_TEST(!gather_action(providers::twilio::render_call_flow(flow, "http://127.0.0.1:8080", "L")).has_value());
  BOOST_TEST(!gather_action("<Response><Gather input=\"dtmf\"></Gather></Response>").has_value());
}

BOOST_AUTO_TEST_CASE(an_answer_that_is_not_twiml_is_named) {
  const std::string document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>";
  BOOST_TEST(!twiml_problem(200, "text/xml", document).has_value());
  BOOST_TEST(twiml_problem(403, "application/json", "{}").value() == "HTTP 403 instead of 200");
  BOOST_TEST(twiml_problem(200, "application/json", document).value().find("not XML") != std::string::npos);
  BOOST_TEST(twiml_problem(200, "text/xml", "<html></html>").value() == "the body is not a <Response> document");
}

BOOST_AUTO_TEST_CASE(the_gather_answer_carries_the_configured_keys_and_is_signed) {
  SimulatorSettings config;
  config.auth_token = "sim-test-token";
  config.gather_digits = "42#";
  SimulatedCall call;
  call.sid = "CA0123456789abcdef0123456789abcdef";
  call.to = "+919876543210";
  call.from = "+15005550006";
  const std::string action = "http://127.0.0.1:8080/twiml/gather?leadId=L1";
  const auto request = build_gather_request(config, call, action);
  BOOST_TEST(request.url == action);
  const auto fields = http::parse_form(request.body).value();
  BOOST_TEST(http::form_value(fields, "Digits").value_or("") == "42#");
  BOOST_TEST(http::form_value(fields, "CallSid").value_or("") == call.sid);
  std::string signature;
  for (const auto& [name, value] : request.headers)
    if (name == "X-Twilio-Signature") signature = value;
  BOOST_TEST(providers::twilio::is_valid_signature(config.auth_token, action, fields, signature));
}

BOOST_AUTO_TEST_SUITE_END()
