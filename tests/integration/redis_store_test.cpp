// The Redis backend against a real redis-server: the shared conformance
// suite, then what only a networked store has to survive.
#include "core/store/redis_lead_store.hpp"
#include "eventually.hpp"
#include "forwarding_store.hpp"
#include "lead_store_test_helpers.hpp"
#include "redis_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

namespace {

// A store with its one connection on a loop of its own thread, as a reactor would have.
struct RedisBackend {
  static constexpr bool durable = true;
  callgate::testing::RedisServer server;
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  std::vector<std::shared_ptr<callgate::store::RedisLeadStore>> stores;

  ~RedisBackend() {
    // Each store is torn down on its own loop, then the loop stops.
    for (auto& store : stores) boost::asio::post(io, [store]() mutable { store.reset(); });
    stores.clear();
    work.reset();
    thread.join();
  }

  std::shared_ptr<callgate::store::RedisLeadStore> open_shared(
      std::chrono::milliseconds orphan_wait = std::chrono::hours(1)) {
    callgate::store::RedisStoreOptions options;
    options.connection = *callgate::redis::parse_redis_url(server.url());
    options.orphan_wait = orphan_wait;
    auto store = std::make_shared<callgate::store::RedisLeadStore>(std::vector<boost::asio::io_context*>{&io}, options);
    store->start();
    for (int tries = 0; tries < 200 && !store->connected(); ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE_MESSAGE(store->connected(), "the store did not connect to redis-server");
    stores.push_back(store);
    return store;
  }
  // The conformance cases hold a unique_ptr; this one forwards to a shared store.
  std::unique_ptr<callgate::store::LeadStore> open();
  std::unique_ptr<callgate::store::LeadStore> reopen() { return open(); }
};

std::unique_ptr<callgate::store::LeadStore> RedisBackend::open() {
  return std::make_unique<callgate::testing::ForwardingStore>(open_shared());
}

using LeadStoreBackends = boost::mpl::list<RedisBackend>;

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_store_conformance, *boost::unit_test::precondition(callgate::testing::RedisInstalled()))
#include "lead_store_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(redis_store, *boost::unit_test::precondition(callgate::testing::RedisInstalled()))

BOOST_AUTO_TEST_CASE(a_restarted_redis_is_reconnected_and_failures_in_between_are_reported) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = backend.open_shared();
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  backend.server.stop();
  const auto down = run(store->get("01A"));
  BOOST_TEST_REQUIRE(std::holds_alternative<store::StoreError>(down));
  BOOST_TEST((std::get<store::StoreError>(down).failure == store::StoreFailure::unavailable));
  BOOST_TEST(store->problem().has_value());
  backend.server.start();  // empty: this test server keeps nothing
  for (int tries = 0; tries < 300 && !store->connected(); ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST_REQUIRE(store->connected());
  BOOST_TEST(expect(run(store->create({make_lead("01B"), "", std::nullopt}))).created);
  // The scripts were loaded again on the new connection.
  BOOST_TEST(
      (expect(run(store->add_attempt("01B", make_attempt("CA1"), LeadStatus::dialing))).status == LeadStatus::dialing));
}

BOOST_AUTO_TEST_CASE(orphans_nobody_claims_expire_after_the_orphan_wait) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = backend.open_shared(std::chrono::milliseconds(3000));
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  expect(run(store->create({make_lead("01B", "+14155550124"), "", std::nullopt})));
  BOOST_TEST((expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(5)))).outcome ==
              EventOutcome::unknown_call));
  // Kept, with its expiry set (PTTL answers the milliseconds left).
  auto milliseconds_left = [&](const std::string& key) {
    const auto left = backend.server.command({"PTTL", key});
    BOOST_TEST_REQUIRE(left.front() == ':', left);
    return std::stol(left.substr(1));
  };
  const auto left_ms = milliseconds_left("callgate:orphans:CA1");
  BOOST_TEST((left_ms > 0 && left_ms <= 3000), left_ms);
  // A second event for the call starts the wait again: once a second of it
  // has gone (polled for, however slow the machine), the next event puts
  // the whole wait back.
  BOOST_REQUIRE(testing::eventually([&] { return milliseconds_left("callgate:orphans:CA1") < 2000; }));
  const auto before_second = milliseconds_left("callgate:orphans:CA1");
  expect(run(store->apply_event(make_event("CA1", CallStatus::in_progress, 2), at(6))));
  BOOST_TEST(milliseconds_left("callgate:orphans:CA1") > before_second + 500);
  BOOST_TEST(backend.server.command({"LLEN", "callgate:orphans:CA1"}) == ":2\r\n");
  // Claimed in time: both events are the lead's.
  BOOST_TEST(expect(run(store->add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing))).events.size() == 2u);
  // Never claimed: gone once the wait is over, and a late claim finds nothing.
  expect(run(store->apply_event(make_event("CA2", CallStatus::ringing, 1), at(7))));
  BOOST_TEST(testing::eventually([&] {
    return backend.server.command({"EXISTS", "callgate:orphans:CA2"}) == ":0\r\n";
  }));
  BOOST_TEST(expect(run(store->add_attempt("01B", make_attempt("CA2"), LeadStatus::dialing))).events.empty());
}

