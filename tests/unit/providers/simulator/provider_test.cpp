// The simulator through the Provider interface: its placement request, and
// its own callbacks authenticated and parsed the way /webhook/simulator
// takes them.
#include "providers/simulator/provider.hpp"
#include "providers/simulator/settings.hpp"

#include "http/form/form_codec.hpp"
#include "providers/simulator/call_script.hpp"

#include "simulated_call.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;
using namespace callgate::providers::simulator;

namespace {

Config simulator_config(SimulatorFormat format) {
  Config config;
  config.server.public_base_url = "http://127.0.0.1:8080";
  config.telephony.provider = ProviderName("simulator");
  simulator::settings_of(config).format = format;
  simulator::settings_of(config).auth_token = "sim-token";
  simulator::settings_of(config).outcomes = {1, 0, 0, 0};
  return config;
}

SimulatedCall a_call() { return testing::a_simulated_call(); }

// The script's request as callgated receives it.
http::Request received(const http::ClientRequest& sent) {
  http::Request request{sent.method, sent.url.substr(std::string("http://127.0.0.1:8080").size()), 11};
  for (const auto& [name, value] : sent.headers) request.set(name, value);
  request.body() = sent.body;
  return request;
}

providers::InboundRequest inbound(const http::Request& request, const Config& config) {
  return {request, config.server.public_base_url + std::string(request.target()),
          boost::asio::ip::make_address("127.0.0.1")};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulator_provider)

BOOST_AUTO_TEST_CASE(a_call_is_placed_with_the_simulated_account_at_the_public_url) {
  const auto config = simulator_config(SimulatorFormat::twilio);
  SimulatorProvider provider;
  const auto request = provider.build_place_call_request(config, {"L1", "+919876543210"});
  BOOST_TEST(request.url == "http://127.0.0.1:8080/simulator/calls");
  const auto fields = http::parse_form(request.body).value();
  BOOST_TEST(http::form_value(fields, "To").value_or("") == "+919876543210");
  BOOST_TEST(http::form_value(fields, "Url").value_or("") == "http://127.0.0.1:8080/twiml?leadId=L1");
  BOOST_TEST(http::form_value(fields, "StatusCallback").value_or("") ==
             "http://127.0.0.1:8080/webhook/simulator?leadId=L1");
  bool basic = false;
  for (const auto& [name, value] : request.headers)
    if (name == "Authorization") basic = value == "Basic c2ltdWxhdG9yOnNpbS10b2tlbg==";  // simulator:sim-token
  BOOST_TEST(basic);

  // Its answers are read as Twilio's.
  ProviderResponse created;
  created.status = 201;
  created.body = R"({"sid":"CAfedcba9876543210fedcba9876543210","status":"queued"})";
  BOOST_TEST(std::holds_alternative<Placed>(provider.classify_place_call_response(created)));
  ProviderResponse busy;
  busy.status = 429;
  BOOST_TEST(std::holds_alternative<Retryable>(provider.classify_place_call_response(busy)));
}

BOOST_AUTO_TEST_CASE(its_own_twilio_format_callbacks_are_accepted_and_labelled_simulator) {
  const auto config = simulator_config(SimulatorFormat::twilio);
  SimulatorProvider provider;
  const auto script = write_call_script(simulator::settings_of(config), a_call(), 3);
  for (const auto& step : script.steps) {
    if (step.kind != StepKind::callback) continue;
    const auto request = received(step.request);
    BOOST_TEST(!provider.authenticate_webhook(config, inbound(request, config)).has_value());
    BOOST_TEST(!provider.recognizes_webhook(request));  // never claims the shared /webhook
    auto parsed = provider.parse_status_callback(inbound(request, config));
    BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(parsed));
    const auto& event = std::get<CallEvent>(parsed);
    BOOST_TEST(event.provider == "simulator");
    BOOST_TEST(event.lead_id == "L1");
    BOOST_TEST((event.status == step.status));
    BOOST_TEST(event.sequence_number.has_value());
  }
  BOOST_TEST((provider.imitates(config) == ProviderName("twilio")));
}

BOOST_AUTO_TEST_CASE(callbacks_signed_with_another_token_or_in_the_other_format_are_refused) {
  auto config = simulator_config(SimulatorFormat::twilio);
  SimulatorProvider provider;
  auto other = simulator::settings_of(config);
  other.auth_token = "not-the-token";
  const auto forged = write_call_script(other, a_call(), 3).steps.front().request;
  BOOST_TEST(provider.authenticate_webhook(config, inbound(received(forged), config))->reason == "bad_signature");

  auto unsigned_request =
      received(write_call_script(simulator::settings_of(config), a_call(), 3).steps.front().request);
  unsigned_request.erase("X-Twilio-Signature");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(unsigned_request, config))->reason == "missing_signature");

  // Expecting Exotel's format, a Twilio-signed request carries no Exotel signature.
  simulator::settings_of(config).format = SimulatorFormat::exotel;
  const auto twilio_signed = received(write_call_script(other, a_call(), 3).steps.front().request);
  BOOST_TEST(provider.authenticate_webhook(config, inbound(twilio_signed, config))->reason == "missing_signature");
  BOOST_TEST(!provider.imitates(config).has_value());
}

BOOST_AUTO_TEST_CASE(its_exotel_format_callbacks_are_accepted_and_parsed) {
  const auto config = simulator_config(SimulatorFormat::exotel);
  SimulatorProvider provider;
  const auto script = write_call_script(simulator::settings_of(config), a_call(), 4);
  BOOST_TEST_REQUIRE(script.steps.size() == 2u);
  for (const auto& step : script.steps) {
    const auto request = received(step.request);
    BOOST_TEST(!provider.authenticate_webhook(config, inbound(request, config)).has_value());
    auto parsed = provider.parse_status_callback(inbound(request, config));
    BOOST_TEST_REQUIRE(std::holds_alternative<CallEvent>(parsed));
    BOOST_TEST(std::get<CallEvent>(parsed).provider == "simulator");
    BOOST_TEST((std::get<CallEvent>(parsed).status == step.status));
  }
  auto tampered = received(script.steps.back().request);
  tampered.body().replace(tampered.body().find("completed"), 9, "busy");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(tampered, config))->reason == "bad_signature");
}

BOOST_AUTO_TEST_SUITE_END()
