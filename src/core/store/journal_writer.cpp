#include "core/store/journal_writer.hpp"

#include "core/log.hpp"
#include "core/state_files.hpp"
#include "core/store/journal_record.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

// jemalloc's control interface, when the daemon is linked with it (a weak
// reference: null in a binary on glibc's allocator).
extern "C" int mallctl(const char* name, void* old_value, std::size_t* old_length, void* new_value,
                       std::size_t new_length) __attribute__((weak));

namespace callgate::store {

namespace {

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

// What `top -H`, `ps -L` and perf show for the thread (at most 15 characters):
// otherwise it inherits the name of the reactor that opened the store.
void name_this_thread(const char* name) { ::pthread_setname_np(::pthread_self(), name); }

// pwrite() until everything is out or an error that is not EINTR.
boost::system::error_code write_all_at(int fd, std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const auto written = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
    offset += static_cast<std::uint64_t>(written);
  }
  return {};
}

boost::system::error_code sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  const int result = ::fsync(fd);
  const auto error = result < 0 ? last_error() : boost::system::error_code{};
  ::close(fd);
  return error;
}

boost::system::error_code sync_directory_of(const std::string& path) {
  return sync_directory(std::filesystem::path(path).parent_path());
}

}  // namespace

JournalWriter::JournalWriter(std::string path, JournalWriterOptions options)
    : path_(std::move(path)),
      archive_directory_(std::move(options.archive_directory)),
      room_bytes_(options.room_bytes),
      sync_interval_(options.max_syncs_per_second == 0
                         ? std::chrono::steady_clock::duration::zero()
                         : std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(1)) /
                               options.max_syncs_per_second),
      go_on_after_a_failed_write_(options.go_on_after_a_failed_write) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | kStateFileOpenFlags, 0600);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open the journal " + path_);
  struct stat status {};
  if (::fstat(fd_, &status) == 0) file_bytes_ = laid_out_bytes_ = static_cast<std::uint64_t>(status.st_size);
  if (const auto error = sync_directory_of(path_))
    throw std::system_error(error.value(), std::generic_category(), "cannot sync the journal's directory");
  thread_ = std::thread([this] {
    name_this_thread("journal-write");
    run();
  });
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  // At rest the file holds records only (a crash leaves the room, which
  // readers pass over). Not synced: room found after a crash is harmless.
  if (fd_ >= 0 && laid_out_bytes_ > file_bytes_ && !failure_) {
    if (::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0)
      LogLine(LogLevel::warn, "journal_room_not_cut")
          .trusted_text("path", path_)
          .trusted_text("reason", last_error().message());
  }
  if (fd_ >= 0) ::close(fd_);
}

std::uint64_t JournalWriter::append(std::string_view payload) {
  std::uint64_t ticket = 0;
  bool asleep = false;
  {
    std::lock_guard lock(mutex_);
    ticket = queue_record(payload);
    // Only the first record to find the writer asleep wakes it: each wake
    // of a thread still waking up was a futex call on the reactor's time.
    asleep = std::exchange(writer_asleep_, false);
  }
  if (asleep) wake_.notify_one();  // the record is queued under the lock; waking needs none
  return ticket;
}

std::uint64_t JournalWriter::append_deferred(std::string_view payload) {
  std::lock_guard lock(mutex_);
  return queue_record(payload);
}

std::uint64_t JournalWriter::queue_record(std::string_view payload) {
  const auto before = queue_.records.size();
  append_journal_record(queue_.records, payload);
  appended_bytes_.fetch_add(queue_.records.size() - before, std::memory_order_relaxed);
  return next_ticket_++;
}

void JournalWriter::wake() { wake_.notify_one(); }

std::uint64_t JournalWriter::replace_with(std::function<std::string()> build_snapshot) {
  std::lock_guard lock(mutex_);
  queue_.actions.push_back({Action::replace_file, queue_.records.size(), 0, std::move(build_snapshot)});
  wake_.notify_one();
  return next_ticket_++;
}

std::uint64_t JournalWriter::drop_prefix(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  queue_.actions.push_back({Action::drop_prefix, queue_.records.size(), bytes, {}});
  wake_.notify_one();
  return next_ticket_++;
}

