// The behaviour every DialScheduler backend must share, as typed test cases.
// A test file defines its backends as the type list DialSchedulerBackends,
// each a type with:
//   std::shared_ptr<DialScheduler> open();    the scheduler, as one host sees it
//   std::shared_ptr<DialScheduler> peer();    another host on the same jobs
//                                             (in-process backends: the same one)
//   std::shared_ptr<DialScheduler> reopen();  after a restart (durable ones only)
//   static constexpr bool durable;
// then includes this header inside a test suite (as lead_store_conformance.hpp).
//
// Times are whole seconds from an arbitrary epoch (conformance::at), passed
// in: nothing here waits. counts() and next_wake() are read after a
// claim_due, which the Redis backend answers them from (a claim of 0 jobs is
// a look that claims nothing).
//
// (No include guard on purpose: each inclusion makes one suite's cases.)

// lead_store_test_helpers.hpp and core/dialer/dial_scheduler.hpp must be
// included before the suite opens.

// The names every case uses (in the suite's own namespace; each inclusion
// has its own suite).
using namespace callgate;
using namespace callgate::conformance;
using std::chrono::milliseconds;

namespace dial_conformance {
inline callgate::dialer::DialJob job(const std::string& lead, int due_second, int call = 1,
                                     const std::string& reason = "enquiry") {
  return callgate::dialer::dial_job(lead, call, callgate::conformance::at(due_second), reason);
}
}  // namespace dial_conformance
using dial_conformance::job;

