// The dialer's loop with a clock the test sets and a provider that answers
// what the test scripts: no network, no waiting for real time. What it
// decides is decisions_test.cpp's business; this checks that the loop
// carries the decisions out (the store, the scheduler, the provider) and
// that stop() stops it.
#include "dialer/dialer.hpp"
#include "providers/twilio/settings.hpp"

#include "core/dialer/embedded_dial_scheduler.hpp"
#include "core/store/memory_lead_store.hpp"
#include "lead_store_test_helpers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <deque>
#include <thread>

using namespace callgate;
using namespace callgate::dialer;
using namespace std::chrono_literals;
using conformance::expect;

namespace {

class SetClock final : public Clock {
 public:
  WallTime now() const override { return now_; }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(now_.time_since_epoch());
  }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  WallTime now_ = conformance::at(0);
};

// Answers each placement with the next scripted outcome, and remembers what it was asked.
class ScriptedProvider final : public providers::ProviderCalls {
 public:
  std::deque<providers::PlaceCallOutcome> placements;
  std::deque<providers::LookupOutcome> lookups;
  std::vector<providers::CallOrder> orders;
  std::vector<providers::CallLookup> questions;

  boost::asio::awaitable<providers::PlaceCallOutcome> place_call(const providers::Provider&, const Config&,
                                                                 providers::CallOrder order) override {
    orders.push_back(order);
    BOOST_REQUIRE_MESSAGE(!placements.empty(), "a placement nobody scripted");
    auto outcome = placements.front();
    placements.pop_front();
    co_return outcome;
  }
  boost::asio::awaitable<providers::LookupOutcome> find_calls(const providers::Provider&, const Config&,
                                                              providers::CallLookup lookup) override {
    questions.push_back(lookup);
    BOOST_REQUIRE_MESSAGE(!lookups.empty(), "a lookup nobody scripted");
    auto outcome = lookups.front();
    lookups.pop_front();
    co_return outcome;
  }
};

struct DialerBench {
  boost::asio::io_context io;
  store::MemoryLeadStore store;
  EmbeddedDialScheduler scheduler{""};  // in memory
  SetClock clock;
  ScriptedProvider provider;
  MetricsRegistry registry;
  std::shared_ptr<const Config> config;
  std::unique_ptr<Dialer> dialer;

  DialerBench() {
    Config base;
    base.telephony.provider = ProviderName("twilio");
    providers::twilio::settings_of(base).account_sid = "AC00000000000000000000000000000000";
    base.dialer.retry.base = 2s;
    base.dialer.retry.max_tries = 3;
    config = std::make_shared<const Config>(base);
    const auto placed = registry.declare_counter("callgate_calls_placed_total", "Calls placed.");
    dialer = std::make_unique<Dialer>(
        io, scheduler, store, [this] { return config; }, declare_dialer_metrics(registry, placed), clock);
    dialer->attach(io, provider, registry.add_shard());
  }

  Lead stored_lead(const std::string& id) {
    auto lead = conformance::make_lead(id, "+14155550123");
    lead.created = clock.now();
    store::CreateRequest request;
    request.lead = lead;
    expect(conformance::run(store.create(request)));
    return lead;
  }

  // Runs the loop until done() holds or 5 s of real time pass.
  template <class Done>
  bool run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_for(10ms);
    }
    return true;
  }

  Lead lead(const std::string& id) { return expect(conformance::run(store.get(id))); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dialer_loop)

