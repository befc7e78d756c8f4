// The DynamoDB lead store and dial scheduler against Amazon's DynamoDB
// Local: the conformance suites every backend is held to (a peer is a
// second scheduler with its own HTTP client and loop, as a second host
// has), then what only DynamoDB's layout has to show: the table made and
// checked, events in items of their own, orphans bounded, the cost of a
// status callback.
#include "aws/dynamodb_dial_scheduler.hpp"
#include "aws/dynamodb_lead_store.hpp"
#include "aws/dynamodb_table.hpp"
#include "dynamodb_local.hpp"
#include "forwarding_store.hpp"
#include "lead_store_test_helpers.hpp"
#include "loopback_port.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

namespace {

namespace aws = callgate::aws;
namespace json = boost::json;
using namespace std::chrono_literals;

callgate::testing::DynamoDbLocal& local() { return callgate::testing::shared_dynamodb_local(); }

aws::DynamoStoreOptions options_for(const std::string& table) {
  aws::DynamoStoreOptions options;
  options.endpoint = {local().endpoint(), "ap-south-1"};
  options.table = table;
  options.operation_timeout = 10s;
  options.http.request_timeout = callgate::Milliseconds(10'000);
  options.http.total_timeout = callgate::Milliseconds(15'000);
  return options;
}

aws::Credentials local_credentials() { return {"AKIDLOCAL", "local-secret", ""}; }

// Runs work on a private loop with a client of its own (table set-up, raw reads).
template <class Work>
auto with_client(Work work) {
  boost::asio::io_context io;
  callgate::HttpClientConfig config;
  config.request_timeout = callgate::Milliseconds(10'000);
  callgate::http::HttpClient http(io, config);
  aws::DynamoDbClient client(http, {local().endpoint(), "ap-south-1"}, local_credentials);
  auto future = boost::asio::co_spawn(io, work(client), boost::asio::use_future);
  io.run();
  return future.get();
}

std::string fresh_table(bool create = true) {
  const std::string table = callgate::testing::fresh_dynamodb_table_name();
  if (create) {
    const auto problem = with_client([&](aws::DynamoDbClient& client) {
      return aws::prepare_table(client, table, true, std::chrono::steady_clock::now() + 30s);
    });
    BOOST_REQUIRE_MESSAGE(!problem, "the table was not made: " << (problem ? problem->message : ""));
  }
  return table;
}

aws::DynamoAnswer raw_call(const std::string& operation, const json::object& body) {
  return with_client([&](aws::DynamoDbClient& client) {
    return client.call(operation, json::serialize(body), std::chrono::steady_clock::now() + 30s);
  });
}

// A loop on a thread of its own, as a reactor is.
struct Loop {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~Loop() {
    work.reset();
    thread.join();
  }
};

struct DynamoBackend {
  static constexpr bool durable = true;
  std::string table = fresh_table();
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::shared_ptr<aws::DynamoLeadStore>> stores;

  ~DynamoBackend() {
    // Each store is torn down on its own loop (its HTTP client lives there), then the loop stops.
    for (std::size_t index = 0; index < stores.size(); ++index)
      boost::asio::post(loops[index]->io, [store = std::move(stores[index])]() mutable { store.reset(); });
    loops.clear();
  }

  std::shared_ptr<aws::DynamoLeadStore> open_shared(aws::DynamoStoreOptions options) {
    loops.push_back(std::make_unique<Loop>());
    auto store = std::make_shared<aws::DynamoLeadStore>(std::vector<boost::asio::io_context*>{&loops.back()->io},
                                                        std::move(options), local_credentials);
    stores.push_back(store);
    return store;
  }
  std::shared_ptr<aws::DynamoLeadStore> open_shared() { return open_shared(options_for(table)); }
  // A store, as the host that created lead 01A and placed its call CA1.
  std::shared_ptr<aws::DynamoLeadStore> open_with_a_call_placed();
  std::unique_ptr<callgate::store::LeadStore> open();
  std::unique_ptr<callgate::store::LeadStore> reopen() { return open(); }
};

std::shared_ptr<aws::DynamoLeadStore> DynamoBackend::open_with_a_call_placed() {
  using namespace callgate::conformance;
  auto store = open_shared();
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  expect(run(store->add_attempt("01A", make_attempt("CA1"), callgate::LeadStatus::dialing)));
  return store;
}

std::unique_ptr<callgate::store::LeadStore> DynamoBackend::open() {
  return std::make_unique<callgate::testing::ForwardingStore>(open_shared());
}

using LeadStoreBackends = boost::mpl::list<DynamoBackend>;

// Schedulers on one table, each on a loop of its own, as hosts are.
struct DynamoSchedulerBackend {
  static constexpr bool durable = true;
  std::string table = fresh_table();
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::shared_ptr<aws::DynamoDialScheduler>> schedulers;

  ~DynamoSchedulerBackend() {
    for (std::size_t index = 0; index < schedulers.size(); ++index)
      boost::asio::post(loops[index]->io, [scheduler = std::move(schedulers[index])]() mutable { scheduler.reset(); });
    loops.clear();
  }
  std::shared_ptr<callgate::dialer::DialScheduler> peer() {
    loops.push_back(std::make_unique<Loop>());
    auto scheduler =
        std::make_shared<aws::DynamoDialScheduler>(loops.back()->io, options_for(table), local_credentials);
    schedulers.push_back(scheduler);
    return scheduler;
  }
  std::shared_ptr<callgate::dialer::DialScheduler> open() { return peer(); }
  std::shared_ptr<callgate::dialer::DialScheduler> reopen() {
    return peer();
  }  // a restarted host: the jobs are in DynamoDB
};
using DialSchedulerBackends = boost::mpl::list<DynamoSchedulerBackend>;

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamodb_store_conformance)
#include "lead_store_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamodb_dial_scheduler_conformance)
#include "dial_scheduler_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamodb_store)

BOOST_AUTO_TEST_CASE(the_table_is_made_when_asked_and_otherwise_checked) {
  const auto table = fresh_table(false);
  auto prepare = [&](const std::string& name, bool create) {
    return with_client([&](aws::DynamoDbClient& client) {
      return aws::prepare_table(client, name, create, std::chrono::steady_clock::now() + 30s);
    });
  };
  const auto missing = prepare(table, false);
  BOOST_TEST_REQUIRE(missing.has_value());
  BOOST_TEST(missing->missing);
  BOOST_TEST(missing->message.find("does not exist") != std::string::npos, missing->message);
  BOOST_TEST(!prepare(table, true).has_value());
  BOOST_TEST(!prepare(table, true).has_value());   // a second host, or a restart
  BOOST_TEST(!prepare(table, false).has_value());  // production's check passes on it

  // Somebody else's table of that name: keyed otherwise, it is refused, not written into.
  const auto foreign = table + "_foreign";
  const auto made = raw_call("CreateTable", json::parse(R"j({"TableName":")j" + foreign + R"j(",
    "BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
    "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})j")
                                                .as_object());
  BOOST_TEST_REQUIRE((made.outcome == aws::DynamoOutcome::ok), made.message);
  const auto refused = prepare(foreign, true);
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(!refused->missing);
  BOOST_TEST(refused->message.find("is not callgate's") != std::string::npos, refused->message);
}

BOOST_AUTO_TEST_CASE(a_status_callback_is_one_write_of_at_most_2_wcu_and_a_duplicate_none) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto store = backend.open_with_a_call_placed();
  const auto& usage = store->usage();
  // The host that placed the call remembers the lead: each callback of the
  // call is one PutItem of the lead item, nothing read.
  const CallStatus statuses[] = {CallStatus::initiated, CallStatus::ringing, CallStatus::in_progress,
                                 CallStatus::completed};
  std::uint64_t sequence = 0;
  for (const auto status : statuses) {
    const auto requests = usage.requests.load();
    const auto writes = usage.write_requests.load();
    const auto capacity = usage.estimated_write_milli.load();
    const auto reported = usage.write_capacity_milli.load();
    const auto applied =
        expect(run(store->apply_event(make_event("CA1", status, sequence, "01A"), at(3 + static_cast<int>(sequence)))));
    ++sequence;
    BOOST_TEST((applied.outcome == EventOutcome::applied));
    BOOST_TEST(usage.requests.load() - requests == 1);
    BOOST_TEST(usage.write_requests.load() - writes == 1);
    const auto callback_capacity = usage.estimated_write_milli.load() - capacity;
    const auto reported_capacity = usage.write_capacity_milli.load() - reported;
    BOOST_TEST_MESSAGE(to_string(status) << " callback: " << callback_capacity / 1000.0 << " WCU by AWS's rules, "
                                         << reported_capacity / 1000.0 << " as DynamoDB Local reports it");
    BOOST_TEST(callback_capacity <= 2'000);
    // A PutItem: DynamoDB Local's figure is AWS's, the indexes' included.
    // The by_status index moves (a delete and a put) only when the call ends.
    BOOST_TEST(reported_capacity <= (is_terminal(status) ? 4'000 : 2'000));
    BOOST_TEST(reported_capacity >= callback_capacity);
  }
  const auto before_duplicate = usage.requests.load();
  const auto again = expect(run(store->apply_event(make_event("CA1", CallStatus::ringing, 1, "01A"), at(9))));
  BOOST_TEST((again.outcome == EventOutcome::duplicate));
  BOOST_TEST(usage.requests.load() == before_duplicate);
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST((lead.status == LeadStatus::completed));
  BOOST_TEST(lead.events.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_call_placed_is_one_transaction_unless_its_callbacks_came_first) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto store = backend.open_shared();
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  expect(run(store->create({make_lead("01B", "+14155550999"), "", std::nullopt})));
  const auto& usage = store->usage();
  auto requests = usage.requests.load();
  expect(run(store->add_attempt("01A", make_attempt("CA1"), LeadStatus::dialing)));
  BOOST_TEST(usage.requests.load() - requests == 1);
  // A callback that beat the sid's write waits as an orphan: the placement's
  // transaction is refused for it, reads it and adopts it.
  const auto early = expect(run(store->apply_event(make_event("CA2", CallStatus::ringing, 1), at(2))));
  BOOST_TEST((early.outcome == EventOutcome::unknown_call));
  requests = usage.requests.load();
  const auto lead = expect(run(store->add_attempt("01B", make_attempt("CA2"), LeadStatus::dialing)));
  BOOST_TEST(usage.requests.load() - requests == 3);
  BOOST_TEST((lead.status == LeadStatus::ringing));
  BOOST_TEST_REQUIRE(expect(run(store->get("01B"))).events.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_host_that_does_not_remember_the_lead_reads_it_and_one_behind_the_times_loses_nothing) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto placing = backend.open_with_a_call_placed();
  // Another host: the lead is read, then written.
  auto other = backend.open_shared();
  auto requests = other->usage().requests.load();
  const auto ringing = expect(run(other->apply_event(make_event("CA1", CallStatus::ringing, 1, "01A"), at(3))));
  BOOST_TEST((ringing.outcome == EventOutcome::applied));
  BOOST_TEST(other->usage().requests.load() - requests == 2);
  // The placing host's memory is behind now: its write is refused, the
  // refusal brings the lead as it is, it writes again (no read), and both
  // events are there.
  requests = placing->usage().requests.load();
  const auto answered = expect(run(placing->apply_event(make_event("CA1", CallStatus::in_progress, 2, "01A"), at(4))));
  BOOST_TEST((answered.outcome == EventOutcome::applied));
  BOOST_TEST(placing->usage().requests.load() - requests == 2);
  // And the ringing it never saw is a duplicate to it now, as to everyone.
  const auto repeated = expect(run(placing->apply_event(make_event("CA1", CallStatus::ringing, 1, "01A"), at(5))));
  BOOST_TEST((repeated.outcome == EventOutcome::duplicate));
  const auto lead = expect(run(other->get("01A")));
  BOOST_TEST((lead.status == LeadStatus::in_progress));
  BOOST_TEST_REQUIRE(lead.events.size() == 2u);
  BOOST_TEST((lead.events[0].event.status == CallStatus::ringing));
  BOOST_TEST((lead.events[1].event.status == CallStatus::in_progress));
}

BOOST_AUTO_TEST_CASE(an_enquiry_and_its_first_job_are_one_transaction) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto store = backend.open_shared();
  DynamoSchedulerBackend jobs;
  jobs.table = backend.table;
  auto scheduler = jobs.peer();
  aws::DynamoLeadsWithFirstJobs together(*store, *jobs.schedulers.back());
  const auto now = WallClock::now();
  const auto& usage = store->usage();
  const auto requests = usage.requests.load();
  const auto capacity = usage.estimated_write_milli.load();
  const auto made = expect(run(together.create_with_first_job({make_lead("01A"), "key-1", std::nullopt},
                                                              dialer::dial_job("01A", 1, now, "enquiry"), now, 30s)));
  BOOST_TEST(made.lead.created);
  BOOST_TEST_REQUIRE(made.claimed.has_value());
  BOOST_TEST(usage.requests.load() - requests == 1);
  BOOST_TEST_MESSAGE("an enquiry with its job: " << (usage.estimated_write_milli.load() - capacity) / 1000.0
                                                 << " WCU by AWS's rules");
  // The job is there, claimed by this host: no other host's claim_due takes
  // it, and its completion is this claim's.
  const auto job = expect(run(scheduler->job_for("01A")));
  BOOST_TEST_REQUIRE(job.has_value());
  BOOST_TEST(job->reason == "enquiry");
  BOOST_TEST(expect(run(jobs.peer()->claim_due(now + 5s, 10, 30s))).empty());

  // The same key again: the first lead is the answer, nothing is written.
  const auto again = expect(run(together.create_with_first_job({make_lead("01B"), "key-1", std::nullopt},
                                                               dialer::dial_job("01B", 1, now, "enquiry"), now, 30s)));
  BOOST_TEST(!again.lead.created);
  BOOST_TEST(again.lead.lead.id == "01A");
  BOOST_TEST(!again.claimed.has_value());
  BOOST_TEST(!expect(run(scheduler->job_for("01B"))).has_value());
  BOOST_TEST(expect(run(scheduler->complete(*made.claimed, std::nullopt))));

  // Outside calling hours: the job waits, and is claimed when due.
  const auto waiting =
      expect(run(together.create_with_first_job({make_lead("01C", "+14155550999"), "", std::nullopt},
                                                dialer::dial_job("01C", 1, now + 1min, "enquiry"), now, std::nullopt)));
  BOOST_TEST(waiting.lead.created);
  BOOST_TEST(!waiting.claimed.has_value());
  BOOST_TEST(expect(run(scheduler->claim_due(now, 10, 30s))).empty());
  std::vector<dialer::ClaimedJob> due;
  for (int tries = 0; tries < 50 && due.empty(); ++tries) {  // the due index is eventually consistent
    due = expect(run(scheduler->claim_due(now + 2min, 10, 30s)));
    if (due.empty()) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].job.lead_id == "01C");
}

BOOST_AUTO_TEST_CASE(leads_created_since_a_time_are_listed_without_reading_older_ones) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto store = backend.open_shared();
  LeadIdGenerator generator;
  for (int index = 0; index < 20; ++index)
    expect(run(store->create(
        {make_lead(generator.next(at(index)), "+1415555" + std::to_string(1000 + index), index), "", std::nullopt})));
  const auto recent_id = generator.next(at(100));
  expect(run(store->create({make_lead(recent_id, "+14155552000", 100), "", std::nullopt})));
  const auto requests = store->usage().requests.load();
  const auto recent = expect(run(store->list({std::nullopt, at(50), 10, ""})));
  BOOST_TEST_REQUIRE(recent.leads.size() == 1u);
  BOOST_TEST(recent.leads[0].id == recent_id);
  BOOST_TEST(store->usage().requests.load() - requests == 2);  // the index's Query from the time on, the lead's read
}

