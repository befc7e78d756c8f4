// TwiML rendering: every document must parse as XML, carry the configured
// words escaped, and point Twilio at the right next step.
#include "providers/twilio/call_flow.hpp"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <sstream>
#include <vector>

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

BOOST_AUTO_TEST_CASE(a_bridged_stream_goes_to_callgate_with_a_token_and_asks_what_next_when_it_ends) {
  CallFlowConfig flow;
  flow.next = CallFlowStep::stream;
  providers::twilio::BridgedStream bridged{"wss://gw.example.com/media/twilio", "1.ab&c.d", "This call is <recorded>."};
  const auto tree = parse_xml(providers::twilio::render_call_flow(flow, "https://gw.example.com", "01JD3Z", bridged));
  std::vector<std::string> said;
  for (const auto& [name, child] : tree.get_child("Response"))
    if (name == "Say") said.push_back(child.data());
  BOOST_TEST(said.size() == 2u);  // the greeting, then the notice
  BOOST_TEST(said.back() == "This call is <recorded>.");
  const auto& connect = tree.get_child("Response.Connect");
  BOOST_TEST(connect.get<std::string>("<xmlattr>.action") == "https://gw.example.com/twiml/stream-ended?leadId=01JD3Z");
  BOOST_TEST(connect.get<std::string>("<xmlattr>.method") == "POST");
  BOOST_TEST(connect.get<std::string>("Stream.<xmlattr>.url") == "wss://gw.example.com/media/twilio");
  std::map<std::string, std::string> parameters;
  for (const auto& [name, child] : connect.get_child("Stream"))
    if (name == "Parameter")
      parameters[child.get<std::string>("<xmlattr>.name")] = child.get<std::string>("<xmlattr>.value");
  BOOST_TEST(parameters.size() == 2u);
  BOOST_TEST(parameters["leadId"] == "01JD3Z");
  BOOST_TEST(parameters["token"] == "1.ab&c.d");
}

BOOST_AUTO_TEST_CASE(what_follows_a_bridged_stream_is_what_the_lead_says_of_it) {
  CallFlowConfig flow;
  VoiceConfig voice;
  voice.fallback_say = "Sorry & goodbye";
  MediaStream stream;
  stream.outcome = "agent_unavailable";
  auto tree = parse_xml(providers::twilio::render_stream_ended(flow, voice, &stream));
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Sorry & goodbye");
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
  tree = parse_xml(providers::twilio::render_stream_ended(flow, voice, nullptr));  // never reached the bridge
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Sorry & goodbye");
  stream.outcome = "hangup";
  tree = parse_xml(providers::twilio::render_stream_ended(flow, voice, &stream));
  BOOST_TEST(tree.get_child("Response").count("Say") == 0u);
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
  stream.outcome = "transfer";
  stream.transfer_to = "+919876543210";
  tree = parse_xml(providers::twilio::render_stream_ended(flow, voice, &stream));
  BOOST_TEST(tree.get<std::string>("Response.Dial") == "+919876543210");
  BOOST_TEST(tree.get_child("Response").count("Say") == 0u);
}

BOOST_AUTO_TEST_CASE(the_gather_reply_says_goodbye) {
  const auto tree = parse_xml(providers::twilio::render_gather_reply(hostile_words()));
  BOOST_TEST(tree.get<std::string>("Response.Say") == "Thanks & bye");
  BOOST_TEST(tree.get_child("Response").count("Hangup") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
