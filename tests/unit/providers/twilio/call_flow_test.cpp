// TwiML rendering: every document must parse as XML, carry the configured
// words escaped, and point Twilio at the right next step.
#include "providers/twilio/call_flow.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace callgate;
using namespace callgate::providers;
using boost::property_tree::ptree;

namespace {

// Throws (failing the test) when the document is not well-formed XML.
ptree parse_xml(const std::string& document) {
  std::istringstream input(document);
  ptree tree;
  boost::property_tree::read_xml(input, tree);
  return tree;
}

CallFlowConfig hostile_words() {
  CallFlowConfig flow;
  flow.greeting_say = "Hi <there> & \"welcome\" to Tom's shop";
  flow.voice = "Polly.Aditi";
  flow.language = "en-IN";
  flow.gather_prompt = "Say <anything> & press 1";
  flow.gather_reply = "Thanks & bye";
  return flow;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_call_flow)

BOOST_AUTO_TEST_CASE(a_greeting_then_hangup) {
  auto flow = hostile_words();
  flow.next = CallFlowStep::hangup;
  const auto document = providers::twilio::render_call_flow(flow, "https://gw.example.com", "lead-1");
  BOOST_TEST(document.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"));
  const auto tree = parse_xml(document);
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Hi <there> & \"welcome\" to Tom's shop");
  BOOST_TEST(tree.get<std::string>("Response.Say.<xmlattr>.voice") == "Polly.Aditi");
  BOOST_TEST(tree.get<std::string>("Response.Say.<xmlattr>.language") == "en-IN");
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
}

BOOST_AUTO_TEST_CASE(a_gather_that_posts_back_with_the_lead_id) {
  auto flow = hostile_words();
  flow.next = CallFlowStep::gather;
  flow.gather_num_digits = 1;
  flow.gather_hints = "sales, support";
  const auto document = providers::twilio::render_call_flow(flow, "https://gw.example.com", "lead&1");
  const auto tree = parse_xml(document);
  const auto& gather = tree.get_child("Response.Gather");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.input") == "speech dtmf");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.action") == "https://gw.example.com/twiml/gather?leadId=lead%261");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.method") == "POST");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.timeout") == "5");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.numDigits") == "1");
  BOOST_TEST(gather.get<std::string>("<xmlattr>.hints") == "sales, support");
  BOOST_TEST(gather.get<std::string>("Say") == "Say <anything> & press 1");
  // Silence falls through to the reply and a hang-up.
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Hi <there> & \"welcome\" to Tom's shop");
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
}

BOOST_AUTO_TEST_CASE(a_stream_to_the_voice_agent_carries_the_lead_as_a_parameter) {
  CallFlowConfig flow;
  flow.next = CallFlowStep::stream;
  flow.stream_url = "wss://agent.example.com/media";
  flow.greeting_play = "https://cdn.example.com/hello.mp3?v=1&x=2";
  const auto tree = parse_xml(providers::twilio::render_call_flow(flow, "https://gw.example.com", "01JD3Z"));
  BOOST_TEST(tree.get<std::string>("Response.Play") == "https://cdn.example.com/hello.mp3?v=1&x=2");
  BOOST_TEST(tree.get_child("Response").count("Say") == 0u);
  const auto& stream = tree.get_child("Response.Connect.Stream");
  BOOST_TEST(stream.get<std::string>("<xmlattr>.url") == "wss://agent.example.com/media");
  BOOST_TEST(stream.get<std::string>("Parameter.<xmlattr>.name") == "leadId");
  BOOST_TEST(stream.get<std::string>("Parameter.<xmlattr>.value") == "01JD3Z");
}

BOOST_AUTO_TEST_CASE(the_gather_reply_says_goodbye) {
  const auto tree = parse_xml(providers::twilio::render_gather_reply(hostile_words()));
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Thanks & bye");
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
