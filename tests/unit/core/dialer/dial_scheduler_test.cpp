// The dial scheduler's contract (dial_scheduler_conformance.hpp) held
// against the embedded backend, in memory, in a file of its own and in the
// lead journal; then what only the embedded one has: a torn tail,
// compaction, moving into the lead journal. (The Redis backend runs the
// same contract in the integration tests.)
#include "core/dialer/embedded_dial_scheduler.hpp"
#include "core/store/journal_lead_store.hpp"

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
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("callgate-dialer-" + std::to_string(std::random_device{}()));
  ~SchedulerDirectory() { std::filesystem::remove_all(path); }
  std::unique_ptr<EmbeddedDialScheduler> open(std::uint64_t compact_bytes = 64ull * 1024 * 1024) const {
    return std::make_unique<EmbeddedDialScheduler>(path.string(), compact_bytes);
  }
};

// The daemon's default with the journal store: the jobs in the lead journal.
struct LeadJournalWithJobs {
  std::unique_ptr<store::JournalLeadStore> store;
  std::shared_ptr<EmbeddedDialScheduler> scheduler;
  LeadJournalWithJobs(const std::filesystem::path& directory, std::uint64_t compact_bytes = 256ull * 1024 * 1024) {
    scheduler = std::make_shared<EmbeddedDialScheduler>(EmbeddedDialScheduler::InLeadJournal{}, directory.string());
    store = std::make_unique<store::JournalLeadStore>(store::JournalStoreOptions{
        .directory = directory.string(), .compact_bytes = compact_bytes, .guests = {scheduler.get()}});
    scheduler->attach(store->writer_for_guest());
  }
  ~LeadJournalWithJobs() {
    BOOST_TEST(scheduler.use_count() == 1, "nobody else holds the scheduler past its journal");
    scheduler.reset();
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
struct InLeadJournalBackend {
  static constexpr bool durable = true;
  SchedulerDirectory directory;
  std::optional<LeadJournalWithJobs> journal;
  std::shared_ptr<DialScheduler> open() {
    journal.emplace(directory.path);
    return journal->scheduler;
  }
  std::shared_ptr<DialScheduler> peer() { return journal->scheduler; }
  std::shared_ptr<DialScheduler> reopen() {
    journal.reset();
    return open();
  }
};
using DialSchedulerBackends = boost::mpl::list<InMemoryBackend, OnDiskBackend, InLeadJournalBackend>;

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
        expect(run(scheduler->take_call("+91987654" + std::to_string(3200 + call),
                                        CivilDate{2026, 11, static_cast<unsigned>(day)}, 100)));
  }
  BOOST_TEST(std::filesystem::file_size(directory.path / "dialer.journal") < 64u * 1024);
  auto scheduler = directory.open(64 * 1024);
  // The newest day's counts are there (each number once); the cap of 1 is reached.
  BOOST_TEST(!expect(run(scheduler->take_call("+919876543200", CivilDate{2026, 11, 28}, 1))));
  // Days long past were let go: counting starts again.
  BOOST_TEST(expect(run(scheduler->take_call("+919876543200", CivilDate{2026, 11, 1}, 1))));
}