BOOST_AUTO_TEST_CASE(a_new_lead_is_called_once_and_its_call_recorded) {
  DialerBench bench;
  bench.provider.placements.push_back(providers::Placed{"CA100", "queued"});
  const auto lead = bench.stored_lead("01A");
  bench.dialer->start();
  std::optional<store::StoreResult<bool>> handed;
  boost::asio::co_spawn(bench.io, bench.dialer->enqueue_first_call(lead),
                        [&](std::exception_ptr, store::StoreResult<bool> result) { handed = result; });
  BOOST_REQUIRE(bench.run_until([&] { return !bench.lead("01A").attempts.empty(); }));
  BOOST_REQUIRE(handed);
  BOOST_TEST(expect(*handed));
  BOOST_REQUIRE_EQUAL(bench.provider.orders.size(), 1u);
  BOOST_TEST(bench.provider.orders.front().lead_id == "01A");
  BOOST_TEST(bench.provider.orders.front().to == "+14155550123");
  const auto stored = bench.lead("01A");
  BOOST_TEST(stored.attempts.front().call_sid == "CA100");
  BOOST_TEST(stored.attempts.front().provider == "twilio");
  BOOST_TEST(to_string(stored.status) == "dialing");
  // The claim is completed with nothing after it; the same enquiry again places nothing.
  BOOST_REQUIRE(bench.run_until([&] { return !expect(conformance::run(bench.scheduler.job_for("01A"))).has_value(); }));
  const auto again = bench.lead("01A");  // outlives the call, which holds it by reference
  boost::asio::co_spawn(bench.io, bench.dialer->enqueue_first_call(again),
                        [](std::exception_ptr, store::StoreResult<bool>) {});
  bench.io.run_for(300ms);
  BOOST_TEST(bench.provider.orders.size() == 1u);
}

// Jobs beside the leads, as DynamoDB keeps them: the lead and its job in
// one step (here the memory store and the bench's scheduler, one after the other).
class LeadsWithJobsBeside final : public LeadsWithFirstJobs {
 public:
  LeadsWithJobsBeside(store::LeadStore& store, DialScheduler& scheduler) : store_(store), scheduler_(scheduler) {}
  boost::asio::awaitable<store::StoreResult<Stored>> create_with_first_job(
      store::CreateRequest request, DialJob job, WallTime now,
      std::optional<std::chrono::milliseconds> lease) override {
    leases.push_back(lease);
    auto created = expect(co_await store_.create(std::move(request)));
    Stored stored{created, std::nullopt};
    if (!created.created) co_return stored;
    if (lease)
      stored.claimed = expect(co_await scheduler_.schedule_claimed(std::move(job), now, *lease));
    else
      expect(co_await scheduler_.schedule(std::move(job)));
    co_return stored;
  }
  std::vector<std::optional<std::chrono::milliseconds>> leases;

 private:
  store::LeadStore& store_;
  DialScheduler& scheduler_;
};

