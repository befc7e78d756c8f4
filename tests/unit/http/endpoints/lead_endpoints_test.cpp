// POST /enquire, GET /enquire/{id}, GET /leads/{id} and GET /leads, one
// request at a time in-process: the status, the body, the headers, what
// reaches the store and the dialer, and what a hostile or careless client
// gets back.
#include "http/endpoints/lead_endpoints.hpp"

#include "core/dialer/embedded_dial_scheduler.hpp"
#include "core/store/memory_lead_store.hpp"
#include "endpoint_harness.hpp"
#include "lead_store_test_helpers.hpp"
#include "unavailable_lead_store.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace callgate;
using callgate::testing::EndpointHarness;
using callgate::testing::json_body;
namespace beast_http = boost::beast::http;

namespace {

// The dialer's side of the hand-over: what it was given, and whether it takes it.
class RecordingFirstCallQueue final : public dialer::FirstCallQueue {
 public:
  boost::asio::awaitable<store::StoreResult<bool>> enqueue_first_call(const Lead& lead) override {
    handed.push_back(lead.id);
    if (refuse) co_return store::StoreError{store::StoreFailure::unavailable, "the scheduler is down"};
    co_return true;
  }
  // With leads_beside set, the first call is stored with the lead (as on
  // DynamoDB); without, the endpoint stores the lead and hands it over.
  bool stores_first_call_with_lead() const override { return leads_beside != nullptr; }
  bool calls_are_over(const Lead& lead) const override { return over.contains(lead.id); }
  boost::asio::awaitable<store::StoreResult<store::CreateResult>> create_with_first_call(
      store::CreateRequest request) override {
    BOOST_REQUIRE_MESSAGE(leads_beside != nullptr, "asked to store a lead it does not keep");
    auto created = co_await leads_beside->create(std::move(request));
    if (const auto* result = std::get_if<store::CreateResult>(&created); result && result->created)
      stored_with_lead.push_back(result->lead.id);
    co_return created;
  }
  std::vector<std::string> handed;
  std::vector<std::string> stored_with_lead;
  store::LeadStore* leads_beside = nullptr;
  std::set<std::string> over;  // leads whose calls it says are over
  bool refuse = false;
};

Config intake_config() {
  Config config;
  config.admin.token = "admin-secret";
  config.intake.rate_burst = 100;
  config.intake.rate_per_minute = 1000;
  return config;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

struct LeadEndpointsBench {
  explicit LeadEndpointsBench(const Config& config, store::LeadStore* store_in_use = nullptr)
      : harness(config),
        store(store_in_use != nullptr ? *store_in_use : memory),
        rate_limiter(config.intake.rate_per_minute, config.intake.rate_burst),
        status_rate_limiter(config.intake.status_rate_per_minute, config.intake.status_rate_burst),
        ids(http::declare_lead_metrics(harness.metrics())),
        services{store, rate_limiter, status_rate_limiter, ids, first_calls, scheduler} {
    http::register_lead_endpoints(harness.router, services);
  }
  LeadEndpointsBench() : LeadEndpointsBench(intake_config()) {}

  http::Response enquire(const std::string& body, Headers headers = {}) {
    return harness.post_json("/enquire", body, std::move(headers));
  }
  http::Response enquire_from(const std::string& peer, const std::string& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return harness.call({http::Verb::post, "/enquire", body, std::move(headers), peer});
  }
  Lead stored(const http::Response& answer) {
    const std::string id(json_body(answer).at("leadId").as_string());
    return conformance::expect(conformance::run(store.get(id)));
  }

  EndpointHarness harness;
  store::MemoryLeadStore memory;
  store::LeadStore& store;
  RecordingFirstCallQueue first_calls;
  dialer::EmbeddedDialScheduler scheduler{""};
  http::SharedRateLimiter rate_limiter;
  http::SharedRateLimiter status_rate_limiter;
  http::LeadMetricIds ids;
  http::LeadServices services;
};

const std::string kGoodEnquiry = R"({"phone":"+14155550123","name":"Asha","consent":true})";
const Headers kAdmin = {{"Authorization", "Bearer admin-secret"}};

}  // namespace

BOOST_AUTO_TEST_SUITE(lead_endpoints)

BOOST_AUTO_TEST_CASE(an_enquiry_is_stored_with_its_consent_and_handed_to_the_dialer) {
  LeadEndpointsBench bench;
  auto answer = bench.enquire(kGoodEnquiry, {{"User-Agent", "Mozilla/5.0 test"}});
  BOOST_TEST(answer.result_int() == 202u);
  const auto body = json_body(answer);
  const std::string id(body.at("leadId").as_string());
  BOOST_TEST(body.at("status").as_string() == "pending");
  BOOST_TEST(!body.contains("existing"));
  BOOST_TEST(bench.first_calls.handed == std::vector<std::string>{id});

  const auto lead = bench.stored(answer);
  BOOST_TEST(lead.phone == "+14155550123");
  BOOST_TEST(lead.name == "Asha");
  BOOST_TEST(lead.consent.client_address == "203.0.113.7");
  BOOST_TEST(lead.consent.user_agent == "Mozilla/5.0 test");
  BOOST_TEST(lead.consent.text_version == "v1");
}

BOOST_AUTO_TEST_CASE(where_jobs_live_beside_the_leads_the_enquiry_and_its_call_are_one_write) {
  LeadEndpointsBench bench;
  bench.first_calls.leads_beside = &bench.store;
  const auto answer = bench.enquire(kGoodEnquiry);
  BOOST_TEST(answer.result_int() == 202u);
  const std::string id(json_body(answer).at("leadId").as_string());
  BOOST_TEST(bench.first_calls.stored_with_lead == std::vector<std::string>{id});
  BOOST_TEST(bench.first_calls.handed.empty());  // no second step
  // The same number again from the same client: the lead exists, nothing
  // was written with it, so its first call is handed over (it has no attempt).
  const auto again = bench.enquire(kGoodEnquiry);
  BOOST_TEST(json_body(again).at("leadId").as_string() == id);
  BOOST_TEST(bench.first_calls.stored_with_lead.size() == 1u);
  BOOST_TEST(bench.first_calls.handed == std::vector<std::string>{id});
}

BOOST_AUTO_TEST_CASE(the_same_number_after_its_calls_are_over_is_a_new_lead_unless_the_business_says_otherwise) {
  LeadEndpointsBench bench;
  const std::string first(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string());
  // Within the window, its call still to come or under way: the same lead.
  BOOST_TEST(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string() == first);
  // Its calls over: a new lead, handed to the dialer.
  bench.first_calls.over.insert(first);
  const auto again = bench.enquire(kGoodEnquiry);
  BOOST_TEST(again.result_int() == 202u);
  const std::string second(json_body(again).at("leadId").as_string());
  BOOST_TEST(second != first);
  BOOST_TEST(!json_body(again).contains("existing"));
  BOOST_TEST(bench.stored(again).phone == "+14155550123");
  BOOST_TEST(bench.first_calls.handed.back() == second);
  // And the new one is the number's lead for the window now.
  BOOST_TEST(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string() == second);
  // A repeated Idempotency-Key is the same request: its own lead, even when that lead is done.
  const Headers keyed = {{"Idempotency-Key", "form-submit-7"}};
  const std::string keyed_lead(
      json_body(bench.enquire(R"({"phone":"+14155550999","consent":true})", keyed)).at("leadId").as_string());
  bench.first_calls.over.insert(keyed_lead);
  BOOST_TEST(json_body(bench.enquire(R"({"phone":"+14155550999","consent":true})", keyed)).at("leadId").as_string() ==
             keyed_lead);
}

BOOST_AUTO_TEST_CASE(with_repeat_when_done_same_lead_a_finished_lead_is_the_answer) {
  auto config = intake_config();
  config.intake.repeat_when_done = RepeatWhenDone::same_lead;
  LeadEndpointsBench bench(config);
  const std::string first(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string());
  bench.first_calls.over.insert(first);
  const auto again = bench.enquire(kGoodEnquiry);
  BOOST_TEST(json_body(again).at("leadId").as_string() == first);
  BOOST_TEST(json_body(again).at("existing").as_bool());
  // No other lead was made: whatever was handed over is the first one
  // (this fake dialer never records a call, so the lead is handed again).
  for (const auto& handed : bench.first_calls.handed) BOOST_TEST(handed == first);
}

BOOST_AUTO_TEST_CASE(a_page_of_another_origin_may_not_post_unless_listed) {
  auto config = intake_config();
  config.intake.cors_allowed_origins = {"https://shop.example"};
  config.server.public_base_url = "https://callgate.example/leads-in";
  LeadEndpointsBench bench(config);
  const auto refused = bench.enquire(kGoodEnquiry, {{"Origin", "https://evil.example"}, {"Host", "callgate.example"}});
  BOOST_TEST(refused.result_int() == 403u);
  BOOST_TEST(json_body(refused).at("error").as_string().find("origin") != std::string::npos);
  BOOST_TEST(!refused.count(beast_http::field::access_control_allow_origin));
  BOOST_TEST(bench.enquire(kGoodEnquiry, {{"Origin", "null"}}).result_int() == 403u);  // a sandboxed page
  BOOST_TEST(bench.first_calls.handed.empty());
  BOOST_TEST(conformance::expect(conformance::run(bench.store.list({}))).leads.empty());
  // Listed, this daemon's own page (the same host), and no browser at all: stored.
  BOOST_TEST(bench.enquire(kGoodEnquiry, {{"Origin", "https://shop.example"}}).result_int() == 202u);
  BOOST_TEST(bench
                 .enquire(R"({"phone":"+14155550124","consent":true})",
                          {{"Origin", "https://callgate.example"}, {"Host", "callgate.example"}})
                 .result_int() == 202u);
  BOOST_TEST(bench.enquire(R"({"phone":"+14155550125","consent":true})").result_int() == 202u);
  // Behind a proxy that sends its own Host: the public address's origin is callgated's own.
  BOOST_TEST(bench
                 .enquire(R"({"phone":"+14155550126","consent":true})",
                          {{"Origin", "https://callgate.example"}, {"Host", "127.0.0.1:8080"}})
                 .result_int() == 202u);
  BOOST_TEST(bench
                 .enquire(R"({"phone":"+14155550127","consent":true})",
                          {{"Origin", "https://callgate.example.evil"}, {"Host", "127.0.0.1:8080"}})
                 .result_int() == 403u);
  BOOST_TEST(bench.first_calls.handed.size() == 4u);
}

BOOST_AUTO_TEST_CASE(bad_enquiries_get_a_json_error_naming_the_field_and_store_nothing) {
  LeadEndpointsBench bench;
  auto no_consent = bench.enquire(R"({"phone":"+14155550123"})");
  BOOST_TEST(no_consent.result_int() == 422u);
  BOOST_TEST(json_body(no_consent).at("fields").as_object().at("consent").as_string() ==
             "is required: the visitor must agree to be called");
  BOOST_TEST(json_body(no_consent).at("requestId").as_string() == "test-request");

  auto bad_phone = bench.enquire(R"({"phone":"call me","consent":true})");
  BOOST_TEST(bad_phone.result_int() == 422u);
  BOOST_TEST(json_body(bad_phone).at("fields").as_object().contains("phone"));

  auto not_json = bench.enquire("{\"phone\":");
  BOOST_TEST(not_json.result_int() == 400u);
  BOOST_TEST(json_body(not_json).at("error").as_string() == "the body is not valid JSON");

  BOOST_TEST(bench.enquire("[1,2]").result_int() == 422u);

  auto wrong_type = bench.harness.call({http::Verb::post, "/enquire", "phone=1", {{"Content-Type", "text/plain"}}});
  BOOST_TEST(wrong_type.result_int() == 415u);

  auto long_key = bench.enquire(kGoodEnquiry, {{"Idempotency-Key", std::string(129, 'k')}});
  BOOST_TEST(long_key.result_int() == 422u);
  BOOST_TEST(json_body(long_key).at("fields").as_object().at("Idempotency-Key").as_string() ==
             "is longer than 128 characters");

  BOOST_TEST(bench.first_calls.handed.empty());
  const auto leads = conformance::expect(conformance::run(bench.store.list({})));
  BOOST_TEST(leads.leads.empty());
}

BOOST_AUTO_TEST_CASE(a_form_post_is_read_like_json) {
  LeadEndpointsBench bench;
  auto answer = bench.harness.call({http::Verb::post,
                                    "/enquire",
                                    "phone=%2B14155550123&consent=on&name=Ravi",
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}});
  BOOST_TEST(answer.result_int() == 202u);
  BOOST_TEST(bench.stored(answer).name == "Ravi");
}

