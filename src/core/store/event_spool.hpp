// Where webhook events wait when the lead store cannot take them: a local
// file of checksummed records (the journal's format), appended durably
// before the provider gets its 204, and replayed into the store, in order,
// once it answers again. Replaying twice is harmless: the state machine
// drops duplicates.
#pragma once

#include "core/lead/lead.hpp"
#include "core/state_files.hpp"
#include "core/store/journal_writer.hpp"
#include "core/store/lead_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace callgate::store {

class EventSpool {
 public:
  // Opens (or creates) directory/webhooks.spool; what an earlier run left
  // there counts as pending. Throws when the directory cannot be used or the
  // file is damaged before its end.
  explicit EventSpool(std::string directory);

  // Completes once the event is on disk; an error if it could not be written.
  boost::asio::awaitable<boost::system::error_code> append(const CallEvent& event, WallTime received);

  // Replays what is pending into store, oldest first, up to the first
  // failure (the rest stays for the next try). Returns how many went in.
  // One replay at a time; a second caller returns 0 at once.
  // applied, when given, hears of each event the store applied (the dialer
  // decides redials on a call's end, however late the event arrives).
  using AppliedEvent = std::function<void(const ApplyResult& result, const CallEvent& event)>;
  boost::asio::awaitable<std::size_t> replay_into(LeadStore& store, AppliedEvent applied = {});

  std::uint64_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // Why the latest append failed, while no append has succeeded since: the
  // spool then acknowledges nothing (a full disk), and /readyz says so.
  std::optional<std::string> problem() const;
  // Seconds since the oldest pending event was spooled; 0 when none.
  std::int64_t oldest_age_seconds(WallTime now) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<DirectoryLock> lock_;  // one process per spool; released after the writer stops
  std::unique_ptr<JournalWriter> writer_;
  std::atomic<std::uint64_t> pending_{0};
  mutable std::mutex mutex_;  // guards oldest_
  std::optional<WallTime> oldest_;
  std::atomic<bool> replaying_{false};
  std::optional<std::string> write_problem_;  // guarded by mutex_
  // Bytes at the front of the file already replayed but not yet trimmed
  // (the trim failed: a full disk). The next replay starts after them, so
  // nothing is applied twice and the backlog still shrinks; the trim is
  // tried again each round. Only the replay touches it.
  std::uint64_t replayed_bytes_ = 0;
  bool trim_failing_ = false;
};

}  // namespace callgate::store