BOOST_AUTO_TEST_CASE(a_lead_stored_with_its_first_job_is_called_at_once_without_a_hand_over) {
  DialerBench bench;
  LeadsWithJobsBeside together(bench.store, bench.scheduler);
  BOOST_TEST(!bench.dialer->stores_first_call_with_lead());
  bench.dialer->keep_first_jobs_with_leads(together);
  BOOST_TEST(bench.dialer->stores_first_call_with_lead());
  bench.provider.placements.push_back(providers::Placed{"CA100", "queued"});
  bench.dialer->start();
  store::CreateRequest request;
  request.lead = conformance::make_lead("01A", "+14155550123");
  request.lead.created = bench.clock.now();
  std::optional<store::StoreResult<store::CreateResult>> created;
  boost::asio::co_spawn(bench.io, bench.dialer->create_with_first_call(request),
                        [&](std::exception_ptr, store::StoreResult<store::CreateResult> result) { created = result; });
  BOOST_REQUIRE(bench.run_until([&] { return created && !bench.lead("01A").attempts.empty(); }));
  BOOST_TEST(expect(*created).created);
  BOOST_REQUIRE_EQUAL(together.leases.size(), 1u);
  BOOST_TEST((together.leases.front() == std::optional(bench.config->dialer.lease)));  // claimed: worked at once
  BOOST_REQUIRE_EQUAL(bench.provider.orders.size(), 1u);
  BOOST_TEST(bench.provider.orders.front().lead_id == "01A");
  BOOST_TEST(bench.lead("01A").attempts.front().call_sid == "CA100");
  // The same enquiry again: the lead is the answer, nothing more is placed.
  created.reset();
  boost::asio::co_spawn(bench.io, bench.dialer->create_with_first_call(request),
                        [&](std::exception_ptr, store::StoreResult<store::CreateResult> result) { created = result; });
  BOOST_REQUIRE(bench.run_until([&] { return created.has_value(); }));
  BOOST_TEST(!expect(*created).created);
  bench.io.run_for(300ms);
  BOOST_TEST(bench.provider.orders.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_retryable_failure_is_placed_again_once_the_clock_reaches_its_backoff) {
  DialerBench bench;
  bench.provider.placements.push_back(providers::Retryable{"503 from the provider", std::nullopt});
  bench.provider.placements.push_back(providers::Placed{"CA200", "queued"});
  const auto lead = bench.stored_lead("01B");
  bench.dialer->start();
  boost::asio::co_spawn(bench.io, bench.dialer->enqueue_first_call(lead),
                        [](std::exception_ptr, store::StoreResult<bool>) {});
  BOOST_REQUIRE(bench.run_until([&] { return bench.provider.orders.size() == 1; }));
  // The retry waits for the clock: at most the backoff's cap for a first failure (base 2 s).
  const auto job = [&] { return expect(conformance::run(bench.scheduler.job_for("01B"))); };
  BOOST_REQUIRE(bench.run_until([&] { return job().has_value() && job()->failures == 1; }));
  BOOST_TEST((job()->due <= bench.clock.now() + 2s));
  BOOST_TEST(bench.lead("01B").attempts.empty());  // nothing rang: nothing recorded
  bench.clock.advance(2s);
  bench.dialer->poke();
  BOOST_REQUIRE(bench.run_until([&] { return !bench.lead("01B").attempts.empty(); }));
  BOOST_TEST(bench.provider.orders.size() == 2u);
  BOOST_TEST(bench.lead("01B").attempts.front().call_sid == "CA200");
}

BOOST_AUTO_TEST_CASE(an_ambiguous_placement_is_settled_by_the_provider_s_list_and_never_placed_twice) {
  DialerBench bench;
  bench.provider.placements.push_back(providers::Ambiguous{"timed out after the request was written"});
  bench.provider.lookups.push_back(providers::FoundCall{"CA300", "ringing", CallStatus::ringing});
  const auto lead = bench.stored_lead("01C");
  bench.dialer->start();
  boost::asio::co_spawn(bench.io, bench.dialer->enqueue_first_call(lead),
                        [](std::exception_ptr, store::StoreResult<bool>) {});
  BOOST_REQUIRE(bench.run_until([&] { return !bench.lead("01C").attempts.empty(); }));
  BOOST_TEST(bench.lead("01C").attempts.front().call_sid.empty());
  bench.clock.advance(bench.config->dialer.ambiguous.grace);
  bench.dialer->poke();
  BOOST_REQUIRE(bench.run_until([&] { return !bench.lead("01C").attempts.front().call_sid.empty(); }));
  BOOST_TEST(bench.lead("01C").attempts.front().call_sid == "CA300");
  BOOST_REQUIRE_EQUAL(bench.provider.questions.size(), 1u);
  BOOST_TEST(bench.provider.questions.front().to == "+14155550123");
  BOOST_TEST(bench.provider.orders.size() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_ends_the_claim_loop_and_the_sweep_and_nothing_is_claimed_after) {
  DialerBench bench;
  bench.dialer->start();
  bench.io.run_for(50ms);                              // both loops idle in their waits
  std::thread stopper([&] { bench.dialer->stop(); });  // from another thread, as the daemon's control loop does
  stopper.join();
  // With both loops over, the io_context has nothing left to do and returns.
  const auto began = std::chrono::steady_clock::now();
  bench.io.restart();
  bench.io.run_for(5s);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count() <
             4000);
  // A job due now is not claimed by a stopped dialer.
  expect(conformance::run(bench.scheduler.schedule(dial_job("01D", 1, bench.clock.now(), "test"))));
  bench.dialer->poke();
  bench.io.restart();
  bench.io.run_for(200ms);
  BOOST_TEST(bench.provider.orders.empty());
  BOOST_TEST(expect(conformance::run(bench.scheduler.job_for("01D"))).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