boost::system::error_code JournalWriter::remove_prefix(std::uint64_t bytes) {
  // Only this thread writes the file, so what follows the prefix now is all there is.
  const int fd = ::open(path_.c_str(), O_RDONLY | kStateFileOpenFlags);
  if (fd < 0) return last_error();
  std::string rest;
  char buffer[65536];
  if (::lseek(fd, static_cast<off_t>(bytes), SEEK_SET) < 0) {
    const auto error = last_error();
    ::close(fd);
    return error;
  }
  const std::uint64_t records_end = file_bytes_;  // only this thread changes it
  while (bytes + rest.size() < records_end) {
    const auto wanted = std::min<std::uint64_t>(sizeof buffer, records_end - bytes - rest.size());
    const auto got = ::read(fd, buffer, static_cast<std::size_t>(wanted));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const auto error = last_error();
      ::close(fd);
      return error;
    }
    if (got == 0) break;
    rest.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return replace_file(rest);
}

std::uint64_t JournalWriter::file_bytes() const {
  std::lock_guard lock(mutex_);
  return file_bytes_;
}

std::uint64_t JournalWriter::appended_bytes() const { return appended_bytes_.load(std::memory_order_relaxed); }

std::uint64_t JournalWriter::snapshot_bytes() const {
  std::lock_guard lock(mutex_);
  return snapshot_bytes_;
}

std::uint64_t JournalWriter::compactions() const {
  std::lock_guard lock(mutex_);
  return compactions_;
}

bool JournalWriter::compacting() const { return compacting_.load(std::memory_order_acquire); }

std::uint64_t JournalWriter::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

JournalWriter::SyncTimes JournalWriter::sync_times() const {
  std::lock_guard lock(mutex_);
  return sync_times_;
}

boost::system::error_code JournalWriter::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void JournalWriter::add_waiter(std::uint64_t ticket, boost::asio::any_io_executor executor, Resume resume) {
  std::unique_lock lock(mutex_);
  // A ticket of a batch that failed and was cut off (a spool) is answered
  // with the error whenever it is waited for: before its batch was written
  // or after, and whatever later batches did.
  const auto cut_off = failed_ticket_error(ticket);
  if (failure_ || cut_off || durable_ticket_ >= ticket) {
    const auto error = failure_ ? failure_ : cut_off;
    lock.unlock();
    boost::asio::post(executor, [resume = std::move(resume), error]() mutable { std::move(resume)(error); });
    return;
  }
  waiters_.push_back({ticket, std::move(executor), std::move(resume)});
}

boost::system::error_code JournalWriter::failed_ticket_error(std::uint64_t ticket) const {
  for (const auto& [first, last] : failed_tickets_)
    if (ticket >= first && ticket <= last) return boost::system::errc::make_error_code(boost::system::errc::io_error);
  return {};
}

void JournalWriter::add_read(std::uint64_t offset, std::size_t length, boost::asio::any_io_executor executor,
                             std::function<void(boost::system::error_code, std::string)> complete) {
  std::lock_guard lock(mutex_);
  reads_.push_back({offset, length, std::move(executor), std::move(complete)});
  wake_.notify_one();
}

void JournalWriter::serve(Read& read) const {
  // Records only, never the room after them.
  const auto records_end = file_bytes();
  const auto length = read.offset >= records_end ? 0 : std::min<std::uint64_t>(read.length, records_end - read.offset);
  std::string bytes(static_cast<std::size_t>(length), '\0');
  std::size_t got = 0;
  boost::system::error_code error;
  const int fd = ::open(path_.c_str(), O_RDONLY | kStateFileOpenFlags);
  if (fd < 0) error = last_error();
  while (!error && got < bytes.size()) {
    const auto count = ::pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(read.offset + got));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) error = last_error();
    if (count <= 0) break;
    got += static_cast<std::size_t>(count);
  }
  if (fd >= 0) ::close(fd);
  bytes.resize(got);
  boost::asio::post(read.executor, [complete = std::move(read.complete), error, bytes = std::move(bytes)]() mutable {
    complete(error, std::move(bytes));
  });
}

void JournalWriter::resume_all(std::vector<Waiter> waiters, boost::system::error_code error) {
  std::vector<std::pair<boost::asio::any_io_executor, std::vector<Waiter>>> groups;
  for (auto& waiter : waiters) {
    auto group =
        std::find_if(groups.begin(), groups.end(), [&](const auto& entry) { return entry.first == waiter.executor; });
    if (group == groups.end()) {
      groups.emplace_back(waiter.executor, std::vector<Waiter>{});
      group = std::prev(groups.end());
    }
    group->second.push_back(std::move(waiter));
  }
  for (auto& [executor, members] : groups)
    boost::asio::post(executor, [members = std::move(members), error]() mutable {
      for (auto& member : members) std::move(member.resume)(error);
    });
}