BOOST_AUTO_TEST_CASE(events_taken_in_one_turn_are_resolved_together_and_each_gets_its_own_answer) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = backend.open_shared();
  // Ten leads own a call each; 290 events are for calls nobody knows.
  for (int lead = 0; lead < 10; ++lead) {
    const auto id = "01L" + std::to_string(lead);
    expect(run(store->create({make_lead(id, "+1415555" + std::to_string(1000 + lead)), "", std::nullopt})));
    expect(run(store->add_attempt(id, make_attempt("CAK" + std::to_string(lead)), LeadStatus::dialing)));
  }
  constexpr int kEvents = 300;  // more than one script call takes (128): three calls
  auto sid_of = [](int index) {
    return index % 30 == 0 ? "CAK" + std::to_string(index / 30) : "CAU" + std::to_string(index);
  };
  std::vector<std::future<store::StoreResult<store::ApplyResult>>> outcomes(kEvents);
  std::promise<void> spawned;
  // All started in one turn of the store's loop, as a busy reactor would.
  boost::asio::post(backend.io, [&] {
    for (int index = 0; index < kEvents; ++index)
      outcomes[static_cast<std::size_t>(index)] = boost::asio::co_spawn(
          backend.io, store->apply_event(make_event(sid_of(index), CallStatus::ringing, 1), at(5)),
          boost::asio::use_future);
    spawned.set_value();
  });
  spawned.get_future().get();
  for (int index = 0; index < kEvents; ++index) {
    const auto applied = expect(outcomes[static_cast<std::size_t>(index)].get());
    if (index % 30 == 0) {
      BOOST_TEST((applied.outcome == EventOutcome::applied), index);
      BOOST_TEST(applied.lead_id == "01L" + std::to_string(index / 30));
    } else {
      BOOST_TEST((applied.outcome == EventOutcome::unknown_call), index);
      // Kept once, under its own call sid.
      BOOST_TEST(backend.server.command({"LLEN", "callgate:orphans:" + sid_of(index)}) == ":1\r\n", index);
    }
  }
  for (int lead = 0; lead < 10; ++lead)
    BOOST_TEST((expect(run(store->get("01L" + std::to_string(lead)))).status == LeadStatus::ringing));
}

// A store holding lead 01A, dialing its call CA1.
std::shared_ptr<callgate::store::RedisLeadStore> store_with_a_call(RedisBackend& backend) {
  using namespace callgate::conformance;
  auto store = backend.open_shared();
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  expect(run(store->add_attempt("01A", make_attempt("CA1"), callgate::LeadStatus::dialing)));
  return store;
}

// The stored lead's json field as Redis holds it (RESP bulk, whole).
std::string stored_json(const callgate::testing::RedisServer& server, const std::string& id) {
  return server.command({"HGET", "callgate:lead:" + id, "json"});
}

