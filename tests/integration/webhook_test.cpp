// The real daemon taking provider callbacks: correctly signed requests are
// stored (204), wrongly signed or unsigned ones refused (403) and counted,
// malformed ones answered 400; the call-flow endpoints are authenticated
// the same way and answer what the provider expects.
#include "providers/exotel/webhook.hpp"
#include "core/crypto.hpp"
#include "daemon_process.hpp"
#include "http/form/form_codec.hpp"
#include "providers/twilio/signature.hpp"

#include <boost/test/unit_test.hpp>

namespace callgate {
namespace {

using testing::DaemonProcess;
using testing::ParsedResponse;

constexpr const char* kPublicBase = "https://gw.example.test";
constexpr const char* kAuthToken = "twilio-auth-token";

std::string webhook_config(const std::string& extra_server = "", const std::string& extra_twilio = "") {
  return testing::test_config("  public_base_url: \"" + std::string(kPublicBase) + "\"\n" + extra_server) +
         "telephony:\n"
         "  provider: twilio\n"
         "  twilio:\n"
         "    account_sid: \"AC0123456789abcdef0123456789abcdef\"\n"
         "    auth_token: \"" +
         kAuthToken +
         "\"\n"
         "    phone_number: \"+14155550100\"\n" +
         extra_twilio +
         "  exotel:\n"
         "    webhook_auth:\n"
         "      callback_token: \"exo-token\"\n"
         "call_flow:\n"
         "  greeting:\n"
         "    say: \"Hello & welcome\"\n"
         "  next: gather\n";
}

ParsedResponse send(unsigned short port, const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body = "") {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  testing::Connection connection(port);
  connection.send(request);
  auto raw = connection.read_response();
  BOOST_REQUIRE_MESSAGE(raw.has_value(), "no response to " << method << " " << target);
  return testing::parse_response(*raw);
}

const http::FormFields kRinging = {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
                                   {"CallSid", "CA11111111111111111111111111111111"},
                                   {"CallStatus", "ringing"},
                                   {"SequenceNumber", "1"},
                                   {"Timestamp", "Wed, 25 Nov 2026 11:06:12 +0000"},
                                   {"To", "+14155550123"}};

ParsedResponse post_twilio(unsigned short port, const std::string& target, const http::FormFields& fields,
                           const std::string& signing_url, const std::string& token = kAuthToken,
                           std::vector<std::pair<std::string, std::string>> extra_headers = {}) {
  extra_headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  extra_headers.emplace_back("X-Twilio-Signature", providers::twilio::compute_signature(token, signing_url, fields));
  return send(port, "POST", target, extra_headers, http::encode_form(fields));
}

std::string metrics(unsigned short port) { return testing::http_get(port, "/metrics").body; }

bool has_metric(const std::string& exposition, const std::string& series_and_value) {
  return exposition.find(series_and_value + "\n") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webhooks)

BOOST_AUTO_TEST_CASE(a_signed_twilio_callback_is_stored_and_a_forged_one_refused) {
  DaemonProcess daemon(webhook_config());
  const std::string target = "/webhook/twilio?leadId=L1";
  const auto stored = post_twilio(daemon.port(), target, kRinging, std::string(kPublicBase) + target);
  BOOST_TEST(stored.status == 204, stored.body);

  // Signed with another account's token, for another URL, or not at all.
  const auto wrong_key = post_twilio(daemon.port(), target, kRinging, std::string(kPublicBase) + target, "guess");
  BOOST_TEST(wrong_key.status == 403);
  BOOST_TEST(wrong_key.body.find("\"error\":\"request not authenticated: bad_signature\"") != std::string::npos,
             wrong_key.body);
  const auto other_url =
      post_twilio(daemon.port(), target, kRinging, std::string(kPublicBase) + "/webhook/twilio?leadId=L2");
  BOOST_TEST(other_url.status == 403);
  const auto host_header_url = post_twilio(daemon.port(), target, kRinging, "http://127.0.0.1" + target);
  BOOST_TEST(host_header_url.status == 403);
  const auto unsigned_request =
      send(daemon.port(), "POST", target, {{"Content-Type", "application/x-www-form-urlencoded"}},
           http::encode_form(kRinging));
  BOOST_TEST(unsigned_request.status == 403);
  BOOST_TEST(unsigned_request.body.find("missing_signature") != std::string::npos, unsigned_request.body);

  const auto exposition = metrics(daemon.port());
  // No lead has this call yet, so the event waits as an orphan.
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_events_total{provider="twilio",outcome="unknown_call"} 1)"),
             exposition);
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_rejections_total{provider="twilio",reason="bad_signature"} 3)"),
             exposition);
  BOOST_TEST(
      has_metric(exposition, R"(callgate_webhook_rejections_total{provider="twilio",reason="missing_signature"} 1)"),
      exposition);
  // The full number in the callback never reaches the log.
  BOOST_TEST(daemon.all_output().find("4155550123") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_same_event_twice_is_stored_once_and_a_malformed_one_is_a_400) {
  DaemonProcess daemon(webhook_config());
  const std::string target = "/webhook/twilio";
  const std::string url = std::string(kPublicBase) + target;
  BOOST_TEST(post_twilio(daemon.port(), target, kRinging, url).status == 204);
  BOOST_TEST(post_twilio(daemon.port(), target, kRinging, url).status == 204);
  http::FormFields no_status = {{"AccountSid", "AC0123456789abcdef0123456789abcdef"}, {"CallSid", "CA2"}};
  const auto malformed = post_twilio(daemon.port(), target, no_status, url);
  BOOST_TEST(malformed.status == 400);
  BOOST_TEST(malformed.body.find("CallStatus") != std::string::npos, malformed.body);
  const auto exposition = metrics(daemon.port());
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_rejections_total{provider="twilio",reason="malformed"} 1)"),
             exposition);
}

