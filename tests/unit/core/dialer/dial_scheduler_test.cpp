// The dial scheduler's contract (dial_scheduler_conformance.hpp) held
// against the embedded backend, in memory and on disk; then what only the
// embedded one has: a torn tail, compaction. (The Redis backend runs the
// same contract in the integration tests.)
#include "core/dialer/embedded_dial_scheduler.hpp"

#include "lead_store_test_helpers.hpp"

#include <boost/mpl/list.hpp>

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
  return dial_job(lead, call, at(due_second), reason);
}

// The conformance suite's backends.
struct InMemoryBackend {
  static constexpr bool durable = false;
  std::shared_ptr<DialScheduler> scheduler = std::make_shared<EmbeddedDialScheduler>("");
  std::shared_ptr<DialScheduler> open() { return scheduler; }
  std::shared_ptr<DialScheduler> peer() { return scheduler; }
};
struct OnDiskBackend {
  static constexpr bool durable = true;
  SchedulerDirectory directory;
  std::shared_ptr<DialScheduler> scheduler;
  std::shared_ptr<DialScheduler> open() { return scheduler = directory.open(); }
  std::shared_ptr<DialScheduler> peer() { return scheduler; }
  std::shared_ptr<DialScheduler> reopen() {
    scheduler.reset();  // one writer at a time on the file
    return open();
  }
};
using DialSchedulerBackends = boost::mpl::list<InMemoryBackend, OnDiskBackend>;

}  // namespace

BOOST_AUTO_TEST_SUITE(dial_scheduler_conformance)
#include "dial_scheduler_conformance.hpp"
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dial_scheduler)

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