BOOST_AUTO_TEST_CASE(hundreds_of_events_live_in_items_of_their_own) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto store = backend.open_with_a_call_placed();
  // The same status with new sequence numbers: each one is history (out of order after the first).
  for (std::uint64_t sequence = 1; sequence <= 300; ++sequence) {
    auto event = make_event("CA1", CallStatus::ringing, sequence, "01A");
    event.raw_status = "ringing \xff\xfe";  // bytes a provider sent that are not UTF-8: kept as they came
    expect(run(store->apply_event(event, at(static_cast<int>(sequence)))));
  }
  const auto lead = expect(run(store->get("01A")));
  BOOST_TEST_REQUIRE(lead.events.size() == 300u);
  BOOST_TEST(lead.events[299].event.sequence_number.value_or(0) == 300u);
  BOOST_TEST(lead.events[0].event.raw_status == "ringing \xff\xfe");
  // The lead's own item stays within its budget (what each later write
  // costs): the most of the events are in items of their own.
  const auto item = raw_call("GetItem", json::object{{"TableName", backend.table},
                                                     {"Key", aws::item_key(aws::lead_pk("01A"), "lead")},
                                                     {"ReturnConsumedCapacity", "TOTAL"}});
  BOOST_TEST_REQUIRE((item.outcome == aws::DynamoOutcome::ok));
  const auto& lead_item = item.body.at("Item").as_object();
  BOOST_TEST(aws::item_size(lead_item) <= aws::kLeadItemBudget);
  const auto archived = aws::number_of(lead_item, "events").value_or(0);
  BOOST_TEST(archived > 250, archived << " of 300 events archived");
  const auto kept = aws::lead_from_item(lead_item);
  BOOST_TEST_REQUIRE(kept.has_value());
  BOOST_TEST(static_cast<std::size_t>(archived) + kept->lead.events.size() == 300u);
}