boost::system::error_code JournalWriter::archive_current_file() {
  // A second name for the file about to be replaced: the rename that
  // follows can then never leave a moment with neither on disk.
  try {
    create_private_directories(archive_directory_);
  } catch (const std::runtime_error&) {
    return last_error();
  }
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  const auto stem = std::filesystem::path(path_).filename().string();
  for (int suffix = 0;; ++suffix) {
    std::string file_name = stem;
    file_name.append(".").append(stamp);
    if (suffix) file_name.append(".").append(std::to_string(suffix));
    const auto name = std::filesystem::path(archive_directory_) / file_name;
    if (::link(path_.c_str(), name.c_str()) == 0) break;
    if (errno == EEXIST) continue;
    if (errno == ENOENT) return {};  // nothing to keep yet
    return last_error();
  }
  return sync_directory(archive_directory_);
}

boost::system::error_code JournalWriter::replace_file(const std::string& snapshot) {
  const std::string temporary = path_ + ".compacting";
  if (const auto error = write_synced_file(temporary, snapshot)) {
    ::unlink(temporary.c_str());
    return error;
  }
  return switch_to(temporary, snapshot.size());
}

boost::system::error_code JournalWriter::switch_to(const std::string& temporary, std::uint64_t records_bytes) {
  // The file being replaced keeps its records only (archived, it is read
  // like any file at rest).
  boost::system::error_code error;
  if (laid_out_bytes_ > file_bytes_ && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) < 0) error = last_error();
  if (!error) laid_out_bytes_ = file_bytes_;
  if (!error && !archive_directory_.empty()) error = archive_current_file();
  if (!error && ::rename(temporary.c_str(), path_.c_str()) < 0) error = last_error();
  if (!error) error = sync_directory_of(path_);
  if (error) {
    ::unlink(temporary.c_str());
    return error;
  }
  const int replacement = ::open(path_.c_str(), O_WRONLY | kStateFileOpenFlags);
  if (replacement < 0) return last_error();
  ::close(fd_);
  fd_ = replacement;
  laid_out_bytes_ = records_bytes;
  std::lock_guard lock(mutex_);
  file_bytes_ = records_bytes;
  return {};
}

namespace {

// Writes a snapshot a MiB at a time, each piece sent to the disk and waited
// for before the next: one fdatasync of tens of MiB at the end filled the
// device's queue, and the group commits' small syncs, queued behind it,
// waited for it (bench/README.md has the figures). The final
// fdatasync then has little left to do.
boost::system::error_code write_out_gradually(int fd, std::string_view bytes) {
  constexpr std::size_t kPiece = 1024 * 1024;
  for (std::uint64_t offset = 0; offset < bytes.size(); offset += kPiece) {
    const auto piece = bytes.substr(static_cast<std::size_t>(offset), kPiece);
    if (auto error = write_all_at(fd, piece, offset)) return error;
    if (::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(piece.size()),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0 &&
        errno != ENOSYS && errno != EINVAL)  // a file system without it: the fdatasync does it all
      return last_error();
  }
  return {};
}

// A snapshot was one large allocation: hand the memory back at once, so the
// resident size stays where the table keeps it, under jemalloc (which would
// otherwise keep the pages for seconds) or glibc's allocator, whichever the
// binary runs on. Under jemalloc only this thread's arena, where the
// snapshot was: purging every arena made the reactors fault their own free
// pages back in, a stall in the middle of serving.
void release_free_memory() {
  unsigned arena = 0;
  std::size_t length = sizeof arena;
  if (mallctl && mallctl("thread.arena", &arena, &length, nullptr, 0) == 0) {
    const std::string purge = "arena." + std::to_string(arena) + ".purge";
    mallctl(purge.c_str(), nullptr, nullptr, nullptr, 0);
  }
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
}

// The snapshot's thread gives way to the reactors and the group commits
// when the cores are busy: it has seconds, they have milliseconds.
void lower_this_threads_priority() { ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10); }

}  // namespace