BOOST_AUTO_TEST_CASE(a_callback_appends_its_event_and_leaves_the_stored_lead_as_it_was) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = store_with_a_call(backend);
  const auto json_before = stored_json(backend.server, "01A");
  const auto version_before = backend.server.command({"HGET", "callgate:lead:01A", "version"});
  BOOST_TEST((expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(5)))).outcome ==
              EventOutcome::applied));
  // What Redis was sent for the callback: its event, appended; the lead's
  // json untouched, its version counted on.
  BOOST_TEST(stored_json(backend.server, "01A") == json_before);
  BOOST_TEST(backend.server.command({"HGET", "callgate:lead:01A", "version"}) != version_before);
  BOOST_TEST(backend.server.command({"LLEN", "callgate:events:01A"}) == ":1\r\n");
  // The status index moved with it.
  BOOST_TEST(backend.server.command({"ZSCORE", "callgate:status:ringing", "01A"}) == "$1\r\n0\r\n");
  BOOST_TEST(backend.server.command({"ZSCORE", "callgate:status:dialing", "01A"}) == "$-1\r\n");
  // Read back: the json with the appended event applied, by any host.
  auto other_host = backend.open_shared();
  const auto read = expect(run(other_host->get("01A")));
  BOOST_TEST((read.status == LeadStatus::ringing));
  BOOST_TEST_REQUIRE(read.events.size() == 1u);
  BOOST_TEST((read.events[0].outcome == EventOutcome::applied));
  BOOST_TEST(read.events[0].received.time_since_epoch().count() == at(5).time_since_epoch().count());
  store::LeadQuery ringing;
  ringing.status = LeadStatus::ringing;
  const auto listed = expect(run(other_host->list(ringing)));
  BOOST_TEST_REQUIRE(listed.leads.size() == 1u);
  BOOST_TEST(listed.leads[0].events.size() == 1u);
  // A duplicate is answered as one and appends nothing.
  BOOST_TEST((expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(6)))).outcome ==
              EventOutcome::duplicate));
  BOOST_TEST(backend.server.command({"LLEN", "callgate:events:01A"}) == ":1\r\n");
  // A write of the whole lead (a new attempt) folds the list into the json.
  const auto after_attempt = expect(run(store->add_attempt("01A", make_attempt("CA2", 7), LeadStatus::dialing)));
  BOOST_TEST(after_attempt.events.size() == 1u);
  BOOST_TEST(backend.server.command({"EXISTS", "callgate:events:01A"}) == ":0\r\n");
  BOOST_TEST(stored_json(backend.server, "01A") != json_before);
  BOOST_TEST(expect(run(other_host->get("01A"))).events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_long_run_of_events_is_folded_into_the_lead_and_every_one_kept_in_order) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = store_with_a_call(backend);
  // A provider repeating itself: ringing with sequence numbers 1..60, each
  // kept (out of order after the first), none a duplicate.
  constexpr int kEvents = 60;
  std::size_t longest = 0;
  for (int number = 1; number <= kEvents; ++number) {
    expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, static_cast<std::uint64_t>(number)),
                                  at(10 + number))));
    const auto length = backend.server.command({"LLEN", "callgate:events:01A"});
    longest = std::max<std::size_t>(longest, std::stoul(length.substr(1)));
  }
  // The list never grew past its bound: the json took the events in.
  BOOST_TEST(longest <= 16u);
  BOOST_TEST(longest >= 2u);  // and callbacks did append
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST_REQUIRE(lead.events.size() == std::size_t(kEvents));
  for (int number = 1; number <= kEvents; ++number) {
    const auto& kept = lead.events[static_cast<std::size_t>(number - 1)];
    BOOST_TEST((kept.event.sequence_number == std::uint64_t(number)), number);
    BOOST_TEST((kept.outcome == (number == 1 ? EventOutcome::applied : EventOutcome::out_of_order)), number);
  }
}

BOOST_AUTO_TEST_CASE(events_for_one_lead_in_one_turn_are_each_applied_once) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = store_with_a_call(backend);
  // Four statuses of one call in one turn of the loop: one append script
  // carries them, only the first finds the version it read; the others
  // apply again on what is there by then.
  const CallStatus statuses[] = {CallStatus::initiated, CallStatus::ringing, CallStatus::in_progress,
                                 CallStatus::completed};
  std::vector<std::future<store::StoreResult<store::ApplyResult>>> outcomes(4);
  std::promise<void> spawned;
  boost::asio::post(backend.io, [&] {
    for (std::size_t index = 0; index < 4; ++index)
      outcomes[index] = boost::asio::co_spawn(
          backend.io, store->apply_event(make_event("CA1", statuses[index], index), at(5 + int(index))),
          boost::asio::use_future);
    spawned.set_value();
  });
  spawned.get_future().get();
  for (auto& outcome : outcomes) BOOST_TEST((expect(outcome.get()).outcome != EventOutcome::duplicate));
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST(lead.events.size() == 4u);
  BOOST_TEST((lead.attempts.back().status == CallStatus::completed));
  BOOST_TEST((lead.status == LeadStatus::completed));
  BOOST_TEST(backend.server.command({"ZSCORE", "callgate:status:completed", "01A"}) == "$1\r\n0\r\n");
  for (const char* other : {"dialing", "initiated", "ringing", "in-progress"})
    BOOST_TEST(backend.server.command({"ZSCORE", std::string("callgate:status:") + other, "01A"}) == "$-1\r\n", other);
}

BOOST_AUTO_TEST_CASE(an_appended_event_that_does_not_parse_makes_the_lead_unavailable_not_shorter) {
  using namespace callgate;
  using namespace callgate::conformance;
  RedisBackend backend;
  auto store = store_with_a_call(backend);
  expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, 1), at(5))));
  // Someone (a bad tool, a bit flip) spoils the list.
  backend.server.command({"RPUSH", "callgate:events:01A", "{not an event"});
  const auto read = run(store->get("01A"));
  BOOST_TEST_REQUIRE(std::holds_alternative<store::StoreError>(read));
  BOOST_TEST((std::get<store::StoreError>(read).failure == store::StoreFailure::unavailable));
  BOOST_TEST(std::get<store::StoreError>(read).message.find("does not parse") != std::string::npos);
  // A callback is refused (the provider retries; it is not applied to a lead missing part of its history).
  const auto applied = run(store->apply_event(make_event("CA1", CallStatus::completed, 3), at(6)));
  BOOST_TEST_REQUIRE(std::holds_alternative<store::StoreError>(applied));
  BOOST_TEST(backend.server.command({"LLEN", "callgate:events:01A"}) == ":2\r\n");
}

BOOST_AUTO_TEST_SUITE_END()