BOOST_AUTO_TEST_CASE(in_the_lead_journal_jobs_share_its_syncs_and_survive_its_compaction) {
  SchedulerDirectory directory;
  {
    LeadJournalWithJobs journal(directory.path, 64 * 1024);
    run(journal.store->create({conformance::make_lead("01A"), "", std::nullopt}));
    expect(run(journal.scheduler->schedule(job("01A", 7, 2, "redial: busy"))));
    expect(run(journal.scheduler->take_call("+919876543210", CivilDate{2026, 11, 25}, 5)));
    // Enough lead records to compact the file a few times over.
    for (int index = 0; index < 2'000; ++index)
      run(journal.store->apply_event(conformance::make_event("CA-" + std::to_string(index), CallStatus::busy, 1),
                                     at(index)));
    BOOST_TEST(!std::filesystem::is_empty(directory.path / "archive"));
    BOOST_TEST(!std::filesystem::exists(directory.path / "dialer.journal"));
    // The jobs' records went to the lead journal's one writer.
    BOOST_TEST(journal.store->writer().appended_bytes() > 0u);
  }
  LeadJournalWithJobs journal(directory.path, 64 * 1024);
  BOOST_TEST((*expect(run(journal.scheduler->job_for("01A"))) == job("01A", 7, 2, "redial: busy")));
  BOOST_TEST(!expect(run(journal.scheduler->take_call("+919876543210", CivilDate{2026, 11, 25}, 1))));
  expect(run(journal.store->get("01A")));
}

BOOST_AUTO_TEST_CASE(a_lead_and_its_first_job_are_written_together_and_waited_for_once) {
  SchedulerDirectory directory;
  const auto lease = std::chrono::milliseconds(30'000);
  {
    LeadJournalWithJobs journal(directory.path);
    JournalLeadsWithFirstJobs together(*journal.store, *journal.scheduler);
    auto stored = expect(run(together.create_with_first_job({conformance::make_lead("01A"), "key-1", std::nullopt},
                                                            job("01A", 5), at(5), lease)));
    BOOST_TEST(stored.lead.created);
    BOOST_TEST_REQUIRE(stored.claimed.has_value());
    BOOST_TEST(stored.claimed->job.lead_id == "01A");
    BOOST_TEST((stored.claimed->lease_until == at(5) + lease));
    // Once it answered, the lead and both of the job's records are in the
    // file, in that order (the writer answers after writing and syncing).
    std::ifstream file(journal.store->path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto lead_at = text.find(R"({"op":"lead","lead":{"id":"01A")");
    const auto job_at = text.find(R"({"op":"job","job":{"leadId":"01A")");
    const auto claim_at = text.find(R"({"op":"claim","leadId":"01A")");
    BOOST_TEST_REQUIRE(lead_at != std::string::npos);
    BOOST_TEST_REQUIRE(job_at != std::string::npos);
    BOOST_TEST_REQUIRE(claim_at != std::string::npos);
    BOOST_TEST((lead_at < job_at && job_at < claim_at));

    // The same key again: the lead it made, nothing written, no job claimed twice.
    const auto appended = journal.store->writer().appended_bytes();
    auto again = expect(run(together.create_with_first_job({conformance::make_lead("01B"), "key-1", std::nullopt},
                                                           job("01B", 6), at(6), lease)));
    BOOST_TEST(!again.lead.created);
    BOOST_TEST(again.lead.lead.id == "01A");
    BOOST_TEST(!again.claimed.has_value());
    BOOST_TEST(journal.store->writer().appended_bytes() == appended);
    BOOST_TEST(!expect(run(journal.scheduler->job_for("01B"))).has_value());

    // Held for calling hours (no lease): written waiting, not claimed.
    auto later = expect(run(together.create_with_first_job({conformance::make_lead("01C"), "", std::nullopt},
                                                           job("01C", 900), at(7), std::nullopt)));
    BOOST_TEST(later.lead.created);
    BOOST_TEST(!later.claimed.has_value());
  }
  // After a restart: the leads, the claimed job and the waiting one.
  LeadJournalWithJobs journal(directory.path);
  expect(run(journal.store->get("01A")));
  expect(run(journal.store->get("01C")));
  BOOST_TEST((*expect(run(journal.scheduler->job_for("01A"))) == job("01A", 5)));
  BOOST_TEST((*expect(run(journal.scheduler->job_for("01C"))) == job("01C", 900)));
  // 01A's claim came back with it: not due to anyone else until its lease ends.
  BOOST_TEST(expect(run(journal.scheduler->claim_due(at(10), 10, lease))).size() == 0u);
  BOOST_TEST(expect(run(journal.scheduler->claim_due(at(5) + lease + std::chrono::seconds(1), 10, lease))).size() ==
             1u);
}

BOOST_AUTO_TEST_CASE(an_earlier_dialer_journal_is_moved_into_the_lead_journal) {
  SchedulerDirectory directory;
  {
    auto scheduler = directory.open();  // as an earlier version kept them
    expect(run(scheduler->schedule(job("01A", 10))));
    expect(run(scheduler->schedule(job("01B", 20, 3, "redial: no-answer"))));
  }
  BOOST_TEST_REQUIRE(std::filesystem::exists(directory.path / "dialer.journal"));
  {
    LeadJournalWithJobs journal(directory.path);
    BOOST_TEST(!std::filesystem::exists(directory.path / "dialer.journal"));
    BOOST_TEST(expect(run(journal.scheduler->job_for("01A"))).has_value());
  }
  LeadJournalWithJobs journal(directory.path);
  BOOST_TEST((*expect(run(journal.scheduler->job_for("01B"))) == job("01B", 20, 3, "redial: no-answer")));
  BOOST_TEST((expect(run(journal.scheduler->job_for("01A")))->due == at(10)));
}

BOOST_AUTO_TEST_CASE(jobs_in_the_lead_journal_are_not_dropped_when_the_dialer_looks_elsewhere) {
  SchedulerDirectory directory;
  {
    LeadJournalWithJobs journal(directory.path);
    expect(run(journal.scheduler->schedule(job("01A", 10))));
  }
  // dialer.path set after the jobs went into the lead journal: start-up says
  // so, in the words the scheduler gives the store (which knows no dialer).
  BOOST_CHECK_EXCEPTION(
      store::JournalLeadStore(store::JournalStoreOptions{
          .directory = directory.path.string(), .absent_guest = EmbeddedDialScheduler::absent_from_lead_journal()}),
      std::runtime_error, [](const std::runtime_error& error) {
        return std::string(error.what())
                       .find(
                           "'job' record: the journal holds the embedded "
                           "dialer's jobs") != std::string::npos &&
               std::string(error.what()).find("leave dialer.path empty") != std::string::npos;
      });
  // Told of no absent guest, the record is simply one it cannot read.
  BOOST_CHECK_EXCEPTION(store::JournalLeadStore(store::JournalStoreOptions{.directory = directory.path.string()}),
                        std::runtime_error, [](const std::runtime_error& error) {
                          return std::string(error.what()).find("'job' record does not parse") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_SUITE_END()
