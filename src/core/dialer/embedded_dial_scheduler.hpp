// The scheduler inside one callgated, for the embedded (journal) store:
// jobs in memory, every change a record, durable before the call
// completes, so a restart loses no scheduled retry or redial. The records
// go in the lead journal itself, as its guest (journal_guest.hpp: one
// writer and one sync for a lead and its job), or, with dialer.path set,
// in <directory>/dialer.journal with a writer of its own (the same format:
// group commit, torn-tail recovery). Claims are recorded too: after a crash
// a claimed job comes back when its lease ends, and its worker finds the
// attempt the first one recorded on the lead (see dial_scheduler.hpp).
#pragma once

#include "core/store/journal_lead_store.hpp"

#include "core/dialer/dial_scheduler.hpp"
#include "core/dialer/pacer.hpp"
#include "core/state_files.hpp"
#include "core/store/journal_guest.hpp"
#include "core/store/journal_writer.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace callgate::dialer {

class EmbeddedDialScheduler final : public DialScheduler, public store::JournalGuest {
 public:
  // In <directory>/dialer.journal: replays the file; throws
  // std::runtime_error on damage before its end. An empty directory keeps
  // the jobs in memory only (with the memory store).
  explicit EmbeddedDialScheduler(std::string directory, std::uint64_t compact_bytes = 64ull * 1024 * 1024);

  // In the lead journal of directory: pass it as JournalStoreOptions::guest
  // (the store replays its records to it), then attach() the store's
  // writer before anything else. A dialer.journal an earlier version left
  // in directory is replayed here first and moved into the lead journal by
  // attach().
  struct InLeadJournal {};
  EmbeddedDialScheduler(InLeadJournal, std::string directory);
  // Throws std::runtime_error when the earlier file's jobs cannot be moved.
  void attach(store::JournalWriter& lead_journal);

  bool owns_op(std::string_view op) const override;
  // For a lead journal this scheduler does not share (dialer.path is set):
  // its record kinds, so that one found there is explained.
  static store::AbsentGuest absent_from_lead_journal();
  void replay_record(std::string_view payload) override;
  void hold_for_snapshot(const std::function<void(std::vector<std::string> payloads)>& queue_snapshot) override;

  boost::asio::awaitable<store::StoreResult<bool>> schedule(DialJob job) override;
  boost::asio::awaitable<store::StoreResult<std::optional<ClaimedJob>>> schedule_claimed(
      DialJob job, WallTime now, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<std::vector<ClaimedJob>>> claim_due(
      WallTime now, std::size_t limit, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<bool>> complete(ClaimedJob claimed, std::optional<DialJob> next) override;
  boost::asio::awaitable<store::StoreResult<bool>> take_call(std::string number, CivilDate day, int cap) override;
  boost::asio::awaitable<store::StoreResult<bool>> give_back_call(std::string number, CivilDate day) override;
  // In memory: after a restart an account's pacing starts afresh.
  boost::asio::awaitable<store::StoreResult<WallTime>> reserve_slot(std::string account, WallTime now,
                                                                    unsigned calls_per_minute) override;
  boost::asio::awaitable<store::StoreResult<std::optional<DialJob>>> job_for(std::string lead_id) override;
  std::optional<WallTime> next_wake() const override;
  std::chrono::milliseconds longest_sleep() const override {
    return std::chrono::seconds(60);
  }  // nobody else writes its jobs
  SchedulerCounts counts(WallTime now) const override;
  std::optional<std::string> problem() const override;

  std::string path() const;
  // Whether its records go into the lead journal (InLeadJournal, attached).
  bool in_lead_journal() const { return in_lead_journal_; }

  // schedule_claimed() without its wait: the job claimed (nothing when the
  // lead has a job already) and the ticket of its records, for
  // JournalLeadsWithFirstJobs.
  std::pair<std::optional<ClaimedJob>, std::uint64_t> schedule_claimed_queued(DialJob job, WallTime now,
                                                                              std::chrono::milliseconds lease);

 private:
  struct Entry {
    DialJob job;
    std::uint64_t claim = 0;  // 0: waiting
    WallTime lease_until{};
  };
  // Under mutex_: the in-memory change and its record (replay calls the
  // same functions with recording off).
  void put(const DialJob& job);
  void put_claim(const std::string& lead_id, std::uint64_t claim, WallTime lease_until);
  void remove(const std::string& lead_id);
  // Sets a number's count for a day and forgets days long past.
  void set_calls(const std::string& number, CivilDate day, int count);
  std::uint64_t record_calls(const std::string& number, CivilDate day);
  void apply_record(std::string_view payload);
  void replay_file();
  std::uint64_t record(std::string payload);
  std::vector<std::string> snapshot_payloads() const;
  boost::asio::awaitable<std::optional<store::StoreError>> durable(std::uint64_t ticket);

  std::string directory_;
  std::uint64_t compact_bytes_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> jobs_;                       // by lead
  std::set<std::pair<WallTime, std::string>> by_wake_;      // waiting: due; claimed: lease end
  std::map<std::pair<std::string, CivilDate>, int> calls_;  // by number and its local date
  std::map<std::string, Pacer> pacers_;                     // by provider account
  CivilDate newest_day_{0, 1, 1};
  std::uint64_t next_claim_ = 1;
  std::uint64_t bytes_since_snapshot_ = 0;
  bool in_lead_journal_ = false;
  bool earlier_file_replayed_ = false;   // a dialer.journal to move into the lead journal
  std::unique_ptr<DirectoryLock> lock_;  // one process per directory; released after own_writer_ stops
  std::unique_ptr<store::JournalWriter> own_writer_;
  store::JournalWriter* writer_ = nullptr;  // own_writer_ or the lead journal's; none: in memory only
};

// The journal store and this scheduler in its journal: a new lead's record
// and its first job's go into the journal one behind the other, and the
// enquiry waits for both once (the journal syncs in order, so the job is
// never durable without its lead) instead of twice, one sync after the
// other.
class JournalLeadsWithFirstJobs final : public LeadsWithFirstJobs {
 public:
  JournalLeadsWithFirstJobs(store::JournalLeadStore& leads, EmbeddedDialScheduler& jobs) : leads_(leads), jobs_(jobs) {}
  boost::asio::awaitable<store::StoreResult<Stored>> create_with_first_job(
      store::CreateRequest request, DialJob job, WallTime now, std::optional<std::chrono::milliseconds> lease) override;

 private:
  store::JournalLeadStore& leads_;
  EmbeddedDialScheduler& jobs_;
};

}  // namespace callgate::dialer