BOOST_AUTO_TEST_CASE(the_same_number_again_is_the_same_lead_for_its_client_and_a_stranger_learns_nothing) {
  LeadEndpointsBench bench;
  const auto first = json_body(bench.enquire(kGoodEnquiry));
  const auto again = json_body(bench.enquire(kGoodEnquiry));
  BOOST_TEST(again.at("leadId") == first.at("leadId"));
  BOOST_TEST(again.at("existing").as_bool());
  // A lead with no call yet is handed over again (the dialer takes a lead it
  // already holds as a no-op): a hand-over that failed before is not lost.
  BOOST_TEST(bench.first_calls.handed.size() == 2u);

  // Another address with the same number: a handle of its own, never the
  // first client's lead id, and no second call.
  auto stranger = bench.enquire_from("198.51.100.20", kGoodEnquiry);
  BOOST_TEST(stranger.result_int() == 202u);
  const auto other = json_body(stranger);
  BOOST_TEST(other.at("status").as_string() == "duplicate");
  BOOST_TEST(other.at("leadId") != first.at("leadId"));
  BOOST_TEST(bench.first_calls.handed.size() == 2u);
}

BOOST_AUTO_TEST_CASE(too_many_enquiries_from_one_address_get_429_with_retry_after) {
  auto config = intake_config();
  config.intake.rate_burst = 2;
  config.intake.rate_per_minute = 1;
  LeadEndpointsBench bench(config);
  BOOST_TEST(bench.enquire(R"({"phone":"+14155550101","consent":true})").result_int() == 202u);
  BOOST_TEST(bench.enquire(R"({"phone":"+14155550102","consent":true})").result_int() == 202u);
  auto limited = bench.enquire(R"({"phone":"+14155550103","consent":true})");
  BOOST_TEST(limited.result_int() == 429u);
  BOOST_TEST(std::stoi(std::string(limited[beast_http::field::retry_after])) >= 1);
  BOOST_TEST(json_body(limited).at("error").as_string() == "too many enquiries from this address; try later");
  // Another address has a bucket of its own.
  BOOST_TEST(bench.enquire_from("198.51.100.20", R"({"phone":"+14155550104","consent":true})").result_int() == 202u);
}