boost::system::error_code JournalWriter::write_synced_file(const std::string& temporary, std::string_view bytes) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | kStateFileOpenFlags, 0600);
  if (fd < 0) return last_error();
  auto error = write_out_gradually(fd, bytes);
  if (!error && ::fdatasync(fd) < 0) error = last_error();
  ::close(fd);
  return error;
}

void JournalWriter::start_compaction(std::function<std::string()> build_snapshot) {
  {
    std::lock_guard lock(mutex_);  // the wait's predicate reads it
    compaction_ = std::make_unique<Compaction>();
  }
  compacting_.store(true, std::memory_order_release);
  Compaction& job = *compaction_;
  job.temporary = path_ + ".compacting";
  job.started = std::chrono::steady_clock::now();
  job.thread = std::thread([this, &job, build = std::move(build_snapshot)]() mutable {
    name_this_thread("journal-compact");
    lower_this_threads_priority();
    boost::system::error_code error;
    std::uint64_t bytes = 0;
    try {
      std::string snapshot = build ? build() : std::string();
      build = nullptr;  // let go of what it shared
      bytes = snapshot.size();
      error = write_synced_file(job.temporary, snapshot);
      std::string().swap(snapshot);
      release_free_memory();
      const int fd = error ? -1 : ::open(job.temporary.c_str(), O_WRONLY | kStateFileOpenFlags);
      if (!error && fd < 0) error = last_error();
      if (fd >= 0) {
        // The records synced to the old file meanwhile, copied after the
        // snapshot here while there are many: the writer, which copies the
        // rest and syncs it between two group commits, then has little to do.
        std::string copied;
        for (int round = 0; round < 8 && !error; ++round) {  // a few: the writer takes what a flood leaves
          {
            std::lock_guard lock(mutex_);
            copied.assign(job.tail, job.tail_copied, std::string::npos);
          }
          if (copied.size() < kTailLeftToWriter) break;
          error = write_all_at(fd, copied, bytes + job.tail_copied);
          if (!error && ::fdatasync(fd) < 0) error = last_error();
          std::lock_guard lock(mutex_);
          job.tail_copied += copied.size();
        }
        ::close(fd);
      }
    } catch (const std::exception& failure) {
      LogLine(LogLevel::error, "journal_snapshot_not_built").trusted_text("path", path_).text("reason", failure.what());
      error = boost::system::errc::make_error_code(boost::system::errc::io_error);
    }
    {
      std::lock_guard lock(mutex_);
      job.error = error;
      job.snapshot_bytes = bytes;
      job.finished = true;
    }
    wake_.notify_one();
  });
}

bool JournalWriter::compaction_finished() const {
  std::lock_guard lock(mutex_);
  return compaction_ && compaction_->finished;
}

