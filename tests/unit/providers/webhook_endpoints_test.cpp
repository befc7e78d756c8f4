// POST /webhook/{provider} and POST /webhook in-process: a signed callback
// reaches the lead and, when it ends the call, the dialer; a forged,
// malformed or unstorable one is refused with the right status and touches
// nothing.
#include "providers/webhook_endpoints.hpp"

#include "core/store/event_spool.hpp"
#include "core/store/memory_lead_store.hpp"
#include "endpoint_harness.hpp"
#include "lead_store_test_helpers.hpp"
#include "providers/twilio/settings.hpp"
#include "providers/twilio/signature.hpp"
#include "unavailable_lead_store.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using callgate::testing::EndpointHarness;
using callgate::testing::json_body;

namespace {

constexpr std::string_view kToken = "twilio-test-token";
constexpr std::string_view kBase = "https://gate.example.com";
const std::string kCall = "CA0123456789abcdef0123456789abcdef";

class RecordingCallEndings final : public dialer::CallEndings {
 public:
  boost::asio::awaitable<void> call_ended(std::string lead_id, std::string call_sid) override {
    ended.emplace_back(std::move(lead_id), std::move(call_sid));
    co_return;
  }
  std::vector<std::pair<std::string, std::string>> ended;
};

Config webhook_config() {
  Config config;
  config.server.public_base_url = std::string(kBase);
  config.telephony.provider = ProviderName("twilio");
  auto& twilio = providers::twilio::settings_of(config);
  twilio.account_sid = "AC0123456789abcdef0123456789abcdef";
  twilio.auth_token = std::string(kToken);
  twilio.phone_number = "+14155550100";
  return config;
}

struct WebhookBench {
  explicit WebhookBench(store::LeadStore* store_in_use = nullptr, store::EventSpool* spool = nullptr)
      : harness(webhook_config()),
        store(store_in_use != nullptr ? *store_in_use : memory),
        ids(providers::declare_webhook_metrics(harness.metrics())) {
    providers::register_webhook_endpoints(harness.router, store, ids, spool, &endings);
  }

  // A lead with one placed call, kCall.
  std::string lead_with_call() {
    auto lead = conformance::make_lead("01JD3ZQ8X4V0R5M2K7N9P6T1YB");
    store::CreateRequest create;
    create.lead = lead;
    (void)conformance::expect(conformance::run(memory.create(std::move(create))));
    (void)conformance::expect(
        conformance::run(memory.add_attempt(lead.id, conformance::make_attempt(kCall), LeadStatus::queued)));
    return lead.id;
  }