BOOST_AUTO_TEST_CASE(exotel_callbacks_in_every_format_with_the_callback_token) {
  DaemonProcess daemon(webhook_config());
  const std::string json =
      R"({"CallSid":"exo1","EventType":"terminal","Status":"completed","ConversationDuration":42,)"
      R"("CustomField":"{\"leadId\":\"L1\"}","Legs":[{"Status":"completed","AnsweredBy":"Human"}]})";
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?leadId=L1&token=exo-token",
                  {{"Content-Type", "application/json"}}, json)
                 .status == 204);
  const std::string multipart =
      "--b0undary\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\nexo2\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\nbusy\r\n--b0undary--\r\n";
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?token=exo-token",
                  {{"Content-Type", "multipart/form-data; boundary=b0undary"}}, multipart)
                 .status == 204);
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?token=exo-token",
                  {{"Content-Type", "application/x-www-form-urlencoded"}},
                  "CallSid=exo3&Status=no-answer&Legs%5B0%5D%5BStatus%5D=no-answer")
                 .status == 204);

  const auto bad_token =
      send(daemon.port(), "POST", "/webhook/exotel?token=exo-tokeN", {{"Content-Type", "application/json"}}, json);
  BOOST_TEST(bad_token.status == 403);
  const auto no_token = send(daemon.port(), "POST", "/webhook/exotel", {{"Content-Type", "application/json"}}, json);
  BOOST_TEST(no_token.status == 403);
  const auto broken = send(daemon.port(), "POST", "/webhook/exotel?token=exo-token",
                           {{"Content-Type", "application/json"}}, "{\"CallSid\":");
  BOOST_TEST(broken.status == 400);
  const auto exposition = metrics(daemon.port());
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_events_total{provider="exotel",outcome="unknown_call"} 3)"),
             exposition);
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_rejections_total{provider="exotel",reason="bad_token"} 1)"),
             exposition);
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_rejections_total{provider="exotel",reason="missing_token"} 1)"),
             exposition);
}

BOOST_AUTO_TEST_CASE(exotel_request_hmac_from_the_environment_secret) {
  DaemonProcess daemon(webhook_config(), {{"EXOTEL_WEBHOOK_SECRET", "exo-secret"}});
  const std::string body = R"({"CallSid":"exo4","Status":"failed"})";
  const auto signature = providers::exotel::request_signature(
      "exo-secret", "POST", std::string(kPublicBase) + "/webhook/exotel?token=exo-token", body);
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?token=exo-token",
                  {{"Content-Type", "application/json"}, {"X-Exotel-Signature", signature}}, body)
                 .status == 204);
  // The token alone is no longer enough once a secret is set.
  BOOST_TEST(
      send(daemon.port(), "POST", "/webhook/exotel?token=exo-token", {{"Content-Type", "application/json"}}, body)
          .status == 403);
  const auto tampered = R"({"CallSid":"exo4","Status":"completed"})";
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?token=exo-token",
                  {{"Content-Type", "application/json"}, {"X-Exotel-Signature", signature}}, tampered)
                 .status == 403);
  // The same body and signature sent with another query: refused too.
  BOOST_TEST(send(daemon.port(), "POST", "/webhook/exotel?token=exo-token&leadId=01M8ZZZZZZZZZZZZZZZZZZZZZZ",
                  {{"Content-Type", "application/json"}, {"X-Exotel-Signature", signature}}, body)
                 .status == 403);
}

