#include "core/config_loader.hpp"
#include "providers/exotel/settings.hpp"
#include "providers/provider.hpp"
#include "providers/simulator/settings.hpp"
#include "providers/twilio/settings.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <map>

using namespace callgate;
namespace twilio = callgate::providers::twilio;
namespace exotel = callgate::providers::exotel;
namespace simulator = callgate::providers::simulator;
using simulator::SimulatorFormat;

namespace {

EnvironmentLookup environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto found = values.find(std::string(name));
    if (found == values.end() || found->second.empty()) return std::nullopt;
    return found->second;
  };
}

ConfigLoadResult load(const std::string& yaml, const EnvironmentLookup& env = no_environment()) {
  return load_config_text(yaml, "test.yaml", env, providers::config_sections());
}

// The errors as "file:line: message" lines, for readable failures.
std::string describe(const ConfigLoadResult& result) {
  std::string text;
  for (const auto& error : result.errors) text += error.to_string() + "\n";
  return text;
}

bool has_error(const ConfigLoadResult& result, const std::string& expected) {
  for (const auto& error : result.errors)
    if (error.to_string().find(expected) != std::string::npos) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_loader)

BOOST_AUTO_TEST_CASE(an_empty_file_gives_the_documented_defaults) {
  auto result = load("");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& c = result.config;
  BOOST_TEST(c.server.listen.to_string() == "127.0.0.1:8080");
  BOOST_TEST(c.server.threads == 0u);
  BOOST_TEST(c.server.public_base_url == "http://127.0.0.1:8080");
  BOOST_TEST(c.server.max_body_bytes == 1048576u);
  BOOST_TEST(c.server.max_header_bytes == 16384u);
  BOOST_TEST(c.server.read_timeout.count() == 10'000);
  BOOST_TEST(c.server.drain_timeout.count() == 15'000);
  BOOST_TEST((c.log.level == LogLevel::info));
  BOOST_TEST((c.store.backend == StoreBackend::journal));
  BOOST_TEST((c.telephony.provider == ProviderName("simulator")));
  BOOST_TEST(twilio::settings_of(c).api_base == "https://api.twilio.com");
}

BOOST_AUTO_TEST_CASE(reads_every_kind_of_value) {
  auto result = load(R"(
server:
  listen: "[::1]:9090"
  threads: 3
  public_base_url: "https://calls.example.com/gate/"
  max_body_bytes: 2048
  read_timeout: 250ms
  idle_timeout: 2m
log:
  level: debug
  access_log: false
store:
  backend: redis
  redis:
    url: "redis://127.0.0.1:6390/2"
telephony:
  provider: twilio
  twilio:
    account_sid: "AC0123456789abcdef0123456789abcdef"
    auth_token: "secret"
    phone_number: "+14155550100"
    record_calls: true
)");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& c = result.config;
  BOOST_TEST(c.server.listen.is_ipv6);
  BOOST_TEST(c.server.listen.port == 9090);
  BOOST_TEST(c.server.threads == 3u);
  BOOST_TEST(c.server.public_base_url == "https://calls.example.com/gate");  // trailing slash dropped
  BOOST_TEST(c.server.max_body_bytes == 2048u);
  BOOST_TEST(c.server.read_timeout.count() == 250);
  BOOST_TEST(c.server.idle_timeout.count() == 120'000);
  BOOST_TEST((c.log.level == LogLevel::debug));
  BOOST_TEST(!c.log.access_log);
  BOOST_TEST((c.store.backend == StoreBackend::redis));
  BOOST_TEST(twilio::settings_of(c).record_calls);
}

BOOST_AUTO_TEST_CASE(each_error_names_its_line) {
  auto result = load(
      "server:\n"
      "  listen: \"127.0.0.1:8080\"\n"
      "  threads: many\n"       // line 3
      "  read_timeout: 30\n"    // line 4: no unit
      "  max_body_bytes: 10\n"  // line 5: below the minimum
      "log:\n"
      "  level: verbose\n"  // line 7
      "  colour: true\n"    // line 8: unknown
      "mystery: 1\n");      // line 9: unknown section
  BOOST_TEST(!result.ok());
  BOOST_TEST(has_error(result, "test.yaml:3: server.threads: expected a whole number"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:4: server.read_timeout: expected a duration"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:5: server.max_body_bytes"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:7: log.level: expected one of debug, info, warn, error, got 'verbose'"),
             describe(result));
  BOOST_TEST(has_error(result, "test.yaml:8: unknown key 'log.colour'"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:9: unknown key 'mystery'"), describe(result));
  BOOST_TEST(result.errors.size() == 6u, describe(result));
}

BOOST_AUTO_TEST_CASE(wrong_types_are_errors_not_guesses) {
  auto result = load("server:\n  threads: [1, 2]\nlog:\n  access_log: yes\nadmin: just-a-string\n");
  BOOST_TEST(has_error(result, "test.yaml:2: server.threads: expected a number, got a list"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:4: log.access_log: expected true or false, got 'yes'"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:5: admin must be a mapping"), describe(result));
}

BOOST_AUTO_TEST_CASE(a_key_given_twice_is_an_error) {
  auto result = load("server:\n  threads: 1\n  threads: 2\n");
  BOOST_TEST(has_error(result, "test.yaml:3: duplicate key 'server.threads'"), describe(result));
}

BOOST_AUTO_TEST_CASE(syntax_errors_point_at_their_line) {
  auto result = load("log:\n  level: info\nserver: {threads: 2\n");
  BOOST_TEST_REQUIRE(result.errors.size() == 1u, describe(result));
  BOOST_TEST(result.errors[0].where == "test.yaml:4", result.errors[0].to_string());
  BOOST_TEST(result.errors[0].message.find("YAML syntax") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_values_are_rejected) {
  auto result = load(R"(
server:
  listen: "example.com:80"
  public_base_url: "ftp://example.com"
store:
  backend: redis
  redis:
    url: "localhost:6379"
telephony:
  twilio:
    account_sid: "ACnothex"
    api_base: "https://api.twilio.com/2010-04-01"
)");
  BOOST_TEST(has_error(result, "test.yaml:3: server.listen: host must be an IP address"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:4: server.public_base_url"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:8: store.redis.url"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:11: telephony.twilio.account_sid"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:12: telephony.twilio.api_base"), describe(result));
}

BOOST_AUTO_TEST_CASE(the_redis_orphan_wait_reads_and_is_bounded) {
  BOOST_TEST(load("").config.store.redis_orphan_wait.count() == 3'600'000);
  const auto short_wait = load("store:\n  redis:\n    orphan_wait: 90s\n");
  BOOST_TEST(short_wait.errors.empty(), describe(short_wait));
  BOOST_TEST(short_wait.config.store.redis_orphan_wait.count() == 90'000);
  const auto too_short = load("store:\n  redis:\n    orphan_wait: 10ms\n");
  BOOST_TEST(has_error(too_short, "test.yaml:3: store.redis.orphan_wait"), describe(too_short));
  const auto too_long = load("store:\n  redis:\n    orphan_wait: 721h\n");
  BOOST_TEST(has_error(too_long, "test.yaml:3: store.redis.orphan_wait"), describe(too_long));
}

BOOST_AUTO_TEST_CASE(the_dynamodb_store_reads_its_keys_and_takes_its_region_from_aws_region) {
  const auto full = load(
      "store:\n  backend: dynamodb\n  dynamodb:\n    region: ap-south-1\n    table: leads.prod\n"
      "    endpoint: \"http://127.0.0.1:8000\"\n    create_table: true\n    operation_timeout: 3s\n");
  BOOST_TEST_REQUIRE(full.ok(), describe(full));
  BOOST_TEST((full.config.store.backend == StoreBackend::dynamodb));
  BOOST_TEST(full.config.store.dynamodb_region == "ap-south-1");
  BOOST_TEST(full.config.store.dynamodb_table == "leads.prod");
  BOOST_TEST(full.config.store.dynamodb_endpoint == "http://127.0.0.1:8000");
  BOOST_TEST(full.config.store.dynamodb_create_table);
  BOOST_TEST(full.config.store.dynamodb_operation_timeout.count() == 3'000);
  // The region from the SDKs' variable when the file names none; the file's wins otherwise.
  const auto from_environment = load("store:\n  backend: dynamodb\n", environment({{"AWS_REGION", "eu-west-1"}}));
  BOOST_TEST_REQUIRE(from_environment.ok(), describe(from_environment));
  BOOST_TEST(from_environment.config.store.dynamodb_region == "eu-west-1");
  BOOST_TEST(full.config.store.dynamodb_region == "ap-south-1");
  const auto file_wins = load("store:\n  backend: dynamodb\n  dynamodb:\n    region: ap-south-1\n",
                              environment({{"AWS_REGION", "eu-west-1"}}));
  BOOST_TEST(file_wins.config.store.dynamodb_region == "ap-south-1");
}

BOOST_AUTO_TEST_CASE(a_dynamodb_store_without_a_region_or_with_a_clear_text_endpoint_is_refused) {
  const auto no_region = load("store:\n  backend: dynamodb\n");
  BOOST_TEST(has_error(no_region, "store.dynamodb.region: set it, or AWS_REGION"), describe(no_region));
  const auto bad = load(
      "store:\n  backend: dynamodb\n  dynamodb:\n    region: \"Mumbai\"\n    table: \"x\"\n"
      "    endpoint: \"http://10.0.0.5:8000\"\n");
  BOOST_TEST(has_error(bad, "test.yaml:4: store.dynamodb.region: expected a region"), describe(bad));
  BOOST_TEST(has_error(bad, "test.yaml:5: store.dynamodb.table"), describe(bad));
  // Signed writes in the clear to another machine: only https leaves this host.
  BOOST_TEST(has_error(bad, "test.yaml:6: store.dynamodb.endpoint"), describe(bad));
  const auto https = load(
      "store:\n  backend: dynamodb\n  dynamodb:\n    region: us-gov-west-1\n"
      "    endpoint: \"https://dynamodb.us-gov-west-1.amazonaws.com\"\n");
  BOOST_TEST(https.ok(), describe(https));
  // Another backend does not care what the dynamodb section would need.
  BOOST_TEST(load("store:\n  dynamodb:\n    table: \"x\"\n").ok());
}

BOOST_AUTO_TEST_CASE(lead_event_endpoints_read_and_are_checked) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const auto good =
      load("events:\n  endpoints:\n    - url: \"https://crm.example.com/hooks?tenant=acme\"\n      secret: \"" +
           secret + "\"\n    - name: local\n      url: \"http://127.0.0.1:9000/x\"\n      secret: \"" + secret +
           "\"\n      types: [lead.created, call.status]\n  retry:\n    first: 2s\n    longest: 1m\n"
           "  give_up_after: 24h\n  timeout: 5s\n  concurrency: 3\n");
  BOOST_TEST_REQUIRE(good.ok(), describe(good));
  const auto& events = good.config.events;
  BOOST_TEST_REQUIRE(events.endpoints.size() == 2u);
  // Named by its URL, less the query (where a receiver's token may be).
  BOOST_TEST(events.endpoints[0].name == "https://crm.example.com/hooks");
  BOOST_TEST(events.endpoints[1].name == "local");
  BOOST_TEST((events.endpoints[1].types == std::vector<std::string>{"lead.created", "call.status"}));
  BOOST_TEST(events.retry_first.count() == 2'000);
  BOOST_TEST(events.retry_longest.count() == 60'000);
  BOOST_TEST(events.give_up_after.count() == 86'400'000);
  BOOST_TEST(events.timeout.count() == 5'000);
  BOOST_TEST(events.concurrency == 3u);

  auto endpoint = [&](const std::string& fields) { return load("events:\n  endpoints:\n    - " + fields); };
  // Signed lead data in the clear to another machine: only https leaves this host.
  const auto clear = endpoint("url: \"http://10.0.0.5/hooks\"\n      secret: \"" + secret + "\"\n");
  BOOST_TEST(has_error(clear, "events.endpoints[0].url: expected an https:// URL"), describe(clear));
  const auto credentials = endpoint("url: \"https://user:pw@crm.example.com/\"\n      secret: \"" + secret + "\"\n");
  BOOST_TEST(has_error(credentials, "events.endpoints[0].url"), describe(credentials));
  const auto weak = endpoint("url: \"https://crm.example.com/\"\n      secret: \"whsec_c2hvcnQ=\"\n");
  BOOST_TEST(has_error(weak, "events.endpoints[0].secret: expected whsec_"), describe(weak));
  const auto unknown = endpoint("url: \"https://crm.example.com/\"\n      secret: \"" + secret +
                                "\"\n      types: [lead.created, lead.exploded]\n");
  BOOST_TEST(has_error(unknown, "unknown event type 'lead.exploded'"), describe(unknown));
  const auto twice =
      load("events:\n  endpoints:\n    - {name: a, url: \"https://a.example.com/\", secret: \"" + secret +
           "\"}\n    - {name: a, url: \"https://b.example.com/\", secret: \"" + secret + "\"}\n");
  BOOST_TEST(has_error(twice, "two endpoints are named 'a'"), describe(twice));
  // The outbox lives in the journal: a networked store cannot keep it (yet).
  const auto on_redis = load(
      "store:\n  backend: redis\nevents:\n  endpoints:\n    - url: \"https://a.example.com/\"\n"
      "      secret: \"" +
      secret + "\"\n");
  BOOST_TEST(has_error(on_redis, "events.endpoints: lead events are kept with the journal store"), describe(on_redis));
  const auto backwards = load("events:\n  retry:\n    first: 1h\n    longest: 1m\n");
  BOOST_TEST(has_error(backwards, "events.retry.first"), describe(backwards));
}

BOOST_AUTO_TEST_CASE(the_journal_sync_cap_reads_and_is_bounded) {
  BOOST_TEST(load("").config.store.journal_max_syncs_per_second == 2'000u);
  const auto capped = load("store:\n  journal:\n    max_syncs_per_second: 500\n");
  BOOST_TEST_REQUIRE(capped.errors.empty(), describe(capped));
  BOOST_TEST(capped.config.store.journal_max_syncs_per_second == 500u);
  BOOST_TEST(load("store:\n  journal:\n    max_syncs_per_second: 0\n").config.store.journal_max_syncs_per_second == 0u);
  const auto too_many = load("store:\n  journal:\n    max_syncs_per_second: 2000000\n");
  BOOST_TEST(has_error(too_many, "test.yaml:3: store.journal.max_syncs_per_second"), describe(too_many));
  const auto negative = load("store:\n  journal:\n    max_syncs_per_second: -1\n");
  BOOST_TEST(has_error(negative, "test.yaml:3: store.journal.max_syncs_per_second"), describe(negative));
}

BOOST_AUTO_TEST_CASE(warm_provider_connections_read_and_stay_within_the_pool) {
  BOOST_TEST(load("").config.telephony.http_client.warm_connections == 2u);
  const auto none = load("telephony:\n  http_client:\n    warm_connections: 0\n");
  BOOST_TEST_REQUIRE(none.errors.empty(), describe(none));
  BOOST_TEST(none.config.telephony.http_client.warm_connections == 0u);
  const auto eight = load("telephony:\n  http_client:\n    warm_connections: 8\n");
  BOOST_TEST(eight.config.telephony.http_client.warm_connections == 8u);
  const auto past_pool = load("telephony:\n  http_client:\n    max_connections_per_host: 4\n    warm_connections: 5\n");
  BOOST_TEST(
      has_error(past_pool, "telephony.http_client.warm_connections: must not exceed max_connections_per_host (4)"),
      describe(past_pool));
  BOOST_TEST(has_error(load("telephony:\n  http_client:\n    warm_connections: -2\n"),
                       "telephony.http_client.warm_connections"));
}

BOOST_AUTO_TEST_CASE(a_chosen_provider_needs_its_credentials) {
  auto result = load("telephony:\n  provider: exotel\n");
  BOOST_TEST(has_error(result, "test.yaml:2: telephony.exotel.account_sid is required"), describe(result));
  BOOST_TEST(has_error(result, "telephony.exotel.api_token is required"), describe(result));
  // Exotel signs nothing, so some way of knowing its callbacks is required too.
  BOOST_TEST(has_error(result, "test.yaml:2: Exotel signs nothing"), describe(result));
  BOOST_TEST(result.errors.size() == 5u, describe(result));
}

BOOST_AUTO_TEST_CASE(the_environment_wins_over_the_file) {
  auto result = load(R"(
telephony:
  provider: simulator
  twilio:
    auth_token: "from-file"
    phone_number: "+14155550100"
)",
                     environment({{"TELEPHONY_PROVIDER", "twilio"},
                                  {"TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"},
                                  {"TWILIO_AUTH_TOKEN", "from-env"},
                                  {"TWILIO_RECORD_CALLS", "1"},
                                  {"TWILIO_PHONE_NUMBER", ""},  // empty counts as unset
                                  {"EXOTEL_WEBHOOK_SECRET", "shh"},
                                  {"EXOTEL_FLOW_ID", "12345"}}));
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& config = result.config;
  BOOST_TEST((config.telephony.provider == ProviderName("twilio")));
  BOOST_TEST(twilio::settings_of(config).auth_token == "from-env");
  BOOST_TEST(twilio::settings_of(config).account_sid == "AC0123456789abcdef0123456789abcdef");
  BOOST_TEST(twilio::settings_of(config).phone_number == "+14155550100");
  BOOST_TEST(twilio::settings_of(config).record_calls);
  BOOST_TEST(exotel::settings_of(config).webhook_secret == "shh");
  BOOST_TEST(exotel::settings_of(config).flow_id == "12345");
}

BOOST_AUTO_TEST_CASE(every_seed_variable_lands_somewhere) {
  std::map<std::string, std::string> values;
  for (auto name : seed_environment_variables(providers::config_sections())) values[std::string(name)] = "x";
  values["TELEPHONY_PROVIDER"] = "simulator";
  values["TWILIO_RECORD_CALLS"] = "true";
  values["TWILIO_ACCOUNT_SID"] = "AC0123456789abcdef0123456789abcdef";
  values["TWILIO_CALL_FLOW_URL"] = "https://flows.example.com/twiml";
  values["EXOTEL_CALL_FLOW_URL"] = "http://my.exotel.com/x/exoml/start_voice/1";
  auto result = load("", environment(values));
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& config = result.config;
  BOOST_TEST(twilio::settings_of(config).auth_token == "x");
  BOOST_TEST(twilio::settings_of(config).phone_number == "x");
  BOOST_TEST(twilio::settings_of(config).auth_token_secondary == "x");
  BOOST_TEST(twilio::settings_of(config).record_calls);
  BOOST_TEST(twilio::settings_of(config).call_flow_url == "https://flows.example.com/twiml");
  BOOST_TEST(exotel::settings_of(config).account_sid == "x");
  BOOST_TEST(exotel::settings_of(config).api_key == "x");
  BOOST_TEST(exotel::settings_of(config).api_token == "x");
  BOOST_TEST(exotel::settings_of(config).exophone_number == "x");
  BOOST_TEST(exotel::settings_of(config).call_flow_url == "http://my.exotel.com/x/exoml/start_voice/1");
  BOOST_TEST(exotel::settings_of(config).flow_id == "x");
  BOOST_TEST(exotel::settings_of(config).webhook_secret == "x");
  BOOST_TEST(seed_environment_variables(providers::config_sections()).size() == 14u);
}

BOOST_AUTO_TEST_CASE(bad_environment_values_name_the_variable) {
  auto result = load("", environment({{"TWILIO_RECORD_CALLS", "maybe"}, {"TELEPHONY_PROVIDER", "plivo"}}));
  BOOST_TEST(has_error(result, "environment TWILIO_RECORD_CALLS: expected true or false, got 'maybe'"),
             describe(result));
  BOOST_TEST(has_error(result, "environment TELEPHONY_PROVIDER: expected one of twilio, simulator, exotel"),
             describe(result));
  auto sid = load("", environment({{"TWILIO_ACCOUNT_SID", "nope"}}));
  BOOST_TEST(has_error(sid, "environment TWILIO_ACCOUNT_SID: telephony.twilio.account_sid"), describe(sid));
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_reported) {
  auto result = load_config_file("/nonexistent/callgate.yaml", no_environment(), providers::config_sections());
  BOOST_TEST_REQUIRE(result.errors.size() == 1u);
  BOOST_TEST(result.errors[0].to_string() == "/nonexistent/callgate.yaml: cannot read the config file");
}

BOOST_AUTO_TEST_CASE(provider_routes_read_in_order) {
  auto result = load(R"(
telephony:
  provider: twilio
  twilio: {account_sid: "AC0123456789abcdef0123456789abcdef", auth_token: t, phone_number: "+14155550100"}
  exotel:
    account_sid: s
    api_key: k
    api_token: t
    exophone_number: "08047112233"
    webhook_auth: {callback_token: tok}
  routes:
    - prefix: "+91"
      providers: [exotel, twilio]
    - prefix: "+"
      providers: [twilio]
)");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& routes = result.config.telephony.routes;
  BOOST_TEST_REQUIRE(routes.size() == 2u);
  BOOST_TEST(routes[0].prefix == "+91");
  BOOST_TEST_REQUIRE(routes[0].providers.size() == 2u);
  BOOST_TEST((routes[0].providers[0] == ProviderName("exotel")));
  BOOST_TEST((routes[1].providers[0] == ProviderName("twilio")));
}

BOOST_AUTO_TEST_CASE(bad_routes_are_reported_by_position) {
  auto result = load(R"(
telephony:
  routes:
    - prefix: "91"
      providers: [plivo]
    - prefix: "+44"
      colour: blue
    - "not a mapping"
)");
  BOOST_TEST(has_error(result, "telephony.routes[0].prefix: expected '+' and up to 15 digits"), describe(result));
  BOOST_TEST(has_error(result, "telephony.routes[0].providers: unknown value 'plivo'"), describe(result));
  BOOST_TEST(has_error(result, "unknown key 'telephony.routes[1].colour'"), describe(result));
  BOOST_TEST(has_error(result, "telephony.routes[1].providers: needs at least one provider"), describe(result));
  BOOST_TEST(has_error(result, "telephony.routes[2] must be a mapping"), describe(result));
}

BOOST_AUTO_TEST_CASE(exotel_in_a_route_needs_credentials_and_a_webhook_check) {
  auto result = load("telephony:\n  routes:\n    - prefix: \"+91\"\n      providers: [exotel]\n");
  BOOST_TEST(has_error(result,
                       "test.yaml:1: telephony.exotel.api_key is required when Exotel places calls: set "
                       "EXOTEL_API_KEY (the service's environment file) or the key"),
             describe(result));
  BOOST_TEST(has_error(result, "Exotel signs nothing"), describe(result));
}

BOOST_AUTO_TEST_CASE(the_exotel_region_picks_the_api_host) {
  auto mumbai = load("telephony:\n  exotel:\n    region: mumbai\n");
  BOOST_TEST_REQUIRE(mumbai.ok(), describe(mumbai));
  BOOST_TEST(exotel::settings_of(mumbai.config).api_base == "https://api.in.exotel.com");
  auto fallback = load("");
  BOOST_TEST(exotel::settings_of(fallback.config).api_base == "https://api.exotel.com");
  auto explicit_base = load("telephony:\n  exotel:\n    region: mumbai\n    api_base: \"http://127.0.0.1:9000/\"\n");
  BOOST_TEST(exotel::settings_of(explicit_base.config).api_base == "http://127.0.0.1:9000");
  BOOST_TEST(has_error(load("telephony:\n  exotel:\n    region: mars\n"), "expected one of singapore, mumbai"));
}

BOOST_AUTO_TEST_CASE(provider_options_and_network_lists_are_checked) {
  auto result = load(R"(
server:
  trusted_proxies: ["10.0.0.0/8", "not-a-range"]
telephony:
  http_client:
    connect_timeout: 1
    ca_file: /nonexistent/ca.pem
  twilio:
    machine_detection: Sometimes
    ring_timeout: 601
  exotel:
    webhook_auth:
      allowed_sources: "10.0.0.0/8"
      basic_username: "a:b"
call_flow:
  next: stream
  stream:
    url: "https://agent.example.com/?lead=1"
  greeting:
    play: "ftp://x/y.mp3"
)");
  BOOST_TEST(has_error(result, "server.trusted_proxies: expected addresses or CIDR ranges"), describe(result));
  BOOST_TEST(has_error(result, "telephony.http_client.connect_timeout: expected a duration"), describe(result));
  BOOST_TEST(has_error(result, "telephony.http_client.ca_file: cannot read '/nonexistent/ca.pem'"), describe(result));
  BOOST_TEST(has_error(result, "telephony.twilio.machine_detection: expected Enable, DetectMessageEnd"),
             describe(result));
  BOOST_TEST(has_error(result, "telephony.twilio.ring_timeout: expected a whole number from 0 to 600"),
             describe(result));
  BOOST_TEST(has_error(result, "telephony.exotel.webhook_auth.allowed_sources: expected a list of strings"),
             describe(result));
  BOOST_TEST(has_error(result, "telephony.exotel.webhook_auth.basic_username: must not contain"), describe(result));
  BOOST_TEST(
      has_error(result, "telephony.exotel.webhook_auth.basic_password: basic_username and basic_password go together"),
      describe(result));
  BOOST_TEST(has_error(result, "call_flow.stream.url: expected a wss:// URL without a query"), describe(result));
  BOOST_TEST(has_error(result, "call_flow.greeting.play: expected an absolute http(s) URL"), describe(result));
}

BOOST_AUTO_TEST_CASE(the_call_flow_section_reads_into_its_struct) {
  auto result = load(R"(
call_flow:
  greeting: {say: "Namaste", voice: Polly.Aditi, language: en-IN}
  next: gather
  gather: {prompt: "Press 1", timeout: 7, num_digits: 1, hints: "sales", reply: "Bye"}
)");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& flow = result.config.call_flow;
  BOOST_TEST(flow.greeting_say == "Namaste");
  BOOST_TEST(flow.voice == "Polly.Aditi");
  BOOST_TEST((flow.next == CallFlowStep::gather));
  BOOST_TEST(flow.gather_timeout_seconds == 7u);
  BOOST_TEST(flow.gather_num_digits == 1u);
  BOOST_TEST(flow.gather_reply == "Bye");
}

BOOST_AUTO_TEST_CASE(a_bad_redis_url_is_refused_without_echoing_its_password) {
  auto bad = load("store:\n  backend: redis\n  redis:\n    url: \"redis://:hunter2@10.0.0.5:99999/0\"\n");
  BOOST_TEST(has_error(bad, "test.yaml:4: store.redis.url: expected redis[s]://"), describe(bad));
  BOOST_TEST(describe(bad).find("hunter2") == std::string::npos, describe(bad));
  auto good = load("store:\n  backend: redis\n  redis:\n    url: \"redis://:hunter2@10.0.0.5:6380/3\"\n");
  BOOST_TEST(good.ok(), describe(good));
  auto acl_user = load("store:\n  backend: redis\n  redis:\n    url: \"redis://callgate:hunter2@10.0.0.5:6380/3\"\n");
  BOOST_TEST(acl_user.ok(), describe(acl_user));
  auto user_without_password =
      load("store:\n  backend: redis\n  redis:\n    url: \"redis://callgate@10.0.0.5:6380/3\"\n");
  BOOST_TEST(has_error(user_without_password, "an ACL user needs its password"), describe(user_without_password));
}

BOOST_AUTO_TEST_CASE(redis_tls_files_are_for_rediss_urls_and_must_be_readable) {
  const std::string readable = std::string(CALLGATE_SOURCE_DIR) + "/README.md";
  auto tls = load("store:\n  backend: redis\n  redis:\n    url: \"rediss://10.0.0.5:6380/0\"\n    ca_file: \"" +
                  readable + "\"\n    cert_file: \"" + readable + "\"\n    key_file: \"" + readable + "\"\n");
  BOOST_TEST(tls.ok(), describe(tls));
  auto plain = load("store:\n  backend: redis\n  redis:\n    url: \"redis://10.0.0.5:6380/0\"\n    ca_file: \"" +
                    readable + "\"\n");
  BOOST_TEST(has_error(plain, "store.redis.ca_file: is used with a rediss:// URL only"), describe(plain));
  auto missing = load(
      "store:\n  backend: redis\n  redis:\n    url: \"rediss://10.0.0.5:6380/0\"\n    ca_file: "
      "\"/nonexistent/ca.pem\"\n");
  BOOST_TEST(has_error(missing, "store.redis.ca_file: cannot read '/nonexistent/ca.pem'"), describe(missing));
  auto half = load("store:\n  backend: redis\n  redis:\n    url: \"rediss://10.0.0.5:6380/0\"\n    cert_file: \"" +
                   readable + "\"\n");
  BOOST_TEST(has_error(half, "set both store.redis.cert_file and store.redis.key_file"), describe(half));
}

BOOST_AUTO_TEST_CASE(intake_keys_are_checked) {
  auto result = load(R"(
intake:
  default_country_code: "+91"
  cors_allowed_origins: ["https://www.example.com/form"]
  unknown_fields: drop
  rate_per_minute: 0
  duplicate_window: 10
  repeat_when_done: never
)");
  BOOST_TEST(has_error(result, "intake.default_country_code: expected 1 to 3 digits"), describe(result));
  BOOST_TEST(has_error(result, "intake.cors_allowed_origins: expected origins such as"), describe(result));
  BOOST_TEST(has_error(result, "intake.unknown_fields: expected one of ignore, reject"), describe(result));
  BOOST_TEST(has_error(result, "intake.rate_per_minute: expected a whole number from 1"), describe(result));
  BOOST_TEST(has_error(result, "intake.duplicate_window: expected a duration"), describe(result));
  BOOST_TEST(has_error(result, "intake.repeat_when_done: expected one of call_again, same_lead"), describe(result));
  auto fine = load(
      "intake:\n  default_country_code: \"1\"\n  rate_per_minute: 30\n  duplicate_window: 0s\n"
      "  repeat_when_done: same_lead\n");
  BOOST_TEST_REQUIRE(fine.ok(), describe(fine));
  BOOST_TEST(fine.config.intake.rate_per_minute == 30u);
  BOOST_TEST(fine.config.intake.duplicate_window.count() == 0);
  BOOST_TEST((fine.config.intake.repeat_when_done == RepeatWhenDone::same_lead));
  BOOST_TEST((load("").config.intake.repeat_when_done == RepeatWhenDone::call_again));
}

BOOST_AUTO_TEST_CASE(the_simulator_section_reads_into_its_struct) {
  auto result = load(R"(
telephony:
  provider: simulator
  simulator:
    format: exotel
    auth_token: "sim"
    outcomes: {answered: 1, busy: 0, no_answer: 0, failed: 0}
    ring_time: {min: 1s, max: 2s}
    talk_time: {min: 3s, max: 4s}
    speed: 20
    seed: 18446744073709551615
    shuffle_callbacks: true
    duplicate_callbacks_percent: 30
    gather_digits: "12#"
intake:
  consent_text: "Call me"
)");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& simulator = simulator::settings_of(result.config);
  BOOST_TEST((simulator.format == SimulatorFormat::exotel));
  BOOST_TEST(simulator.auth_token == "sim");
  BOOST_TEST(simulator.outcomes.answered == 1u);
  BOOST_TEST(simulator.outcomes.busy == 0u);
  BOOST_TEST(simulator.ring_min.count() == 1'000);
  BOOST_TEST(simulator.talk_max.count() == 4'000);
  BOOST_TEST(simulator.speed == 20u);
  BOOST_TEST(simulator.seed == 18446744073709551615ull);
  BOOST_TEST(simulator.shuffle_callbacks);
  BOOST_TEST(simulator.duplicate_callbacks_percent == 30u);
  BOOST_TEST(simulator.gather_digits == "12#");
  BOOST_TEST(result.config.intake.consent_text == "Call me");
}

BOOST_AUTO_TEST_CASE(simulator_mistakes_are_named) {
  auto result = load(R"(
telephony:
  provider: simulator
  simulator:
    format: plivo
    auth_token: ""
    outcomes: {answered: 0, busy: 0, no_answer: 0, failed: 0}
    ring_time: {min: 9s, max: 2s}
    speed: 0
    duplicate_callbacks_percent: 101
    gather_digits: "1a"
    colour: blue
)");
  BOOST_TEST(has_error(result, "telephony.simulator.format: expected one of twilio, exotel, got 'plivo'"),
             describe(result));
  // Empty is fine: the daemon draws a random token at start (no usable default).
  BOOST_TEST(!has_error(result, "telephony.simulator.auth_token"), describe(result));
  BOOST_TEST(has_error(result, "telephony.simulator.outcomes: expected at least one outcome"), describe(result));
  BOOST_TEST(has_error(result, "telephony.simulator.ring_time.max: expected at least ring_time.min"), describe(result));
  BOOST_TEST(has_error(result, "telephony.simulator.speed: expected a whole number from 1 to 10000"), describe(result));
  BOOST_TEST(
      has_error(result, "telephony.simulator.duplicate_callbacks_percent: expected a whole number from 0 to 100"),
      describe(result));
  BOOST_TEST(has_error(result, "telephony.simulator.gather_digits: expected keys a phone has"), describe(result));
  BOOST_TEST(has_error(result, "unknown key 'telephony.simulator.colour'"), describe(result));
  // Weights of 0 and no token are fine while the simulator places no calls.
  auto unused = load(
      "telephony:\n  provider: twilio\n  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, "
      "auth_token: t, phone_number: \"+15005550006\"}\n  simulator:\n    auth_token: \"\"\n");
  BOOST_TEST(unused.ok(), describe(unused));
}

BOOST_AUTO_TEST_CASE(the_dialer_section_reads_policies_and_calling_hours) {
  auto result = load(
      "dialer:\n"
      "  lease: 30s\n"
      "  retry:\n    base: 1s\n    cap: 1m\n    max_tries: 4\n"
      "  redial:\n    delays: [5m, 2h]\n    max_calls: 4\n    redial_machines: false\n"
      "  breaker:\n    failures_to_open: 3\n    open_for: 10s\n"
      "  ambiguous:\n    grace: 45s\n    recheck_cap: 20m\n    max_failed_lookups: 7\n"
      "  calling_hours:\n"
      "    opens: \"08:30\"\n    closes: \"20:00\"\n    days: [mon, fri]\n    holidays: [\"2026-12-25\"]\n"
      "    by_prefix:\n      - prefix: \"+91\"\n        opens: \"09:00\"\n");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  const auto& dialer = result.config.dialer;
  BOOST_TEST(dialer.lease.count() == 30'000);
  BOOST_TEST(dialer.retry.max_tries == 4);
  BOOST_TEST(dialer.retry.cap.count() == 60'000);
  BOOST_TEST(dialer.redial.delays.size() == 2u);
  BOOST_TEST(dialer.redial.delays[1].count() == 7'200'000);
  BOOST_TEST(!dialer.redial.redial_machines);
  BOOST_TEST(dialer.breaker.failures_to_open == 3);
  BOOST_TEST(dialer.ambiguous.grace.count() == 45'000);
  BOOST_TEST(dialer.ambiguous.recheck_cap.count() == 1'200'000);
  BOOST_TEST(dialer.ambiguous.max_failed_lookups == 7);
  const auto& window = dialer.calling_hours.default_window;
  BOOST_TEST(window.opens == 8 * 3600 + 1800);
  BOOST_TEST((window.days == std::array<bool, 7>{false, true, false, false, false, true, false}));
  BOOST_TEST((window.holidays == std::vector<CivilDate>{CivilDate{2026, 12, 25}}));
  BOOST_TEST_REQUIRE(dialer.calling_hours.by_prefix.size() == 1u);
  // A prefix's window starts from the default one and changes what it names.
  BOOST_TEST(dialer.calling_hours.by_prefix[0].second.opens == 9 * 3600);
  BOOST_TEST(dialer.calling_hours.by_prefix[0].second.closes == 20 * 3600);
}

BOOST_AUTO_TEST_CASE(dialer_mistakes_are_named) {
  auto result = load(
      "dialer:\n"
      "  retry:\n    base: 5m\n    cap: 1m\n"
      "  redial:\n    delays: [5m, soon]\n"
      "  ambiguous:\n    grace: 10ms\n    max_failed_lookups: 0\n"
      "  calling_hours:\n"
      "    time_zone: \"Mars/Olympus_Mons\"\n    opens: \"9am\"\n    days: [someday]\n"
      "    holidays: [\"2026-02-30\"]\n"
      "    by_prefix:\n      - prefix: \"91\"\n");
  BOOST_TEST(!result.ok());
  BOOST_TEST(has_error(result, "dialer.retry.base: must not be longer than dialer.retry.cap"), describe(result));
  BOOST_TEST(has_error(result, "dialer.redial.delays: expected durations"), describe(result));
  BOOST_TEST(has_error(result, "dialer.ambiguous.grace"), describe(result));
  BOOST_TEST(has_error(result, "dialer.ambiguous.max_failed_lookups"), describe(result));
  BOOST_TEST(has_error(result, "dialer.calling_hours.time_zone: no time zone 'Mars/Olympus_Mons'"), describe(result));
  BOOST_TEST(has_error(result, "dialer.calling_hours.opens: expected a time of day"), describe(result));
  BOOST_TEST(has_error(result, "dialer.calling_hours.days: unknown value 'someday'"), describe(result));
  BOOST_TEST(has_error(result, "dialer.calling_hours.holidays: expected dates as YYYY-MM-DD, got '2026-02-30'"),
             describe(result));
  BOOST_TEST(has_error(result, "dialer.calling_hours.by_prefix[0].prefix: expected an E.164 prefix"), describe(result));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_loader_credentials)

BOOST_AUTO_TEST_CASE(a_missing_credential_names_its_environment_variable) {
  const auto result =
      load_config_text("telephony:\n  provider: twilio\n", "test.yaml", no_environment(), providers::config_sections());
  for (const auto& [key, variable] :
       {std::pair{"account_sid", "TWILIO_ACCOUNT_SID"}, std::pair{"auth_token", "TWILIO_AUTH_TOKEN"},
        std::pair{"phone_number", "TWILIO_PHONE_NUMBER"}}) {
    const auto expected = std::string("test.yaml:2: telephony.twilio.") + key +
                          " is required when Twilio places calls: set " + variable +
                          " (the service's environment file) or the key";
    BOOST_TEST(std::any_of(result.errors.begin(), result.errors.end(),
                           [&](const ConfigError& error) { return error.to_string() == expected; }),
               expected);
  }
}

BOOST_AUTO_TEST_SUITE_END()
