// The dial scheduler's contract, held against the embedded backend (a Redis
// backend is to run the same cases), and what the embedded one adds:
// jobs and claims that survive a restart, a torn tail, compaction.
#include "core/dialer/embedded_dial_scheduler.hpp"

#include "lead_store_test_helpers.hpp"

#include <filesystem>
#include <fstream>
#include <random>

using namespace callgate;
using namespace callgate::dialer;
using callgate::conformance::at;
using callgate::conformance::expect;
using callgate::conformance::run;
using std::chrono::milliseconds;

namespace {

struct SchedulerDirectory {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("callgate-dialer-" + std::to_string(std::random_device{}()));
  ~SchedulerDirectory() { std::filesystem::remove_all(path); }
  std::unique_ptr<EmbeddedDialScheduler> open(std::uint64_t compact_bytes = 64ull * 1024 * 1024) const {
    return std::make_unique<EmbeddedDialScheduler>(path.string(), compact_bytes);
  }
};

DialJob job(const std::string& lead, int due_second, int call = 1, const std::string& reason = "enquiry") {
  return DialJob{lead, call, 0, at(due_second), reason};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dial_scheduler)

BOOST_AUTO_TEST_CASE(a_job_is_claimed_once_when_due_and_again_only_after_its_lease) {
  SchedulerDirectory directory;
  auto scheduler = directory.open();
  BOOST_TEST(expect(run(scheduler->schedule(job("01A", 10)))));
  BOOST_TEST(expect(run(scheduler->claim_due(at(9), 10, milliseconds(5'000)))).empty());
  const auto first = expect(run(scheduler->claim_due(at(10), 10, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST((first[0].job == job("01A", 10)));
  BOOST_TEST(expect(run(scheduler->claim_due(at(12), 10, milliseconds(5'000)))).empty());  // in flight
  BOOST_TEST(scheduler->counts(at(12)).in_flight == 1u);
  // The worker went quiet: after the lease the job is due again, under a new claim.
  const auto second = expect(run(scheduler->claim_due(at(15), 10, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(second.size() == 1u);
  BOOST_TEST(second[0].claim != first[0].claim);
  BOOST_TEST(!expect(run(scheduler->complete(first[0], std::nullopt))));  // the old claim is refused
  BOOST_TEST(expect(run(scheduler->complete(second[0], std::nullopt))));
  BOOST_TEST(!expect(run(scheduler->job_for("01A"))).has_value());
  BOOST_TEST(!scheduler->next_wake().has_value());
}

BOOST_AUTO_TEST_CASE(completing_with_a_next_job_replaces_it_in_one_step) {
  SchedulerDirectory directory;
  auto scheduler = directory.open();
  expect(run(scheduler->schedule(job("01A", 10))));
  const auto claimed = expect(run(scheduler->claim_due(at(10), 1, milliseconds(5'000))));
  BOOST_TEST_REQUIRE(claimed.size() == 1u);
  // While it is claimed nobody else schedules the lead: its worker decides.
  const auto refused = run(scheduler->schedule(job("01A", 11)));
  BOOST_TEST_REQUIRE(std::holds_alternative<StoreError>(refused));
  BOOST_TEST((std::get<StoreError>(refused).failure == StoreFailure::conflict));
  BOOST_TEST(expect(run(scheduler->complete(claimed[0], DialJob{"01A", 2, 0, at(610), "redial: busy"}))));
  const auto next = expect(run(scheduler->job_for("01A")));
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST(next->call == 2);
  BOOST_TEST(next->reason == "redial: busy");
  BOOST_TEST((scheduler->next_wake() == at(610)));
  BOOST_TEST(scheduler->counts(at(11)).waiting == 1u);
  BOOST_TEST(scheduler->counts(at(610)).due == 1u);
}

BOOST_AUTO_TEST_CASE(earliest_first_up_to_the_limit_and_a_waiting_job_is_replaced) {
  SchedulerDirectory directory;
  auto scheduler = directory.open();
  expect(run(scheduler->schedule(job("01C", 30))));
  expect(run(scheduler->schedule(job("01A", 10))));
  expect(run(scheduler->schedule(job("01B", 20))));
  expect(run(scheduler->schedule(job("01C", 5, 1, "moved earlier"))));  // replaces the 30 s one
  const auto claimed = expect(run(scheduler->claim_due(at(100), 2, milliseconds(1'000))));
  BOOST_TEST_REQUIRE(claimed.size() == 2u);
  BOOST_TEST(claimed[0].job.lead_id == "01C");
  BOOST_TEST(claimed[0].job.reason == "moved earlier");
  BOOST_TEST(claimed[1].job.lead_id == "01A");
  BOOST_TEST(expect(run(scheduler->claim_due(at(100), 10, milliseconds(1'000)))).size() == 1u);  // 01B
}

BOOST_AUTO_TEST_CASE(jobs_and_claims_survive_a_restart_and_a_torn_tail) {
  SchedulerDirectory directory;
  ClaimedJob claimed;
  {
    auto scheduler = directory.open();
    expect(run(scheduler->schedule(job("01A", 10))));
    expect(run(scheduler->schedule(job("01B", 20))));
    claimed = expect(run(scheduler->claim_due(at(10), 1, milliseconds(60'000)))).at(0);
  }
  std::ofstream(directory.path / "dialer.journal", std::ios::binary | std::ios::app) << "CGJ1\x05";  // a cut record
  auto scheduler = directory.open();
  BOOST_TEST(expect(run(scheduler->job_for("01B"))).has_value());
  // The claim held over the restart: not due again until its lease ends, and its worker may still complete it.
  BOOST_TEST(expect(run(scheduler->claim_due(at(30), 10, milliseconds(1'000)))).size() == 1u);  // only 01B
  BOOST_TEST(expect(run(scheduler->complete(claimed, std::nullopt))));
  BOOST_TEST(!expect(run(scheduler->job_for("01A"))).has_value());
}

BOOST_AUTO_TEST_CASE(compaction_keeps_the_file_small_and_the_jobs_whole) {
  SchedulerDirectory directory;
  {
    auto scheduler = directory.open(64 * 1024);
    for (int round = 0; round < 2'000; ++round) expect(run(scheduler->schedule(job("01A", round))));
    expect(run(scheduler->schedule(job("01B", 7, 3, "redial: no-answer"))));
  }
  BOOST_TEST(std::filesystem::file_size(directory.path / "dialer.journal") < 64u * 1024);
  auto scheduler = directory.open(64 * 1024);
  BOOST_TEST((expect(run(scheduler->job_for("01A")))->due == at(1'999)));
  BOOST_TEST((*expect(run(scheduler->job_for("01B"))) == job("01B", 7, 3, "redial: no-answer")));
}

BOOST_AUTO_TEST_CASE(a_numbers_calls_a_day_are_capped_and_counted_across_restarts) {
  SchedulerDirectory directory;
  const CivilDate today{2026, 11, 25}, tomorrow{2026, 11, 26};
  {
    auto scheduler = directory.open();
    BOOST_TEST(expect(run(scheduler->take_call("+919876543210", today, 2))));
    BOOST_TEST(expect(run(scheduler->take_call("+919876543210", today, 2))));
    BOOST_TEST(!expect(run(scheduler->take_call("+919876543210", today, 2))));  // the cap
    BOOST_TEST(expect(run(scheduler->take_call("+919876543211", today, 2))));   // another number
    BOOST_TEST(expect(run(scheduler->give_back_call("+919876543210", today))));  // a placement that failed
  }
  auto scheduler = directory.open();
  BOOST_TEST(expect(run(scheduler->take_call("+919876543210", today, 2))));     // the one given back
  BOOST_TEST(!expect(run(scheduler->take_call("+919876543210", today, 2))));
  BOOST_TEST(expect(run(scheduler->take_call("+919876543210", tomorrow, 2))));  // a new day
  BOOST_TEST(!expect(run(scheduler->give_back_call("+14155550123", today))));   // nothing to give back
}

BOOST_AUTO_TEST_CASE(call_counts_survive_compaction_and_old_days_are_forgotten) {
  SchedulerDirectory directory;
  {
    auto scheduler = directory.open(64 * 1024);
    for (int day = 1; day <= 28; ++day)
      for (int call = 0; call < 40; ++call)
        expect(run(scheduler->take_call("+91987654" + std::to_string(3200 + call), CivilDate{2026, 11, static_cast<unsigned>(day)}, 100)));
  }
  BOOST_TEST(std::filesystem::file_size(directory.path / "dialer.journal") < 64u * 1024);
  auto scheduler = directory.open(64 * 1024);
  // The newest day's counts are there (each number once); the cap of 1 is reached.
  BOOST_TEST(!expect(run(scheduler->take_call("+919876543200", CivilDate{2026, 11, 28}, 1))));
  // Days long past were let go: counting starts again.
  BOOST_TEST(expect(run(scheduler->take_call("+919876543200", CivilDate{2026, 11, 1}, 1))));
}

BOOST_AUTO_TEST_SUITE_END()