  // A status callback as Twilio sends it: form fields, signed over the URL.
  http::Response twilio_callback(const std::string& target, const http::FormFields& fields,
                                 std::string_view token = kToken) {
    const auto signature = providers::twilio::compute_signature(token, std::string(kBase) + target, fields);
    return harness.call({http::Verb::post,
                         target,
                         http::encode_form(fields),
                         {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", signature}}});
  }

  Lead lead(const std::string& id) { return conformance::expect(conformance::run(store.get(id))); }

  EndpointHarness harness;
  store::MemoryLeadStore memory;
  store::LeadStore& store;
  RecordingCallEndings endings;
  providers::WebhookMetricIds ids;
};

http::FormFields callback(const std::string& status, const std::string& sequence) {
  return {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
          {"CallSid", kCall},
          {"CallStatus", status},
          {"SequenceNumber", sequence}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(webhook_endpoints)

BOOST_AUTO_TEST_CASE(a_signed_callback_moves_the_call_and_its_end_reaches_the_dialer) {
  WebhookBench bench;
  const auto id = bench.lead_with_call();
  auto ringing = bench.twilio_callback("/webhook/twilio?leadId=" + id, callback("ringing", "0"));
  BOOST_TEST(ringing.result_int() == 204u);
  BOOST_TEST((bench.lead(id).attempts.back().status == CallStatus::ringing));
  BOOST_TEST(bench.endings.ended.empty());

  auto completed = bench.twilio_callback("/webhook/twilio?leadId=" + id, callback("completed", "2"));
  BOOST_TEST(completed.result_int() == 204u);
  BOOST_TEST((bench.lead(id).attempts.back().status == CallStatus::completed));
  BOOST_TEST_REQUIRE(bench.endings.ended.size() == 1u);
  BOOST_TEST(bench.endings.ended[0].first == id);
  BOOST_TEST(bench.endings.ended[0].second == kCall);

  // Delivered again: a duplicate, taken (204) and not passed on twice.
  BOOST_TEST(bench.twilio_callback("/webhook/twilio?leadId=" + id, callback("completed", "2")).result_int() == 204u);
  BOOST_TEST(bench.endings.ended.size() == 1u);
  BOOST_TEST(bench.lead(id).events.size() == 2u);
}

BOOST_AUTO_TEST_CASE(recording_and_transcription_callbacks_are_kept_on_the_lead_and_forged_ones_refused) {
  WebhookBench bench;
  const auto id = bench.lead_with_call();
  const std::string recording_sid = "RE0123456789abcdef0123456789abcdef";
  http::FormFields recording{
      {"AccountSid", "AC0123456789abcdef0123456789abcdef"},
      {"CallSid", kCall},
      {"RecordingSid", recording_sid},
      {"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/" + recording_sid},
      {"RecordingStatus", "in-progress"},
      {"RecordingChannels", "2"},
      {"RecordingSource", "OutboundAPI"},
      {"RecordingStartTime", "Mon, 07 Dec 2026 10:00:00 +0000"}};
  const std::string target = "/webhook/twilio/recording?leadId=" + id;
  BOOST_TEST(bench.twilio_callback(target, recording).result_int() == 204u);
  recording[4].second = "completed";
  recording.emplace_back("RecordingDuration", "42");
  BOOST_TEST(bench.twilio_callback(target, recording).result_int() == 204u);
  // Without the lead in the URL, the call names it.
  BOOST_TEST(
      bench
          .twilio_callback("/webhook/twilio/transcription", {{"CallSid", kCall},
                                                             {"TranscriptionSid", "TR0123456789abcdef0123456789abcdef"},
                                                             {"TranscriptionText", "Please call me after six"},
                                                             {"TranscriptionStatus", "completed"},
                                                             {"RecordingSid", recording_sid}})
          .result_int() == 204u);
  auto lead = bench.lead(id);
  BOOST_TEST_REQUIRE(lead.recordings.size() == 1u);
  BOOST_TEST(lead.recordings[0].id == recording_sid);
  BOOST_TEST(lead.recordings[0].status == "completed");
  BOOST_TEST(lead.recordings[0].duration_ms.value_or(0) == 42'000);
  BOOST_TEST(lead.recordings[0].channels == 2u);
  BOOST_TEST(lead.recordings[0].file.empty());  // the provider keeps it
  BOOST_TEST_REQUIRE(lead.transcript.size() == 1u);
  BOOST_TEST(lead.transcript[0].text == "Please call me after six");
  BOOST_TEST(lead.transcript[0].source == "twilio");

  // Tampered after signing (the signature covers the form): 403, nothing kept.
  auto tampered = recording;
  const auto signature = providers::twilio::compute_signature(kToken, std::string(kBase) + target, recording);
  tampered[4].second = "absent";
  BOOST_TEST(bench.harness
                 .call({http::Verb::post,
                        target,
                        http::encode_form(tampered),
                        {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", signature}}})
                 .result_int() == 403u);
  BOOST_TEST(bench.twilio_callback(target, recording, "another-token").result_int() == 403u);
  // Signed but wrong: 400 with what is wrong.
  auto bad = recording;
  bad[2].second = "not-a-recording";
  const auto refused = bench.twilio_callback(target, bad);
  BOOST_TEST(refused.result_int() == 400u);
  BOOST_TEST(refused.body().find("RecordingSid") != std::string::npos);
  lead = bench.lead(id);
  BOOST_TEST(lead.recordings.size() == 1u);
  BOOST_TEST(lead.recordings[0].status == "completed");
}

BOOST_AUTO_TEST_CASE(the_unlabelled_webhook_knows_twilio_by_its_signature) {
  WebhookBench bench;
  const auto id = bench.lead_with_call();
  BOOST_TEST(bench.twilio_callback("/webhook?leadId=" + id, callback("in-progress", "1")).result_int() == 204u);
  BOOST_TEST((bench.lead(id).attempts.back().status == CallStatus::in_progress));
}

BOOST_AUTO_TEST_CASE(a_forged_or_altered_callback_is_403_and_changes_nothing) {
  WebhookBench bench;
  const auto id = bench.lead_with_call();
  auto forged = bench.twilio_callback("/webhook/twilio?leadId=" + id, callback("completed", "1"), "guessed-token");
  BOOST_TEST(forged.result_int() == 403u);
  BOOST_TEST(json_body(forged).at("error").as_string() == "request not authenticated: bad_signature");

  // Signed for one lead, replayed against another.
  const auto fields = callback("completed", "1");
  const auto signature =
      providers::twilio::compute_signature(kToken, std::string(kBase) + "/webhook/twilio?leadId=" + id, fields);
  auto replayed =
      bench.harness.call({http::Verb::post,
                          "/webhook/twilio?leadId=01JD3ZQ8X4V0R5M2K7N9P6T1YC",
                          http::encode_form(fields),
                          {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", signature}}});
  BOOST_TEST(replayed.result_int() == 403u);

  auto unsigned_post = bench.harness.call({http::Verb::post,
                                           "/webhook/twilio",
                                           http::encode_form(fields),
                                           {{"Content-Type", "application/x-www-form-urlencoded"}}});
  BOOST_TEST(unsigned_post.result_int() == 403u);

  BOOST_TEST(!bench.lead(id).attempts.back().status.has_value());
  BOOST_TEST(bench.lead(id).events.empty());
  BOOST_TEST(bench.endings.ended.empty());
}

BOOST_AUTO_TEST_CASE(a_malformed_callback_is_400_with_what_is_wrong) {
  WebhookBench bench;
  auto no_sid = bench.twilio_callback("/webhook/twilio", {{"CallStatus", "completed"}});
  BOOST_TEST(no_sid.result_int() == 400u);
  BOOST_TEST(json_body(no_sid).at("error").as_string() == "CallSid is missing");
  auto odd_status = bench.twilio_callback("/webhook/twilio", {{"CallSid", kCall}, {"CallStatus", "exploded"}});
  BOOST_TEST(odd_status.result_int() == 400u);
  BOOST_TEST(json_body(odd_status).at("error").as_string() == "CallStatus 'exploded' is not a Twilio call status");
}

BOOST_AUTO_TEST_CASE(an_event_the_store_cannot_take_is_503_so_the_provider_retries) {
  testing::UnavailableLeadStore down;
  WebhookBench bench(&down);
  auto answer = bench.twilio_callback("/webhook/twilio", callback("completed", "1"));
  BOOST_TEST(answer.result_int() == 503u);
  BOOST_TEST(json_body(answer).at("error").as_string() == "the event could not be stored; retry");
  BOOST_TEST(bench.endings.ended.empty());
}

BOOST_AUTO_TEST_CASE(the_simulators_endpoint_is_not_there_while_it_places_no_calls) {
  WebhookBench bench;
  auto answer = bench.harness.call({http::Verb::post,
                                    "/webhook/simulator",
                                    http::encode_form(callback("completed", "1")),
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}});
  BOOST_TEST(answer.result_int() == 404u);
  BOOST_TEST(json_body(answer).at("error").as_string() ==
             "no route for POST /webhook/simulator: simulator places no calls here");
}

BOOST_AUTO_TEST_SUITE_END()