BOOST_AUTO_TEST_CASE_TEMPLATE(a_job_is_claimed_once_when_due_and_again_only_after_its_lease, Backend,
                              DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  BOOST_TEST(expect(run(scheduler->schedule(job("01A", 10)))));
  BOOST_TEST(expect(run(scheduler->claim_due(at(9), 10, milliseconds(5'000)))).empty());
  BOOST_TEST((scheduler->next_wake() == at(10)));
  BOOST_TEST(scheduler->counts(at(9)).waiting == 1u);
  const auto first = expect(run(scheduler->claim_due(at(10), 10, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST((first[0].job == job("01A", 10)));
  BOOST_TEST(!first[0].reclaimed);
  BOOST_TEST(expect(run(scheduler->claim_due(at(12), 10, milliseconds(5'000)))).empty());  // in flight
  BOOST_TEST(scheduler->counts(at(12)).in_flight == 1u);
  BOOST_TEST((scheduler->next_wake() == at(15)));  // its lease's end
  // The worker went quiet: after the lease the job is due again, under a new claim.
  const auto second = expect(run(scheduler->claim_due(at(15), 10, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(second.size() == 1u);
  BOOST_TEST(second[0].claim != first[0].claim);
  BOOST_TEST(second[0].reclaimed);
  BOOST_TEST(!expect(run(scheduler->complete(first[0], std::nullopt))));  // the old claim is refused
  BOOST_TEST(expect(run(scheduler->complete(second[0], std::nullopt))));
  BOOST_TEST(!expect(run(scheduler->job_for("01A"))).has_value());
  BOOST_TEST(expect(run(scheduler->claim_due(at(100), 10, milliseconds(5'000)))).empty());
  BOOST_TEST(!scheduler->next_wake().has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(completing_with_a_next_job_replaces_it_in_one_step, Backend, DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  expect(run(scheduler->schedule(job("01A", 10))));
  const auto claimed = expect(run(scheduler->claim_due(at(10), 1, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  // While it is claimed nobody else schedules the lead: its worker decides.
  const auto refused = run(backend.peer()->schedule(job("01A", 11)));
  BOOST_TEST_REQUIRE(std::holds_alternative<store::StoreError>(refused));
  BOOST_TEST((std::get<store::StoreError>(refused).failure == store::StoreFailure::conflict));
  auto redial = job("01A", 610, 2, "checking call 1");
  redial.slot_reserved = true;
  redial.check = dialer::AmbiguousCheck{"exotel", at(9), 2, 1};
  BOOST_TEST(expect(run(scheduler->complete(claimed[0], redial))));
  const auto next = expect(run(backend.peer()->job_for("01A")));
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST((*next == redial));  // every field, the pacing mark and the check too
  BOOST_TEST(expect(run(scheduler->claim_due(at(11), 0, milliseconds(5'000)))).empty());  // a look
  BOOST_TEST((scheduler->next_wake() == at(610)));
  BOOST_TEST(scheduler->counts(at(11)).waiting == 1u);
  BOOST_TEST(scheduler->counts(at(11)).in_flight == 0u);
  BOOST_TEST(expect(run(scheduler->claim_due(at(610), 0, milliseconds(5'000)))).empty());
  BOOST_TEST(scheduler->counts(at(610)).due == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_new_job_can_go_in_claimed_by_its_caller_and_only_once, Backend, DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  const auto mine = expect(run(scheduler->schedule_claimed(job("01A", 10), at(10), milliseconds(5'000))));
  BOOST_TEST_REQUIRE(mine.has_value());
  BOOST_TEST((mine->lease_until == at(15)));
  BOOST_TEST(!mine->reclaimed);
  // Nobody else takes it while the lease holds; a second enquiry changes nothing.
  auto other = backend.peer();
  BOOST_TEST(expect(run(other->claim_due(at(12), 10, milliseconds(5'000)))).empty());
  BOOST_TEST(other->counts(at(12)).in_flight == 1u);
  BOOST_TEST(
      !expect(run(other->schedule_claimed(job("01A", 12, 1, "again"), at(12), milliseconds(5'000)))).has_value());
  // Its caller died: after the lease another host reclaims it.
  const auto reclaimed = expect(run(other->claim_due(at(15), 10, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(reclaimed.size() == 1u);
  BOOST_TEST(reclaimed[0].reclaimed);
  BOOST_TEST(reclaimed[0].job.reason == "enquiry");
  BOOST_TEST(!expect(run(scheduler->complete(*mine, std::nullopt))));  // the old claim is refused
  BOOST_TEST(expect(run(scheduler->complete(reclaimed[0], std::nullopt))));
  // A lead with no job left may be claimed again (its worker sees the call is on the lead).
  BOOST_TEST(expect(run(scheduler->schedule_claimed(job("01A", 20), at(20), milliseconds(5'000)))).has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(earliest_first_up_to_the_limit_and_a_waiting_job_is_replaced, Backend,
                              DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  expect(run(scheduler->schedule(job("01C", 30))));
  expect(run(scheduler->schedule(job("01A", 10))));
  expect(run(scheduler->schedule(job("01B", 20))));
  expect(run(scheduler->schedule(job("01C", 5, 1, "moved earlier"))));  // replaces the 30 s one
  const auto claimed = expect(run(scheduler->claim_due(at(100), 2, milliseconds(1'000))));
  BOOST_TEST_REQUIRE(claimed.size() == 2u);
  BOOST_TEST(claimed[0].job.lead_id == "01C");
  BOOST_TEST(claimed[0].job.reason == "moved earlier");
  BOOST_TEST(claimed[1].job.lead_id == "01A");
  // A lapsed claim and a waiting job: still earliest first (01A's lease ended at 101, 01B was due at 20).
  const auto later = expect(run(scheduler->claim_due(at(200), 10, milliseconds(1'000))));
  BOOST_TEST_REQUIRE(later.size() == 3u);
  BOOST_TEST(later[0].job.lead_id == "01B");
  BOOST_TEST(!later[0].reclaimed);
  BOOST_TEST(later[1].reclaimed);
  BOOST_TEST(later[2].reclaimed);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(hosts_claiming_at_once_take_each_job_exactly_once, Backend, DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  constexpr int kJobs = 300;
  for (int index = 0; index < kJobs; ++index)
    expect(run(scheduler->schedule(job("01J" + std::to_string(1000 + index), index % 7))));
  std::vector<std::shared_ptr<dialer::DialScheduler>> hosts{scheduler, backend.peer(), backend.peer()};
  std::mutex mutex;
  std::map<std::string, int> times_claimed;
  std::vector<std::thread> threads;
  for (auto& host : hosts)
    threads.emplace_back([&, host] {
      for (;;) {
        const auto batch =
            std::get<std::vector<dialer::ClaimedJob>>(run(host->claim_due(at(10), 7, milliseconds(60'000))));
        if (batch.empty()) return;
        for (const auto& claimed : batch) {
          run(host->complete(claimed, std::nullopt));
          std::lock_guard lock(mutex);
          ++times_claimed[claimed.job.lead_id];
        }
      }
    });
  for (auto& thread : threads) thread.join();
  BOOST_TEST(times_claimed.size() == static_cast<std::size_t>(kJobs));
  for (const auto& [lead, times] : times_claimed) BOOST_TEST(times == 1, lead << " was claimed " << times << " times");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_numbers_calls_a_day_are_capped_for_every_host, Backend, DialSchedulerBackends) {
  Backend backend;
  auto scheduler = backend.open();
  auto other = backend.peer();
  const CivilDate today{2026, 11, 25}, tomorrow{2026, 11, 26};
  BOOST_TEST(expect(run(scheduler->take_call("+919876543210", today, 2))));
  BOOST_TEST(expect(run(other->take_call("+919876543210", today, 2))));
  BOOST_TEST(!expect(run(scheduler->take_call("+919876543210", today, 2))));   // the cap, whoever took them
  BOOST_TEST(expect(run(other->take_call("+919876543211", today, 2))));        // another number
  BOOST_TEST(expect(run(other->take_call("+919876543210", tomorrow, 2))));     // another day
  BOOST_TEST(expect(run(scheduler->give_back_call("+919876543210", today))));  // a placement that failed
  BOOST_TEST(expect(run(other->take_call("+919876543210", today, 2))));        // the one given back
  BOOST_TEST(!expect(run(other->take_call("+919876543210", today, 2))));
  BOOST_TEST(!expect(run(scheduler->give_back_call("+14155550123", today))));  // nothing to give back
}

BOOST_AUTO_TEST_CASE_TEMPLATE(pacing_slots_are_spaced_and_shared_by_hosts, Backend, DialSchedulerBackends) {
  using namespace std::chrono_literals;
  Backend backend;
  auto scheduler = backend.open();
  auto other = backend.peer();
  // Exotel's 200 a minute: 300 ms apart, whichever host asks.
  BOOST_TEST((expect(run(scheduler->reserve_slot("exotel", at(10), 200))) == at(10)));
  BOOST_TEST((expect(run(other->reserve_slot("exotel", at(10), 200))) == at(10) + 300ms));
  BOOST_TEST((expect(run(scheduler->reserve_slot("exotel", at(10) + 100ms, 200))) == at(10) + 600ms));
  BOOST_TEST((expect(run(other->reserve_slot("twilio", at(10), 60))) == at(10)));  // another account
  BOOST_TEST((expect(run(other->reserve_slot("twilio", at(10), 60))) == at(11)));
  BOOST_TEST((expect(run(scheduler->reserve_slot("exotel", at(20), 200))) == at(20)));  // free again
  BOOST_TEST((expect(run(scheduler->reserve_slot("exotel", at(20), 0))) == at(20)));    // unpaced
}

BOOST_AUTO_TEST_CASE_TEMPLATE(jobs_claims_and_counts_survive_a_restart, Backend, DialSchedulerBackends) {
  if constexpr (!Backend::durable) {
    BOOST_TEST_MESSAGE("in memory only: nothing to survive");
    BOOST_TEST(!Backend::durable);
  } else {
    Backend backend;
    dialer::ClaimedJob claimed;
    const CivilDate today{2026, 11, 25};
    {
      auto scheduler = backend.open();
      expect(run(scheduler->schedule(job("01A", 10))));
      expect(run(scheduler->schedule(job("01B", 20, 2, "redial: busy"))));
      claimed = expect(run(scheduler->claim_due(at(10), 1, milliseconds(60'000)))).at(0);
      BOOST_TEST(expect(run(scheduler->take_call("+919876543210", today, 1))));
    }
    auto scheduler = backend.reopen();
    BOOST_TEST((*expect(run(scheduler->job_for("01B"))) == job("01B", 20, 2, "redial: busy")));
    // The claim held over the restart: not due again until its lease ends, and its worker may still complete it.
    const auto due = expect(run(scheduler->claim_due(at(30), 10, milliseconds(1'000))));
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].job.lead_id == "01B");
    BOOST_TEST(expect(run(scheduler->complete(claimed, std::nullopt))));
    BOOST_TEST(!expect(run(scheduler->job_for("01A"))).has_value());
    BOOST_TEST(!expect(run(scheduler->take_call("+919876543210", today, 1))));
  }
}
