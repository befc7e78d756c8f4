#include "core/config.hpp"

#include "providers/simulator/settings.hpp"
#include "providers/twilio/settings.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

using namespace callgate;

namespace {
bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(config_reload)

BOOST_AUTO_TEST_CASE(nothing_changed_means_nothing_to_do) {
  Config config;
  auto plan = plan_reload(config, config);
  BOOST_TEST(plan.applied.empty());
  BOOST_TEST(plan.needs_restart.empty());
}

BOOST_AUTO_TEST_CASE(live_keys_apply_and_fixed_keys_keep_their_running_values) {
  Config running;
  Config reloaded;
  reloaded.log.level = LogLevel::debug;
  reloaded.server.read_timeout = Milliseconds(500);
  reloaded.server.listen.port = 9999;
  reloaded.server.threads = 7;
  reloaded.store.backend = StoreBackend::redis;
  reloaded.telephony.provider = ProviderName("twilio");

  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(contains(plan.applied, "log.level"));
  BOOST_TEST(contains(plan.applied, "server.read_timeout"));
  BOOST_TEST(contains(plan.needs_restart, "server.listen"));
  BOOST_TEST(contains(plan.needs_restart, "server.threads"));
  BOOST_TEST(contains(plan.needs_restart, "store.backend"));
  BOOST_TEST(contains(plan.needs_restart, "telephony.provider"));
  BOOST_TEST(plan.applied.size() == 2u);
  BOOST_TEST(plan.needs_restart.size() == 4u);

  BOOST_TEST((plan.effective.log.level == LogLevel::debug));
  BOOST_TEST(plan.effective.server.read_timeout.count() == 500);
  BOOST_TEST(plan.effective.server.listen.port == running.server.listen.port);
  BOOST_TEST(plan.effective.server.threads == running.server.threads);
  BOOST_TEST((plan.effective.store.backend == running.store.backend));
  BOOST_TEST((plan.effective.telephony.provider == running.telephony.provider));
}

BOOST_AUTO_TEST_CASE(routes_apply_live_but_the_http_client_waits_for_a_restart) {
  Config running;
  Config reloaded;
  reloaded.telephony.routes = {{"+91", {ProviderName("exotel")}}};
  reloaded.call_flow.next = CallFlowStep::gather;
  reloaded.server.trusted_proxies = {*NetworkRange::parse("10.0.0.0/8")};
  reloaded.telephony.http_client.max_connections_per_host = 2;
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(contains(plan.applied, "telephony.routes"));
  BOOST_TEST(contains(plan.applied, "call_flow"));
  BOOST_TEST(contains(plan.applied, "server.trusted_proxies"));
  BOOST_TEST(contains(plan.needs_restart, "telephony.http_client"));
  BOOST_TEST(plan.effective.telephony.http_client.max_connections_per_host == 16u);
  BOOST_TEST(plan.effective.telephony.routes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(dialer_policies_apply_live_but_its_directory_waits_for_a_restart) {
  Config running;
  Config reloaded;
  BOOST_TEST(plan_reload(running, reloaded).applied.empty());
  reloaded.dialer.redial.max_calls = 5;
  reloaded.dialer.calling_hours.default_window.opens = 9 * 3600;
  reloaded.dialer.path = "/elsewhere";
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(contains(plan.applied, "dialer"));
  BOOST_TEST(contains(plan.needs_restart, "dialer.path"));
  BOOST_TEST(plan.effective.dialer.redial.max_calls == 5);
  BOOST_TEST(plan.effective.dialer.path.empty());
}

BOOST_AUTO_TEST_SUITE_END()

// The README and conf/callgate.yaml each list what a SIGHUP cannot change;
// every item on this list must be there, and plan_reload must leave it for
// a restart (and only it).
namespace {

struct RestartItem {
  const char* phrase;        // as both documents spell it
  const char* reported_key;  // what reload_needs_restart logs
  std::function<void(Config&)> change;
};

std::vector<RestartItem> restart_items() {
  return {
      {"server.listen", "server.listen", [](Config& c) { c.server.listen.port = 9999; }},
      {"server.threads", "server.threads", [](Config& c) { c.server.threads = 7; }},
      {"server.max_connections", "server.max_connections", [](Config& c) { c.server.max_connections = 5; }},
      {"server.reuse_port", "server.reuse_port", [](Config& c) { c.server.reuse_port = true; }},
      {"store.*", "store.backend", [](Config& c) { c.store.backend = StoreBackend::redis; }},
      {"store.*", "store.dynamodb.table", [](Config& c) { c.store.dynamodb_table = "elsewhere"; }},
      {"telephony.provider", "telephony.provider", [](Config& c) { c.telephony.provider = ProviderName("twilio"); }},
      {"telephony.http_client", "telephony.http_client",
       [](Config& c) { c.telephony.http_client.max_connections_per_host = 2; }},
      {"api_base", "telephony.twilio.api_base",
       [](Config& c) { providers::twilio::settings_of(c).api_base = "https://elsewhere.example.com"; }},
      {"seed", "telephony.simulator.seed", [](Config& c) { providers::simulator::settings_of(c).seed = 7; }},
      {"dialer.path", "dialer.path", [](Config& c) { c.dialer.path = "/elsewhere"; }},
  };
}

// The words between start and end in a file, joined on one line (comment
// marks and line breaks dropped).
std::string passage(const std::string& file, std::string_view start, std::string_view end) {
  std::ifstream in(std::string(CALLGATE_SOURCE_DIR) + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  std::string flat;
  for (const char c : text.str()) {
    if (c == '\n') {
      flat.push_back(' ');
      continue;
    }
    if (c == '#' || c == '`') continue;
    if (c == ' ' && !flat.empty() && flat.back() == ' ') continue;
    flat.push_back(c);
  }
  const auto from = flat.find(start);
  const auto to = from == std::string::npos ? std::string::npos : flat.find(end, from);
  if (to == std::string::npos) return "";
  return flat.substr(from, to - from);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_reload_documented)

BOOST_AUTO_TEST_CASE(what_waits_for_a_restart_is_listed_where_operators_look) {
  const auto readme = passage("README.md", "a change that needs a restart", "is logged by key");
  const auto yaml = passage("conf/callgate.yaml", "a change to", "waits for a restart");
  BOOST_TEST_REQUIRE(!readme.empty(), "README.md: the SIGHUP paragraph is not where this test looks");
  BOOST_TEST_REQUIRE(!yaml.empty(), "conf/callgate.yaml: the SIGHUP header is not where this test looks");
  for (const auto& item : restart_items()) {
    BOOST_TEST(readme.find(item.phrase) != std::string::npos, "README.md does not list " << item.phrase);
    BOOST_TEST(yaml.find(item.phrase) != std::string::npos, "conf/callgate.yaml does not list " << item.phrase);
    Config running;
    Config reloaded;
    item.change(reloaded);
    const auto plan = plan_reload(running, reloaded);
    BOOST_TEST(plan.needs_restart == std::vector<std::string>{item.reported_key}, item.phrase);
  }
}

BOOST_AUTO_TEST_SUITE_END()
