// Leads end to end with the real daemon on DynamoDB Local: the table made
// at start, an enquiry called, shuffled and repeated callbacks bringing it
// to its final status, the lists served by the indexes; and, behind a proxy
// that throttles and holds DynamoDB's requests as a busy table does, every
// acknowledged callback stored (the spool takes what DynamoDB cannot).
#include "eventually.hpp"
#include "lead_flow_support.hpp"
#include "throttling_proxy.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace callgate {

using namespace lead_flow;
using namespace std::chrono_literals;

namespace {

// The store section of dynamodb_store with its endpoint moved to the proxy.
std::string dynamodb_store_behind(const testing::ThrottlingProxy& proxy, const TemporaryDirectory& directory) {
  auto store = dynamodb_store(directory);
  const auto direct = testing::shared_dynamodb_local().endpoint();
  store.replace(store.find(direct), direct.size(), proxy.endpoint());
  return store;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lead_flow_on_dynamodb)

BOOST_AUTO_TEST_CASE(an_enquiry_is_called_and_its_callbacks_bring_it_to_its_final_status) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  TemporaryDirectory directory;
  DaemonProcess daemon(lead_config(twilio.port(), dynamodb_store(directory)));
  BOOST_TEST_REQUIRE(wait_until_ready(daemon.port()));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"098765 43210","consent":true,"name":"Asha"})"));
  auto lead = wait_for_attempt(daemon.port(), id);
  BOOST_TEST(lead.at("attempts").as_array().at(0).at("callSid").as_string() == "CA00000000000000000000000000000001");
  BOOST_TEST(twilio.requests().size() == 1u);

  std::vector<http::FormFields> callbacks = {callback("CA00000000000000000000000000000001", "initiated", 0),
                                             callback("CA00000000000000000000000000000001", "ringing", 1),
                                             callback("CA00000000000000000000000000000001", "in-progress", 2),
                                             callback("CA00000000000000000000000000000001", "completed", 3)};
  callbacks.push_back(callbacks[1]);
  callbacks.push_back(callbacks[3]);
  std::shuffle(callbacks.begin(), callbacks.end(), std::mt19937(20261207));
  testing::Connection connection(daemon.port());
  const std::string callback_requests = R"(callgate_dynamodb_work_requests_total{work="status_callback"})";
  const std::string callback_capacity = R"(callgate_dynamodb_work_write_milliunits_total{work="status_callback"})";
  const auto requests_before = metric_value(daemon.port(), callback_requests);
  const auto capacity_before = metric_value(daemon.port(), callback_capacity);
  for (const auto& fields : callbacks) BOOST_TEST(post_callback(connection, id, fields) == 204);
  // The daemon that placed the call remembers its lead: each new callback is
  // one write of at most 2 WCU, a repeated one nothing.
  BOOST_TEST(metric_value(daemon.port(), callback_requests) - requests_before == 4);
  BOOST_TEST(metric_value(daemon.port(), callback_capacity) - capacity_before <= 4 * 2'000);

  lead = get_lead(daemon.port(), id);
  BOOST_TEST(lead.at("status").as_string() == "completed");
  BOOST_TEST(lead.at("events").as_array().size() == 4u);  // duplicates recorded once
  // The lists come from the indexes: by status, and all of them.
  const auto completed = testing::http_get(daemon.port(), "/leads?status=completed", kAdmin);
  BOOST_TEST(completed.body.find(id) != std::string::npos, completed.body);
  const auto dialing = testing::http_get(daemon.port(), "/leads?status=dialing", kAdmin);
  BOOST_TEST(dialing.body.find(id) == std::string::npos, dialing.body);
  const auto all = testing::http_get(daemon.port(), "/leads", kAdmin);
  BOOST_TEST(all.body.find(id) != std::string::npos, all.body);
  BOOST_TEST(metric_value(daemon.port(), "callgate_dynamodb_write_requests_total") > 0);
  BOOST_TEST(metric_value(daemon.port(), "callgate_dynamodb_failures_total") == 0);
}