BOOST_AUTO_TEST_CASE(orphans_of_one_call_are_bounded_and_adopted_in_order) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto options = options_for(backend.table);
  options.max_orphans_per_call = 3;
  auto store = backend.open_shared(options);
  const CallStatus statuses[] = {CallStatus::initiated, CallStatus::ringing, CallStatus::in_progress,
                                 CallStatus::completed, CallStatus::busy};
  std::uint64_t sequence = 0;
  for (const auto status : statuses) {
    const auto kept = expect(run(store->apply_event(make_event("CA9", status, sequence++), at(2))));
    BOOST_TEST((kept.outcome == EventOutcome::unknown_call));
  }
  expect(run(store->create({make_lead("01A"), "", std::nullopt})));
  const auto lead = expect(run(store->add_attempt("01A", make_attempt("CA9"), LeadStatus::dialing)));
  BOOST_TEST_REQUIRE(lead.events.size() == 3u);  // the first three; the rest were let go
  BOOST_TEST((lead.events[0].event.status == CallStatus::initiated));
  BOOST_TEST((lead.status == LeadStatus::in_progress));
  // Taken with the call: no orphan item is left behind.
  const auto item = raw_call("GetItem", json::object{{"TableName", backend.table},
                                                     {"Key", aws::item_key("orphan#CA9", "orphans")},
                                                     {"ConsistentRead", true}});
  BOOST_TEST(!item.body.as_object().contains("Item"));
}

