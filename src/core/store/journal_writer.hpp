// The thread that owns the journal file: reactors hand it records and wait
// (asynchronously) for them to be on disk; it writes whatever has queued up
// in one write() and makes it durable with one fdatasync() (group commit),
// so no reactor ever blocks on the disk and a burst of webhooks costs a
// handful of syncs, not one each.
#pragma once

#include "core/any_completion.hpp"
#include "core/metrics.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace callgate::store {

// The room the stores keep (JournalWriterOptions::room_bytes): laid out a
// quarter at a time, so the file's size changes once per few hundred KiB.
inline constexpr std::uint64_t kJournalRoomBytes = 1024 * 1024;

struct JournalWriterOptions {
  // Where a file being replaced is kept (hard linked under a time-stamped
  // name) instead of dropped: what a snapshot leaves out stays on disk.
  std::string archive_directory{};
  // Zeros kept written ahead of the records (see the constructor).
  std::uint64_t room_bytes = 0;
  // At most this many group commits a second (0: each as soon as the last
  // ends). Records that arrive meanwhile wait and join the next one. A sync
  // costs CPU as well as time, and with only a few records queued at each a
  // busy daemon spends much of its CPU syncing; a cap trades a fraction of a
  // millisecond of latency for that (bench/README.md has the figures).
  unsigned max_syncs_per_second = 0;
  // A failed write (a full disk) stops a journal for good: it must not go
  // on over a hole. A spool is a queue, not a history: after a failed write
  // the records it did not sync are cut off (their waiters hear the error,
  // nothing of theirs was acknowledged) and writing goes on, so the spool
  // works again once there is space, without a restart.
  bool go_on_after_a_failed_write = false;
};

class JournalWriter {
 public:
  // Appends to the file at path (created if absent), from its current end:
  // a caller that replayed it cuts off what is not records first.
  //
  // With room_bytes, the writer keeps that much room of zeros written ahead
  // of the records and overwrites it in place: appending changes the file's
  // size, which makes every fdatasync commit the file system's own journal
  // too; overwriting room it does not, and a sync is cheaper for it
  // (bench/README.md has the figures). The room is laid out a piece at
  // a time in the same write as records, and cut off again when the writer
  // stops; readers stop at it (journal_record.hpp), and it changes what a
  // crash can leave (kJournalSyncWindowBytes), so a file written with room
  // is read with that window. Throws std::system_error when the file cannot
  // be opened.
  explicit JournalWriter(std::string path, JournalWriterOptions options = {});
  ~JournalWriter();  // writes and syncs what is queued, cuts off the room, then stops
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // Queues one record (its payload; the frame is added here) and returns its
  // ticket. Tickets count up in call order, and records reach the file in
  // ticket order: call under the lock that ordered the change it records.
  // Wakes the writer thread if it waits for work (only the first record
  // that finds it so: the rest join the batch it is about to take).
  std::uint64_t append(std::string_view payload);
  // The same without waking the writer thread: the caller calls wake()
  // soon, once for many records, so the writer finds them in one batch
  // (the tests use it to queue a batch of a known size).
  std::uint64_t append_deferred(std::string_view payload);
  void wake();

  // Queues a replacement of the whole file by a snapshot (framed records),
  // taken at this point of the ticket order: the records before it are
  // written and synced to the old file first, those after go to the new one.
  //
  // The snapshot is built, written and synced by a thread of its own, off
  // the reactors and off the group commits: records go on being appended
  // and synced to the old file meanwhile (a large table's snapshot took
  // tens of milliseconds to seconds, and every answer waited on it), and a
  // copy of them is kept. Once the snapshot is on disk, the writer appends
  // that copy to it, syncs it and renames it over the old file (archived
  // first) between two group commits. Until that rename the old file holds
  // every record; after it, the new one does. The replacement's own ticket
  // is durable with the records before it. A snapshot that cannot be
  // written is logged and dropped: the old file stays, complete.
  // build_snapshot must only read what nobody changes.
  std::uint64_t replace_with(std::function<std::string()> build_snapshot);

