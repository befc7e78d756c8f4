// The Redis dial scheduler against a real redis-server: the shared
// conformance suite (a peer is a second scheduler with its own connection,
// as a second host has), then what only a networked scheduler meets.
#include "core/dialer/redis_dial_scheduler.hpp"
#include "lead_store_test_helpers.hpp"
#include "redis_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>
#include <thread>

namespace {

using callgate::dialer::DialScheduler;
using callgate::dialer::RedisDialScheduler;

// Schedulers, each with its connection on its own loop and thread, as the
// dialer's reactor has.
struct RedisBackend {
  static constexpr bool durable = true;
  callgate::testing::RedisServer server;
  struct Host {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};
    std::shared_ptr<RedisDialScheduler> scheduler;
  };
  std::vector<std::unique_ptr<Host>> hosts;

  ~RedisBackend() {
    for (auto& host : hosts) {
      // Torn down on its own loop, then the loop stops.
      boost::asio::post(host->io, [scheduler = std::move(host->scheduler)]() mutable { scheduler.reset(); });
      host->work.reset();
      host->thread.join();
    }
  }

  std::shared_ptr<DialScheduler> peer() {
    auto host = std::make_unique<Host>();
    callgate::dialer::RedisSchedulerOptions options;
    options.connection = *callgate::redis::parse_redis_url(server.url());
    host->scheduler = std::make_shared<RedisDialScheduler>(host->io, options);
    host->scheduler->start();
    for (int tries = 0; tries < 200 && !host->scheduler->connected(); ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE_MESSAGE(host->scheduler->connected(), "the scheduler did not connect to redis-server");
    auto scheduler = host->scheduler;
    hosts.push_back(std::move(host));
    return scheduler;
  }
  std::shared_ptr<DialScheduler> open() { return peer(); }
  std::shared_ptr<DialScheduler> reopen() { return peer(); }  // a restarted host: the jobs are in Redis
};
using DialSchedulerBackends = boost::mpl::list<RedisBackend>;

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_dial_scheduler_conformance,
                      *boost::unit_test::precondition(callgate::testing::RedisInstalled()))
#include "dial_scheduler_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(redis_dial_scheduler, *boost::unit_test::precondition(callgate::testing::RedisInstalled()))

BOOST_AUTO_TEST_CASE(with_redis_away_calls_fail_fast_and_the_problem_is_named) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto scheduler = backend.open();
  BOOST_TEST(!scheduler->problem().has_value());
  backend.server.stop();
  const auto started = std::chrono::steady_clock::now();
  const auto claimed = run(scheduler->claim_due(at(10), 10, std::chrono::milliseconds(1'000)));
  BOOST_TEST(std::holds_alternative<store::StoreError>(claimed));
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(3)));
  for (int tries = 0; tries < 100 && !scheduler->problem(); ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(scheduler->problem().value_or("") == "Redis (the dial scheduler's connection) is not connected");
}

BOOST_AUTO_TEST_CASE(a_job_hash_that_does_not_parse_is_skipped_and_the_others_are_claimed) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto scheduler = backend.open();
  BOOST_TEST(backend.server.command(
                 {"HSET", "callgate:dial:job:01BAD", "job", "{not json", "claim", "0", "lease", "0"}) == ":3\r\n");
  BOOST_TEST(backend.server.command({"ZADD", "callgate:dial:due", "0", "01BAD"}) == ":1\r\n");
  expect(run(scheduler->schedule(dialer::dial_job("01GOOD", 1, at(5), "enquiry"))));
  const auto claimed = expect(run(scheduler->claim_due(at(10), 10, std::chrono::milliseconds(1'000))));
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST(claimed[0].job.lead_id == "01GOOD");
  // The bad one stays claimed (not handed out again and again) until its lease ends.
  BOOST_TEST(backend.server.command({"ZSCORE", "callgate:dial:flight", "01BAD"}).starts_with("$"));
  BOOST_TEST(expect(run(scheduler->claim_due(at(10), 10, std::chrono::milliseconds(1'000)))).empty());
}

BOOST_AUTO_TEST_SUITE_END()
