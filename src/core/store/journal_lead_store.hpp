// The embedded backend, callgate's default: a LeadTable in memory, and an
// append-only journal on disk from which it is rebuilt at start-up.
//
// - Every change is a checksummed record (journal_record.hpp) appended in
//   the order the table applied it; an operation completes only once its
//   record is on disk (group commit, journal_writer.hpp), so whatever was
//   acknowledged survives a crash.
// - At start-up the file is replayed through the same LeadTable
//   operations. A torn last record (a crash mid-write) is cut off and logged;
//   damage before the end stops the daemon rather than guess.
// - When the file outgrows compact_bytes (and has at least doubled since the
//   last snapshot) it is replaced by a snapshot of the table: one record per
//   lead and per orphan event still in memory. The table's picture is taken
//   under the lock in a moment; a thread of the writer's encodes, writes and
//   syncs it while events go on being acknowledged, and the writer puts it
//   in place between two group commits (JournalWriter::replace_with). The
//   replaced file is kept in archive/, so orphan events that left memory
//   (OrphanLimits) and every lead's full history stay on disk; start-up
//   reads only the current file. Pruning archive/ is the operator's call.
#pragma once

#include "core/state_files.hpp"
#include "core/store/journal_guest.hpp"
#include "core/store/journal_writer.hpp"
#include "core/store/lead_table.hpp"

#include <memory>
#include <mutex>
#include <tuple>

namespace callgate::store {

struct JournalStoreOptions {
  std::string directory;                               // holds leads.journal and archive/
  std::uint64_t compact_bytes = 256ull * 1024 * 1024;  // snapshot once the file is larger
  OrphanLimits orphans{};
  unsigned max_syncs_per_second = 0;  // JournalWriterOptions; 0: no cap
  // Whose records share the file (journal_guest.hpp): the embedded dialer,
  // the event outbox. Each outlives the store.
  std::vector<JournalGuest*> guests{};
  std::optional<AbsentGuest> absent_guest{};  // a guest whose records go elsewhere this run
  // Kinds ("op") of a guest absent this run whose records are passed over
  // on replay (and so left out of the next snapshot): the event outbox's,
  // once events.endpoints is emptied, are about endpoints no longer there.
  std::vector<std::string_view> passed_over_kinds{};
  // Told of every change, at replay too, and of the record that holds it
  // (the event outbox). None: nobody listens.
  events::LeadEventSink* events = nullptr;
};

// What replaying the journal found, for the start-up log and tests.
struct JournalReplay {
  std::uint64_t records = 0;
  std::uint64_t torn_bytes_dropped = 0;
  std::string torn_bytes_kept_in;  // the file beside the journal that holds them
};

class JournalLeadStore final : public LeadStore {
 public:
  // Replays the journal. Throws std::runtime_error on damage that is not a
  // torn tail, or when the directory cannot be used.
  explicit JournalLeadStore(JournalStoreOptions options);
  ~JournalLeadStore() override;

  boost::asio::awaitable<StoreResult<CreateResult>> create(CreateRequest request) override;
  boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) override;
  boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt,
                                                        LeadStatus lead_status) override;
  boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event, WallTime received) override;
  boost::asio::awaitable<StoreResult<UpdateResult>> update_lead(std::string lead_id, LeadUpdate update) override;
  boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(std::string call_sid) override;
  boost::asio::awaitable<StoreResult<LeadPage>> list(LeadQuery query) override;

  std::optional<std::string> problem() const override;

  // create() in two halves, for a caller that queues more records behind
  // the lead (its first dial job: JournalLeadsWithFirstJobs) and waits once
  // for all of them. The first half decides and queues the lead's record
  // and gives the ticket to wait for (0: nothing); the second waits for a
  // ticket and says what create() would have answered.
  std::pair<CreateResult, std::uint64_t> create_queued(const CreateRequest& request);
  boost::asio::awaitable<StoreResult<CreateResult>> once_written(CreateResult result, std::uint64_t ticket);

  const JournalReplay& replay() const { return replay_; }
  const JournalWriter& writer() const { return *writer_; }
  JournalWriter& writer_for_guest() { return *writer_; }
  std::string path() const;
  std::string archive_directory() const;
  std::size_t orphans_in_memory() const;
  // A snapshot is being written in the background (JournalWriter::replace_with).
  bool compacting() const { return writer_->compacting(); }
  std::uint64_t compactions() const { return writer_->compactions(); }

 private:
  void replay_file(const std::string& path);
  void apply_record(std::string_view payload);
  // Under mutex_, after the table applied the change: queues the record, and
  // a snapshot when the file is due one.
  std::uint64_t record(const std::string& payload);
  // Completes once every record up to ticket is durable. The operations
  // await it themselves: a coroutine of its own around it was one more
  // frame and one more resumption for every webhook.
  boost::asio::awaitable<std::tuple<boost::system::error_code>> durable(std::uint64_t ticket);
  static StoreError unwritten(const boost::system::error_code& error);
  template <class Read>
  auto read_once_durable(Read read) -> boost::asio::awaitable<decltype(read())>;
  template <class Result>
  boost::asio::awaitable<StoreResult<Result>> once_durable(StoreResult<Result> result, std::uint64_t ticket);

  JournalStoreOptions options_;
  JournalReplay replay_;
  mutable std::mutex mutex_;
  LeadTable table_;
  // What was appended since the last snapshot: the file's size at start,
  // then everything appended (the guest's records too) past a mark.
  std::uint64_t bytes_at_start_ = 0;
  std::uint64_t appended_at_snapshot_ = 0;
  std::uint64_t last_ticket_ = 0;        // the newest record queued (0: none this run)
  std::unique_ptr<DirectoryLock> lock_;  // held until after the writer has stopped
  std::unique_ptr<JournalWriter> writer_;
};

}  // namespace callgate::store