  // Completes (on the caller's executor) once every record up to ticket is
  // durable, or with the error that stopped the writer.
  template <class Token>
  auto async_wait_durable(std::uint64_t ticket, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler, std::uint64_t wanted) {
          auto executor = boost::asio::get_associated_executor(handler);
          add_waiter(wanted, std::move(executor), Resume(std::move(handler)));
        },
        token, ticket);
  }

  // Reads up to length bytes of the file from offset on the writer's thread
  // (a reactor never reads the disk) and completes on the caller's executor
  // with them; fewer at the end of the file.
  template <class Token>
  auto async_read(std::uint64_t offset, std::size_t length, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::string)>(
        [this](auto handler, std::uint64_t from, std::size_t size) {
          auto executor = boost::asio::get_associated_executor(handler);
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          add_read(from, size, executor, [shared](boost::system::error_code error, std::string bytes) {
            (*shared)(error, std::move(bytes));
          });
        },
        token, offset, length);
  }

  // Queues the removal of the file's first bytes (records already dealt
  // with elsewhere: a replayed spool), keeping whatever follows them.
  std::uint64_t drop_prefix(std::uint64_t bytes);

  std::uint64_t file_bytes() const;      // the current file's records, as written (room not counted)
  std::uint64_t appended_bytes() const;  // framed bytes appended since start, by anyone (for compaction)
  std::uint64_t snapshot_bytes() const;  // the size of the last snapshot that replaced the file
  std::uint64_t compactions() const;     // snapshots that replaced the file so far
  // Of the records synced while a snapshot was written, the snapshot's
  // thread copies after it all but this much, which the writer copies.
  static constexpr std::size_t kTailLeftToWriter = 64 * 1024;
  bool compacting() const;      // a snapshot is being written (or waits to be put in place)
  std::uint64_t syncs() const;  // fdatasync calls so far (for tests and metrics)
  // How long the group commits' fdatasync calls took: what every answer
  // waiting on them waited on top. A disk that stalls shows here.
  struct SyncTimes {
    std::uint64_t total_microseconds = 0;
    std::uint64_t longest_microseconds = 0;
    std::uint64_t slow = 0;  // over kSlowSyncThreshold
  };
  static constexpr std::chrono::milliseconds kSlowSyncThreshold{50};
  SyncTimes sync_times() const;
  // Every sync's time in seconds (latency_buckets_seconds()), observed by
  // the writer's thread only: for /metrics, where a disk's tail shows.
  const Histogram& sync_seconds() const { return sync_seconds_; }
  boost::system::error_code failure() const;  // what stopped the writer, if anything

 private:
  // Appends are framed straight into one buffer (Queue::records); only the
  // other actions get an entry, placed by how many of those bytes come
  // before them. A webhook's record then costs no allocation of its own.
  enum class Action { replace_file, drop_prefix };
  struct Pending {
    Action action;
    std::size_t records_before;  // bytes of Queue::records queued ahead of it
    std::uint64_t prefix_bytes = 0;
    std::function<std::string()> build_snapshot;
  };
  struct Queue {
    std::string records;
    std::vector<Pending> actions;
    bool empty() const { return records.empty() && actions.empty(); }
  };
  using Resume = AnyCompletion<void(boost::system::error_code)>;
  struct Waiter {
    std::uint64_t ticket;
    boost::asio::any_io_executor executor;  // where the waiter resumes
    Resume resume;
  };

  std::uint64_t queue_record(std::string_view payload);  // under mutex_: frames it into the queue, returns its ticket
  void add_waiter(std::uint64_t ticket, boost::asio::any_io_executor executor, Resume resume);
  struct Read {
    std::uint64_t offset;
    std::size_t length;
    boost::asio::any_io_executor executor;
    std::function<void(boost::system::error_code, std::string)> complete;
  };
  void add_read(std::uint64_t offset, std::size_t length, boost::asio::any_io_executor executor,
                std::function<void(boost::system::error_code, std::string)> complete);
  void serve(Read& read) const;
  // Resumes waiters with one post per executor, not one per waiter: a
  // group commit of a hundred events wakes each reactor once.
  static void resume_all(std::vector<Waiter> waiters, boost::system::error_code error);
  void run();
  boost::system::error_code write_batch(Queue& batch);
  // Writes and syncs framed records, in pieces of at most
  // kJournalSyncWindowBytes in a file with room (see journal_record.hpp).
  boost::system::error_code write_records(std::string_view records);
  boost::system::error_code write_and_sync_pieces(std::string_view records);
  boost::system::error_code replace_file(const std::string& snapshot);
  // Writes bytes to a new file at temporary (a MiB at a time) and syncs it.
  static boost::system::error_code write_synced_file(const std::string& temporary, std::string_view bytes);
  // Makes the synced file at temporary (records_bytes of records) the
  // journal: the current file is cut to its records, archived, and replaced.
  boost::system::error_code switch_to(const std::string& temporary, std::uint64_t records_bytes);

  // A snapshot in the making (replace_with).
  struct Compaction {
    std::thread thread;
    std::string temporary;
    // Records synced to the old file since the snapshot's place: appended
    // by the writer, copied after the snapshot by both (under mutex_).
    std::string tail;
    std::size_t tail_copied = 0;  // how much of it the snapshot's thread wrote and synced
    std::chrono::steady_clock::time_point started;
    // Set by the compaction's thread under mutex_; read by the writer after it set finished.
    bool finished = false;
    boost::system::error_code error;
    std::uint64_t snapshot_bytes = 0;
  };
  void start_compaction(std::function<std::string()> build_snapshot);
  bool compaction_finished() const;
  // Waits for the snapshot if need be and puts it in place (a snapshot that
  // failed is dropped, not an error); an error is one from the switch itself.
  boost::system::error_code finish_compaction();
  boost::system::error_code archive_current_file();
  boost::system::error_code remove_prefix(std::uint64_t bytes);
  // Writes records at the end of the file's records (laying out more room
  // when little is left) and syncs them.
  boost::system::error_code write_and_sync(std::string_view records);

  std::string path_;
  std::string archive_directory_;
  std::uint64_t room_bytes_;
  std::chrono::steady_clock::duration sync_interval_{};  // from max_syncs_per_second
  std::uint64_t laid_out_bytes_ = 0;                     // the file's size: records and room (this thread only)
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Queue queue_;
  std::vector<Waiter> waiters_;
  std::vector<Read> reads_;
  std::uint64_t next_ticket_ = 1;
  std::uint64_t durable_ticket_ = 0;
  boost::system::error_code failure_;  // once set, every wait completes with it
  bool go_on_after_a_failed_write_ = false;
  // Ticket ranges of batches that failed and were cut off (go_on_after_a_failed_write):
  // a later batch's success must not make them look durable. The latest few.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> failed_tickets_;
  boost::system::error_code failed_ticket_error(std::uint64_t ticket) const;  // under mutex_
  std::uint64_t file_bytes_ = 0;
  std::atomic<std::uint64_t> appended_bytes_{0};  // read on every record without the lock
  std::uint64_t snapshot_bytes_ = 0;
  std::uint64_t syncs_ = 0;
  std::uint64_t compactions_ = 0;
  // The writer thread's; set and cleared under mutex_ (the wait reads it).
  std::unique_ptr<Compaction> compaction_;
  std::atomic<bool> compacting_{false};
  SyncTimes sync_times_;
  Histogram sync_seconds_{latency_buckets_seconds()};
  bool stopping_ = false;
  // Under mutex_: the writer waits on wake_ for work (append() wakes it
  // only then; records that come while it writes or sleeps need no wake).
  bool writer_asleep_ = false;
  std::thread thread_;
};

}  // namespace callgate::store
