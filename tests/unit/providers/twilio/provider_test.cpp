// Twilio requests authenticated and parsed through the Provider interface,
// the way the webhook endpoints use it.
#include "providers/twilio/provider.hpp"
#include "providers/twilio/settings.hpp"

#include "http/form/form_codec.hpp"
#include "providers/twilio/signature.hpp"

#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;
using namespace callgate::providers;

namespace {

Config twilio_config() {
  Config config;
  config.server.public_base_url = "https://gw.example.com";
  twilio::settings_of(config).auth_token = "12345";
  return config;
}

const http::FormFields kCallback = {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                                    {"CallSid", "CA11111111111111111111111111111111"},
                                    {"CallStatus", "ringing"},
                                    {"SequenceNumber", "1"},
                                    {"Timestamp", "Wed, 25 Nov 2026 11:06:12 +0000"}};

http::Request signed_request(const std::string& target, const http::FormFields& fields, const std::string& token) {
  http::Request request{boost::beast::http::verb::post, target, 11};
  request.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
  request.body() = http::encode_form(fields);
  request.set("X-Twilio-Signature",
              providers::twilio::compute_signature(token, "https://gw.example.com" + target, fields));
  return request;
}

providers::InboundRequest inbound(const http::Request& request, const Config& config) {
  return {request, config.server.public_base_url + std::string(request.target()),
          boost::asio::ip::make_address("198.51.100.7")};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_provider)

BOOST_AUTO_TEST_CASE(a_correctly_signed_callback_is_accepted_and_parsed) {
  const auto config = twilio_config();
  const auto request = signed_request("/webhook/twilio?leadId=lead-9", kCallback, "12345");
  providers::twilio::TwilioProvider provider;
  BOOST_TEST(!provider.authenticate_webhook(config, inbound(request, config)).has_value());
  BOOST_TEST(provider.recognizes_webhook(request));
  auto parsed = provider.parse_status_callback(inbound(request, config));
  const auto* event = std::get_if<CallEvent>(&parsed);
  BOOST_TEST_REQUIRE(event != nullptr);
  BOOST_TEST(event->lead_id == "lead-9");
  BOOST_TEST(event->call_sid == "CA11111111111111111111111111111111");
  BOOST_TEST((event->status == CallStatus::ringing));
  BOOST_TEST(event->sequence_number.value_or(99) == 1u);
}

BOOST_AUTO_TEST_CASE(wrong_missing_or_tampered_signatures_are_refused) {
  const auto config = twilio_config();
  providers::twilio::TwilioProvider provider;
  const auto wrong_key = signed_request("/webhook/twilio", kCallback, "other-token");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(wrong_key, config))->reason == "bad_signature");

  auto missing = signed_request("/webhook/twilio", kCallback, "12345");
  missing.erase("X-Twilio-Signature");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(missing, config))->reason == "missing_signature");

  auto tampered = signed_request("/webhook/twilio", kCallback, "12345");
  tampered.body() += "&CallStatus=completed";
  BOOST_TEST(provider.authenticate_webhook(config, inbound(tampered, config))->reason == "bad_signature");

  // The same body signed for another URL (another lead) does not carry over.
  auto moved = signed_request("/webhook/twilio?leadId=a", kCallback, "12345");
  moved.target("/webhook/twilio?leadId=b");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(moved, config))->reason == "bad_signature");
}

// A new auth token took effect on SIGHUP with no overlap: callbacks signed
// a moment before with the old one were refused (issue 18, defect 19).
BOOST_AUTO_TEST_CASE(during_a_rotation_the_secondary_token_signs_as_well) {
  auto config = twilio_config();
  providers::twilio::TwilioProvider provider;
  const auto old_token = signed_request("/webhook/twilio", kCallback, "old-token");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(old_token, config))->reason == "bad_signature");
  twilio::settings_of(config).auth_token_secondary = "old-token";
  BOOST_TEST(!provider.authenticate_webhook(config, inbound(old_token, config)).has_value());
  const auto new_token = signed_request("/webhook/twilio", kCallback, "12345");
  BOOST_TEST(!provider.authenticate_webhook(config, inbound(new_token, config)).has_value());
  const auto neither = signed_request("/webhook/twilio", kCallback, "guess");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(neither, config))->reason == "bad_signature");
  // Rotation over: the old one is refused again.
  twilio::settings_of(config).auth_token_secondary.clear();
  BOOST_TEST(provider.authenticate_webhook(config, inbound(old_token, config))->reason == "bad_signature");
}

BOOST_AUTO_TEST_CASE(json_bodies_are_checked_by_their_hash) {
  auto config = twilio_config();
  config.server.public_base_url = "https://mycompany.com";
  providers::twilio::TwilioProvider provider;
  // The official vector: this body, this URL, this signature.
  http::Request request{
      boost::beast::http::verb::post,
      "/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", 11};
  request.set(boost::beast::http::field::content_type, "application/json");
  request.body() = R"({"property": "value", "boolean": true})";
  request.set("X-Twilio-Signature", "a9nBmqA0ju/hNViExpshrM61xv4=");
  BOOST_TEST(!provider.authenticate_webhook(config, inbound(request, config)).has_value());
  request.body() = R"({"property": "other", "boolean": true})";
  BOOST_TEST(provider.authenticate_webhook(config, inbound(request, config)).has_value());
}

BOOST_AUTO_TEST_CASE(verification_can_be_switched_off_only_by_config) {
  auto config = twilio_config();
  providers::twilio::TwilioProvider provider;
  auto unsigned_request = signed_request("/webhook/twilio", kCallback, "12345");
  unsigned_request.erase("X-Twilio-Signature");
  BOOST_TEST(provider.authenticate_webhook(config, inbound(unsigned_request, config)).has_value());
  twilio::settings_of(config).verify_signatures = false;
  BOOST_TEST(!provider.authenticate_webhook(config, inbound(unsigned_request, config)).has_value());
  // Without an auth token nothing can be verified, so nothing is accepted.
  twilio::settings_of(config).verify_signatures = true;
  twilio::settings_of(config).auth_token.clear();
  BOOST_TEST(
      provider.authenticate_webhook(config, inbound(signed_request("/webhook", kCallback, ""), config))->reason ==
      "auth_token_not_configured");
}

BOOST_AUTO_TEST_CASE(a_malformed_body_is_a_parse_error_not_a_crash) {
  const auto config = twilio_config();
  providers::twilio::TwilioProvider provider;
  http::Request request{boost::beast::http::verb::post, "/webhook/twilio", 11};
  request.body() = "CallSid=%zz";
  BOOST_TEST(
      std::holds_alternative<providers::WebhookMalformed>(provider.parse_status_callback(inbound(request, config))));
  request.body() = "CallSid=CA1";  // no CallStatus
  BOOST_TEST(
      std::holds_alternative<providers::WebhookMalformed>(provider.parse_status_callback(inbound(request, config))));
  BOOST_TEST(!provider.recognizes_webhook(http::Request{boost::beast::http::verb::post, "/webhook", 11}));
}

BOOST_AUTO_TEST_SUITE_END()