BOOST_AUTO_TEST_CASE(a_table_that_is_not_there_fails_the_config_check_and_the_start) {
  FakeProviderServer twilio(&testing::test_certificates());
  TemporaryDirectory directory;
  auto store = dynamodb_store(directory);
  store.replace(store.find("create_table: true"), 18, "create_table: false");
  directory.write("callgate.yaml", lead_config(twilio.port(), store));
  const auto checked =
      testing::run_command({CALLGATED_BINARY, "--config", directory.file("callgate.yaml"), "--check-config"});
  BOOST_TEST(checked.exit_code == 1);
  BOOST_TEST(checked.output.find("does not exist") != std::string::npos, checked.output);
  const auto started = testing::run_command({CALLGATED_BINARY, "--config", directory.file("callgate.yaml")});
  BOOST_TEST(started.exit_code == 1);
  BOOST_TEST(started.output.find("startup_failed") != std::string::npos, started.output);
}

BOOST_AUTO_TEST_CASE(connections_to_dynamodb_are_open_before_the_first_webhook) {
  FakeProviderServer twilio(&testing::test_certificates());
  testing::ThrottlingProxy proxy(testing::shared_dynamodb_local().port());
  TemporaryDirectory directory;
  auto store = dynamodb_store_behind(proxy, directory);
  DaemonProcess daemon(lead_config(twilio.port(), store));
  BOOST_TEST_REQUIRE(wait_until_ready(daemon.port()));
  // Two reactors keep two each (http_client.warm_connections' default);
  // without the warm-up only the dialer's poll and the table check connect.
  BOOST_TEST(testing::eventually([&] { return proxy.accepted() >= 4; }, 10s), "accepted: " << proxy.accepted());
}

BOOST_AUTO_TEST_CASE(nothing_acknowledged_is_lost_while_dynamodb_throttles) {
  FakeProviderServer twilio(&testing::test_certificates());
  testing::ThrottlingProxy proxy(testing::shared_dynamodb_local().port());
  TemporaryDirectory directory;
  auto store = dynamodb_store_behind(proxy, directory);
  store.replace(store.find("operation_timeout: 5s"), 21, "operation_timeout: 1s");
  DaemonProcess daemon(lead_config(twilio.port(), store));
  BOOST_TEST_REQUIRE(wait_until_ready(daemon.port()));
  CallbacksAcrossLeads flood(daemon.port(), place_leads(daemon.port(), twilio, 20));

  // Busy: a third of the requests throttled, some held; the client's retries carry them.
  BOOST_REQUIRE(testing::eventually([&] { return flood.sent() > 30; }));
  proxy.set_faults(3, 7, 200ms);
  const auto before_busy = flood.sent();
  testing::eventually([&] { return flood.sent() > before_busy + 60; }, 30s);
  // Throttled outright for a while: the callbacks go to the spool.
  proxy.set_faults(1, 0, 0ms);
  testing::eventually([&] { return metric_value(daemon.port(), "callgate_spool_events") >= 10; }, 30s);
  const auto spooled = metric_value(daemon.port(), "callgate_spool_events");
  proxy.set_faults(0, 0, 0ms);
  const auto sent_when_back = flood.sent();
  testing::eventually([&] { return flood.sent() > sent_when_back + 30; }, 30s);
  flood.stop();

  BOOST_TEST(proxy.throttled() > 0u);
  BOOST_TEST(spooled > 0, "nothing was spooled while DynamoDB throttled everything");
  BOOST_TEST(flood.refused() == 0, flood.refused() << " callbacks were not acknowledged");
  BOOST_TEST(metric_value(daemon.port(), "callgate_dynamodb_retries_total") > 0);
  for (int tries = 0; tries < 600 && metric_value(daemon.port(), "callgate_spool_events") != 0; ++tries)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(metric_value(daemon.port(), "callgate_spool_events") == 0);
  const auto missing = flood.missing_from_leads();
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged callbacks are missing of " << flood.acknowledged());
  BOOST_TEST_MESSAGE("acknowledged: " << flood.acknowledged() << ", throttled: " << proxy.throttled()
                                      << ", held: " << proxy.held() << ", spooled at once: " << spooled);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