BOOST_AUTO_TEST_CASE(a_store_or_dialer_that_is_down_gets_503_and_retry_after) {
  testing::UnavailableLeadStore down;
  LeadEndpointsBench bench(intake_config(), &down);
  auto answer = bench.enquire(kGoodEnquiry);
  BOOST_TEST(answer.result_int() == 503u);
  BOOST_TEST(answer[beast_http::field::retry_after] == "5");
  BOOST_TEST(bench.first_calls.handed.empty());

  LeadEndpointsBench refusing;
  refusing.first_calls.refuse = true;
  auto unscheduled = refusing.enquire(kGoodEnquiry);
  BOOST_TEST(unscheduled.result_int() == 503u);
  BOOST_TEST(json_body(unscheduled).at("error").as_string() == "the call could not be scheduled; try again");
  // Stored all the same: the client's retry finds it and hands it over again.
  refusing.first_calls.refuse = false;
  auto retried = json_body(refusing.enquire(kGoodEnquiry));
  BOOST_TEST(retried.at("existing").as_bool());
  BOOST_TEST(refusing.first_calls.handed.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_status_page_sees_the_status_alone) {
  LeadEndpointsBench bench;
  const std::string id(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string());
  auto status = bench.harness.get("/enquire/" + id);
  BOOST_TEST(status.result_int() == 200u);
  BOOST_TEST(status[beast_http::field::cache_control] == "no-store");
  const auto body = json_body(status);
  BOOST_TEST(body.size() == 2u);  // leadId and status: no phone, no name
  BOOST_TEST(body.at("status").as_string() == "pending");
  BOOST_TEST(bench.harness.get("/enquire/01JD3ZQ8X4V0R5M2K7N9P6T1YB").result_int() == 404u);
  BOOST_TEST(bench.harness.get("/enquire/..%2F..%2Fetc").result_int() == 404u);
}

BOOST_AUTO_TEST_CASE(the_admin_endpoints_want_the_bearer_token) {
  LeadEndpointsBench bench;
  const std::string id(json_body(bench.enquire(kGoodEnquiry)).at("leadId").as_string());
  auto anonymous = bench.harness.get("/leads/" + id);
  BOOST_TEST(anonymous.result_int() == 401u);
  BOOST_TEST(anonymous[beast_http::field::www_authenticate] == "Bearer");
  BOOST_TEST(bench.harness.get("/leads/" + id, {{"Authorization", "Bearer admin-secreT"}}).result_int() == 401u);
  BOOST_TEST(bench.harness.get("/leads", {{"Authorization", "admin-secret"}}).result_int() == 401u);

  auto lead = bench.harness.get("/leads/" + id, kAdmin);
  BOOST_TEST(lead.result_int() == 200u);
  BOOST_TEST(json_body(lead).at("phone").as_string() == "+14155550123");

  // No token configured: nobody gets in, the empty bearer included.
  auto closed = intake_config();
  closed.admin.token.clear();
  LeadEndpointsBench without_token(closed);
  BOOST_TEST(without_token.harness.get("/leads", {{"Authorization", "Bearer "}}).result_int() == 401u);
}

BOOST_AUTO_TEST_CASE(listing_checks_every_parameter) {
  LeadEndpointsBench bench;
  (void)bench.enquire(R"({"phone":"+14155550101","consent":true})");
  (void)bench.enquire(R"({"phone":"+14155550102","consent":true})");
  auto page = json_body(bench.harness.get("/leads?limit=1", kAdmin));
  BOOST_TEST(page.at("leads").as_array().size() == 1u);
  BOOST_TEST_REQUIRE(page.contains("nextCursor"));
  const std::string cursor(page.at("nextCursor").as_string());
  auto rest = json_body(bench.harness.get("/leads?limit=1&cursor=" + cursor, kAdmin));
  BOOST_TEST(rest.at("leads").as_array().size() == 1u);
  BOOST_TEST(rest.at("leads").as_array()[0] != page.at("leads").as_array()[0]);

  for (const auto* bad : {"limit=0", "limit=501", "limit=ten", "status=sleeping", "since=yesterday", "cursor=x"})
    BOOST_TEST(bench.harness.get(std::string("/leads?") + bad, kAdmin).result_int() == 400u, bad);
  BOOST_TEST(json_body(bench.harness.get("/leads?limit=501", kAdmin)).at("error").as_string() ==
             "limit must be 1 to 500");
}

BOOST_AUTO_TEST_CASE(cors_answers_only_the_configured_origins) {
  auto config = intake_config();
  config.intake.cors_allowed_origins = {"https://www.example.com"};
  LeadEndpointsBench bench(config);
  auto allowed = bench.harness.call({http::Verb::options, "/enquire", "", {{"Origin", "https://www.example.com"}}});
  BOOST_TEST(allowed.result_int() == 204u);
  BOOST_TEST(allowed[beast_http::field::access_control_allow_origin] == "https://www.example.com");
  auto refused = bench.harness.call({http::Verb::options, "/enquire", "", {{"Origin", "https://evil.example"}}});
  BOOST_TEST(refused.result_int() == 403u);
  auto posted = bench.enquire(kGoodEnquiry, {{"Origin", "https://evil.example"}});
  BOOST_TEST(posted[beast_http::field::access_control_allow_origin].empty());

  // The status poll: its preflight allows GET, and the answer carries the origin.
  const std::string id(json_body(bench.enquire(R"({"phone":"+14155550177","consent":true})")).at("leadId").as_string());
  auto status_preflight =
      bench.harness.call({http::Verb::options, "/enquire/" + id, "", {{"Origin", "https://www.example.com"}}});
  BOOST_TEST(status_preflight.result_int() == 204u);
  BOOST_TEST(status_preflight[beast_http::field::access_control_allow_methods] == "GET");
  BOOST_TEST(status_preflight[beast_http::field::access_control_allow_origin] == "https://www.example.com");
  BOOST_TEST(bench.harness.call({http::Verb::options, "/enquire/" + id, "", {{"Origin", "https://evil.example"}}})
                 .result_int() == 403u);
  auto polled = bench.harness.get("/enquire/" + id, {{"Origin", "https://www.example.com"}});
  BOOST_TEST(polled[beast_http::field::access_control_allow_origin] == "https://www.example.com");
}

BOOST_AUTO_TEST_CASE(the_client_behind_a_trusted_proxy_is_the_last_untrusted_hop) {
  auto config = intake_config();
  config.server.trusted_proxies = {*NetworkRange::parse("10.0.0.0/8")};
  LeadEndpointsBench bench(config);
  auto proxied = bench.enquire_from("10.0.0.1", kGoodEnquiry, {{"X-Forwarded-For", "1.2.3.4, 198.51.100.9, 10.0.0.5"}});
  // 1.2.3.4 is whatever the client wrote; 198.51.100.9 is the first hop no proxy of ours vouches past.
  BOOST_TEST(bench.stored(proxied).consent.client_address == "198.51.100.9");
  // An untrusted peer's X-Forwarded-For counts for nothing.
  auto spoofed =
      bench.enquire_from("192.0.2.44", R"({"phone":"+14155550199","consent":true})", {{"X-Forwarded-For", "10.9.9.9"}});
  BOOST_TEST(bench.stored(spoofed).consent.client_address == "192.0.2.44");
}

BOOST_AUTO_TEST_SUITE_END()
