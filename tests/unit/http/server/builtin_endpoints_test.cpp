// GET /readyz's three answers: ready, degraded (200: the host still does
// its job, worse) and unavailable (503: take it out), with every check's
// state in the body.
#include "http/server/builtin_endpoints.hpp"

#include "endpoint_harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using callgate::testing::EndpointHarness;
using callgate::testing::json_body;

namespace {

http::ReadinessCheck::Probe answering(const std::optional<std::string>& problem) {
  return [problem](http::RequestContext&) -> boost::asio::awaitable<std::optional<std::string>> { co_return problem; };
}

struct ReadinessBench {
  EndpointHarness harness;
  MetricsRegistry metrics;
  std::vector<http::ReadinessCheck> checks;
  bool spool_writable = true;

  http::Response ready() {
    if (harness.router.size() == 0) http::register_builtin_endpoints(harness.router, metrics, checks);
    return harness.get("/readyz");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(readiness)

BOOST_AUTO_TEST_CASE(every_check_passing_is_ready) {
  ReadinessBench bench;
  bench.checks.emplace_back("store", answering(std::nullopt));
  const auto answer = bench.ready();
  BOOST_TEST(answer.result_int() == 200u);
  BOOST_TEST(answer.body() == R"({"status":"ready","checks":{"server":"ok","store":"ok"}})");
}

BOOST_AUTO_TEST_CASE(a_store_away_while_the_spool_takes_the_webhooks_is_degraded_not_out) {
  ReadinessBench bench;
  bench.checks.emplace_back("store", answering("Redis is not connected"), false,
                            [&bench] { return bench.spool_writable; });
  bench.checks.emplace_back("spool", answering("12 webhook events wait for the store"), true);
  const auto degraded = bench.ready();
  BOOST_TEST(degraded.result_int() == 200u);
  const auto body = json_body(degraded);
  BOOST_TEST(body.at("status").as_string() == "degraded");
  BOOST_TEST(body.at("reason").as_string() == "store: Redis is not connected");
  BOOST_TEST(body.at("checks").at("spool").as_string() == "12 webhook events wait for the store");

  // The spool cannot be written either: nothing more is acknowledged.
  bench.spool_writable = false;
  const auto unavailable = bench.ready();
  BOOST_TEST(unavailable.result_int() == 503u);
  BOOST_TEST(json_body(unavailable).at("status").as_string() == "unavailable");
  BOOST_TEST(json_body(unavailable).at("reason").as_string() == "store: Redis is not connected");
}

BOOST_AUTO_TEST_CASE(a_failure_outranks_a_degradation) {
  ReadinessBench bench;
  bench.checks.emplace_back("redis_data", answering("Redis was emptied"), true);
  bench.checks.emplace_back("dialer", answering("the scheduler's journal cannot be written"));
  const auto answer = bench.ready();
  BOOST_TEST(answer.result_int() == 503u);
  BOOST_TEST(json_body(answer).at("reason").as_string() == "dialer: the scheduler's journal cannot be written");
  BOOST_TEST(json_body(answer).at("checks").at("redis_data").as_string() == "Redis was emptied");
}

BOOST_AUTO_TEST_SUITE_END()