BOOST_AUTO_TEST_CASE(two_hosts_applying_one_calls_callbacks_at_once_converge) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto first = backend.open_with_a_call_placed();
  auto second = backend.open_shared();
  // Every callback twice (the provider's retry reached the other host), in an order no host chose.
  const CallStatus statuses[] = {CallStatus::completed, CallStatus::initiated, CallStatus::in_progress,
                                 CallStatus::ringing};
  std::vector<std::thread> hosts;
  for (auto* store : {first.get(), second.get()})
    hosts.emplace_back([store, &statuses] {
      for (const auto status : statuses)
        expect(run(store->apply_event(make_event("CA1", status, static_cast<std::uint64_t>(rank(status)), "01A"),
                                      at(10 + rank(status)))));
    });
  for (auto& host : hosts) host.join();
  const auto lead = expect(run(second->get("01A")));
  BOOST_TEST(lead.events.size() == 4u);  // each once: the repeats were duplicates
  BOOST_TEST((lead.status == LeadStatus::completed));
  BOOST_TEST((lead.attempts.at(0).status == CallStatus::completed));
}

BOOST_AUTO_TEST_CASE(with_dynamodb_away_operations_fail_in_time_and_the_problem_is_named) {
  using namespace callgate;
  using namespace callgate::conformance;
  DynamoBackend backend;
  auto options = options_for(backend.table);
  options.endpoint.url = "http://127.0.0.1:" + std::to_string(callgate::testing::free_loopback_port());
  options.operation_timeout = 500ms;
  options.http.connect_timeout = callgate::Milliseconds(200);
  auto store = backend.open_shared(options);
  BOOST_TEST(!store->problem().has_value());
  const auto started = std::chrono::steady_clock::now();
  const auto result = run(store->get("01A"));
  BOOST_TEST_REQUIRE(std::holds_alternative<store::StoreError>(result));
  BOOST_TEST((std::get<store::StoreError>(result).failure == store::StoreFailure::unavailable));
  BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
  BOOST_TEST_REQUIRE(store->problem().has_value());
  BOOST_TEST(store->problem()->find("DynamoDB") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
