#include "core/config.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

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