boost::system::error_code JournalWriter::finish_compaction() {
  std::unique_ptr<Compaction> job;
  {
    std::lock_guard lock(mutex_);
    job = std::move(compaction_);
  }
  job->thread.join();
  // Cleared however it ends: after a failed switch nothing is in the making.
  struct Cleared {
    std::atomic<bool>& flag;
    ~Cleared() { flag.store(false, std::memory_order_release); }
  } cleared{compacting_};
  // After the join: the job's results are this thread's to read.
  auto error = job->error;
  if (!error) {
    // What was synced to the current file since the snapshot's place goes
    // after the snapshot, and is synced there before the switch: the new
    // file holds every record the old one did from the moment it is named.
    const int fd = ::open(job->temporary.c_str(), O_WRONLY | kStateFileOpenFlags);
    if (fd < 0) {
      error = last_error();
    } else {
      const std::string_view rest = std::string_view(job->tail).substr(job->tail_copied);
      error = write_all_at(fd, rest, job->snapshot_bytes + job->tail_copied);
      if (!error && !rest.empty() && ::fdatasync(fd) < 0) error = last_error();
      ::close(fd);
    }
  }
  if (error) {
    // The current file still has every record: not a reason to stop
    // writing. The store asks again once the file has grown further.
    ::unlink(job->temporary.c_str());
    LogLine(LogLevel::error, "journal_compaction_failed")
        .trusted_text("path", path_)
        .trusted_text("reason", error.message());
    return {};
  }
  if (auto switched = switch_to(job->temporary, job->snapshot_bytes + job->tail.size())) return switched;
  {
    std::lock_guard lock(mutex_);
    snapshot_bytes_ = job->snapshot_bytes;
    ++compactions_;
  }
  const auto took = std::chrono::steady_clock::now() - job->started;
  LogLine(LogLevel::info, "journal_compacted")
      .trusted_text("path", path_)
      .number("snapshot_bytes", static_cast<std::int64_t>(job->snapshot_bytes))
      .number("records_meanwhile_bytes", static_cast<std::int64_t>(job->tail.size()))
      .number("duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  return {};
}

boost::system::error_code JournalWriter::write_and_sync(std::string_view records) {
  const std::uint64_t at = file_bytes_;  // only this thread changes it
  if (auto error = write_all_at(fd_, records, at)) return error;
  const std::uint64_t end = at + records.size();
  laid_out_bytes_ = std::max(laid_out_bytes_, end);
  if (room_bytes_ > 0 && laid_out_bytes_ - end < room_bytes_ / 4) {
    // More room, synced with these records: the file's size changes once
    // per few hundred KiB of records instead of with every sync. Room that
    // cannot be laid out (a full disk) fails nothing: the records go on at
    // the end of the file and fail only when they themselves do not fit.
    static const std::string zeros(64 * 1024, '\0');
    while (laid_out_bytes_ < end + room_bytes_) {
      const auto piece = std::min<std::uint64_t>(zeros.size(), end + room_bytes_ - laid_out_bytes_);
      if (write_all_at(fd_, std::string_view(zeros).substr(0, static_cast<std::size_t>(piece)), laid_out_bytes_)) break;
      laid_out_bytes_ += piece;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  if (::fdatasync(fd_) < 0) return last_error();
  const auto took = std::chrono::steady_clock::now() - started;
  const auto microseconds =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  std::lock_guard lock(mutex_);
  file_bytes_ = end;
  ++syncs_;
  sync_times_.total_microseconds += microseconds;
  sync_times_.longest_microseconds = std::max(sync_times_.longest_microseconds, microseconds);
  if (took > kSlowSyncThreshold) ++sync_times_.slow;
  sync_seconds_.observe(std::chrono::duration<double>(took).count());
  return {};
}

boost::system::error_code JournalWriter::write_records(std::string_view records) {
  if (records.empty()) return {};
  if (auto error = write_and_sync_pieces(records)) return error;
  // A snapshot being written: these records also go after it (finish_compaction).
  if (compaction_) {
    std::lock_guard lock(mutex_);  // the snapshot's thread copies it too
    compaction_->tail.append(records);
  }
  return {};
}

boost::system::error_code JournalWriter::write_and_sync_pieces(std::string_view records) {
  if (room_bytes_ == 0 || records.size() <= kJournalSyncWindowBytes) return write_and_sync(records);
  // Rare (over a MiB queued between two syncs): cut at record boundaries,
  // a record larger than the window going alone.
  while (!records.empty()) {
    std::size_t piece = 0;
    while (piece < records.size()) {
      const auto length = journal_record_size(records.substr(piece));
      if (piece > 0 && piece + length > kJournalSyncWindowBytes) break;
      piece += length;
    }
    if (auto error = write_and_sync(records.substr(0, piece))) return error;
    records.remove_prefix(piece);
  }
  return {};
}

boost::system::error_code JournalWriter::write_batch(Queue& batch) {
  // Appends up to a replacement go out in one write and one sync; a
  // replacement then starts the new file.
  const std::string_view records = batch.records;
  std::size_t written = 0;
  for (auto& pending : batch.actions) {
    if (auto error = write_records(records.substr(written, pending.records_before - written))) return error;
    written = pending.records_before;
    // One replacement at a time: one that comes while a snapshot is still
    // being written waits for it (rare: the stores ask for the next only
    // after the file has grown as much again).
    if (compaction_)
      if (auto error = finish_compaction()) return error;
    if (pending.action == Action::drop_prefix) {
      if (auto error = remove_prefix(pending.prefix_bytes)) return error;
      continue;
    }
    start_compaction(std::move(pending.build_snapshot));
  }
  return write_records(records.substr(written));
}

void JournalWriter::run() {
  Queue batch;
  std::vector<Read> reads;
  auto last_batch = std::chrono::steady_clock::time_point::min();
  std::uint64_t last_ticket = 0;
  std::uint64_t first_ticket = 1;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      writer_asleep_ = true;
      wake_.wait(lock, [this] {
        // A finished snapshot is put in place, unless writing has failed
        // (then it waits for the stop, which drops it).
        return stopping_ || !queue_.empty() || !reads_.empty() || (compaction_ && compaction_->finished && !failure_);
      });
      writer_asleep_ = false;
      if (queue_.empty() && reads_.empty() && stopping_) break;
      // The sync cap: too soon after the last batch, let more records come
      // (a plain sleep: appends need no wake-up meanwhile).
      const auto earliest =
          last_batch == std::chrono::steady_clock::time_point::min() ? last_batch : last_batch + sync_interval_;
      if (sync_interval_ > std::chrono::steady_clock::duration::zero() && !stopping_ &&
          std::chrono::steady_clock::now() < earliest) {
        lock.unlock();
        std::this_thread::sleep_until(earliest);
        lock.lock();
      }
      last_batch = std::chrono::steady_clock::now();
      // Swapped, not moved: both buffers keep their capacity, so a busy
      // writer and its reactors stop allocating for records at all.
      batch.records.swap(queue_.records);
      batch.actions.swap(queue_.actions);
      first_ticket = last_ticket + 1;
      last_ticket = next_ticket_ - 1;
      reads.swap(reads_);
    }
    // Reads ask only for what is already durable: served in any order.
    for (auto& read : reads) serve(read);
    reads.clear();
    auto error = failure_;
    if (!error && !batch.empty()) error = write_batch(batch);
    // A snapshot written meanwhile takes the file's place between batches.
    if (!error && compaction_finished()) error = finish_compaction();
    if (batch.empty() && !error) continue;
    batch.records.clear();
    batch.actions.clear();
    // A burst (records queued behind a stalled disk) leaves a large buffer:
    // not kept for good.
    if (batch.records.capacity() > kJournalSyncWindowBytes) std::string().swap(batch.records);

    // A spool goes on: what this batch wrote past the last sync is cut off
    // (never acknowledged), its waiters hear the error, and the next batch
    // is written as if this one had not been.
    bool cut_off = false;
    if (error && !failure_ && go_on_after_a_failed_write_ && ::ftruncate(fd_, static_cast<off_t>(file_bytes_)) == 0) {
      laid_out_bytes_ = file_bytes_;
      cut_off = true;
      LogLine(LogLevel::error, "spool_write_failed")
          .trusted_text("path", path_)
          .trusted_text("reason", error.message())
          .trusted_text("detail",
                        "the events of this write were answered 503 (their senders retry); the spool "
                        "goes on writing and works again once there is space");
    }
    std::vector<Waiter> done;
    {
      std::lock_guard lock(mutex_);
      if (cut_off) {
        failed_tickets_.emplace_back(first_ticket, last_ticket);
        if (failed_tickets_.size() > 64) failed_tickets_.erase(failed_tickets_.begin());
      }
      if (error && !failure_ && !cut_off) {
        failure_ = error;
        LogLine(LogLevel::error, "journal_write_failed")
            .trusted_text("path", path_)
            .trusted_text("reason", error.message());
      }
      if (!error) durable_ticket_ = last_ticket;
      auto still_waiting = std::partition(waiters_.begin(), waiters_.end(), [&](const Waiter& waiter) {
        return !failure_ && waiter.ticket > (cut_off ? last_ticket : durable_ticket_);
      });
      done.assign(std::make_move_iterator(still_waiting), std::make_move_iterator(waiters_.end()));
      waiters_.erase(still_waiting, waiters_.end());
    }
    resume_all(std::move(done), error ? error : failure_);
  }
  // Every record is written: a snapshot still being written is waited for
  // and put in place, so a stopped journal is as compact as it was asked to be.
  // After a failure the file is left as it is, and the snapshot dropped.
  if (compaction_ && failure_) {
    compaction_->thread.join();
    ::unlink(compaction_->temporary.c_str());
    std::lock_guard lock(mutex_);
    compaction_.reset();
    compacting_.store(false, std::memory_order_release);
  }
  if (compaction_)
    if (const auto error = finish_compaction())
      LogLine(LogLevel::error, "journal_write_failed")
          .trusted_text("path", path_)
          .trusted_text("reason", error.message());
  // Stopping: whoever still waits hears that nothing more will be written.
  std::vector<Waiter> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(waiters_);
    reads.swap(reads_);
  }
  for (auto& read : reads)
    boost::asio::post(read.executor,
                      [complete = std::move(read.complete)] { complete(boost::asio::error::operation_aborted, {}); });
  resume_all(std::move(left), boost::asio::error::operation_aborted);
}

}  // namespace callgate::store