BOOST_AUTO_TEST_CASE(the_shared_webhook_address_tells_the_providers_apart) {
  DaemonProcess daemon(webhook_config());
  const auto twilio = post_twilio(daemon.port(), "/webhook", kRinging, std::string(kPublicBase) + "/webhook");
  BOOST_TEST(twilio.status == 204, twilio.body);
  const auto exotel = send(daemon.port(), "POST", "/webhook?token=exo-token", {{"Content-Type", "application/json"}},
                           R"({"CallSid":"exo5","Status":"completed"})");
  BOOST_TEST(exotel.status == 204, exotel.body);
  // A forged Twilio callback is not waved through as "not Twilio".
  const auto forged = post_twilio(daemon.port(), "/webhook", kRinging, std::string(kPublicBase) + "/webhook", "guess");
  BOOST_TEST(forged.status == 403);
  const auto exposition = metrics(daemon.port());
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_events_total{provider="twilio",outcome="unknown_call"} 1)"));
  BOOST_TEST(has_metric(exposition, R"(callgate_webhook_events_total{provider="exotel",outcome="unknown_call"} 1)"));
}

BOOST_AUTO_TEST_CASE(twiml_is_served_only_to_twilio) {
  DaemonProcess daemon(webhook_config());
  const std::string target = "/twiml?leadId=L1";
  const auto signature = providers::twilio::compute_signature(kAuthToken, std::string(kPublicBase) + target, {});
  const auto document = send(daemon.port(), "GET", target, {{"X-Twilio-Signature", signature}});
  BOOST_TEST(document.status == 200);
  BOOST_TEST(document.headers.at("content-type") == "text/xml; charset=utf-8");
  BOOST_TEST(
      document.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Hello &amp; welcome</Say>"),
      document.body);
  BOOST_TEST(document.body.find("action=\"https://gw.example.test/twiml/gather?leadId=L1\"") != std::string::npos,
             document.body);
  BOOST_TEST(send(daemon.port(), "GET", target, {}).status == 403);

  // Twilio POSTs the call fields to the same URL as often as it GETs it.
  const http::FormFields call = {{"CallSid", "CA3"}, {"CallStatus", "in-progress"}};
  const auto posted = post_twilio(daemon.port(), target, call, std::string(kPublicBase) + target);
  BOOST_TEST(posted.status == 200);

  const http::FormFields gathered = {{"CallSid", "CA3"}, {"SpeechResult", "call me tomorrow"}, {"Confidence", "0.91"}};
  const auto reply = post_twilio(daemon.port(), "/twiml/gather?leadId=L1", gathered,
                                 std::string(kPublicBase) + "/twiml/gather?leadId=L1");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body.find("<Hangup/></Response>") != std::string::npos, reply.body);
  BOOST_TEST(post_twilio(daemon.port(), "/twiml/gather?leadId=L1", gathered, "https://elsewhere/twiml/gather?leadId=L1")
                 .status == 403);
}

BOOST_AUTO_TEST_CASE(the_exotel_passthru_answers_200_when_authenticated) {
  DaemonProcess daemon(webhook_config());
  const auto ok = send(daemon.port(), "GET",
                       "/exotel/passthru?CallSid=exo6&CallFrom=09876543210&CallTo=08047112233&digits=%221%22"
                       "&CustomField=L1&token=exo-token",
                       {});
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.body == "OK");
  BOOST_TEST(send(daemon.port(), "GET", "/exotel/passthru?CallSid=exo6", {}).status == 403);
  BOOST_TEST(send(daemon.port(), "GET", "/exotel/passthru?CallFrom=0987&token=exo-token", {}).status == 400);
  BOOST_TEST(daemon.all_output().find("9876543210") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(forwarded_urls_count_only_from_trusted_proxies) {
  DaemonProcess trusting(webhook_config("  trusted_proxies: [\"127.0.0.0/8\"]\n"));
  const std::string target = "/webhook/twilio";
  const std::vector<std::pair<std::string, std::string>> forwarded = {{"X-Forwarded-Proto", "https"},
                                                                      {"X-Forwarded-Host", "edge.example.test"}};
  BOOST_TEST(post_twilio(trusting.port(), target, kRinging, "https://edge.example.test" + target, kAuthToken, forwarded)
                 .status == 204);
  DaemonProcess wary(webhook_config());
  BOOST_TEST(
      post_twilio(wary.port(), target, kRinging, "https://edge.example.test" + target, kAuthToken, forwarded).status ==
      403);
}

BOOST_AUTO_TEST_CASE(switching_verification_off_is_loud) {
  DaemonProcess daemon(webhook_config("", "    verify_signatures: false\n"));
  // Logged at start-up, before "listening".
  BOOST_TEST(
      daemon.all_output().find(R"("level":"warn","event":"twilio_signatures_not_verified")") != std::string::npos,
      daemon.all_output());
  const auto unsigned_request =
      send(daemon.port(), "POST", "/webhook/twilio", {{"Content-Type", "application/x-www-form-urlencoded"}},
           http::encode_form(kRinging));
  BOOST_TEST(unsigned_request.status == 204);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
