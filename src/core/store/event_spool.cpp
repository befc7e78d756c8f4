#include "core/store/event_spool.hpp"

#include "core/state_files.hpp"

#include "core/civil_time.hpp"
#include "core/lead/lead_json.hpp"
#include "core/log.hpp"
#include "core/store/journal_record.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>

namespace callgate::store {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

struct SpooledEvent {
  CallEvent event;
  WallTime received;
};

std::optional<SpooledEvent> decode(std::string_view payload) {
  boost::system::error_code error;
  const auto value = parse_stored_json(payload, error);
  if (error || !value.is_object()) return std::nullopt;
  const auto& object = value.as_object();
  const auto* event = object.if_contains("event");
  const auto* received = object.if_contains("receivedAt");
  if (!event || !received || !received->is_string()) return std::nullopt;
  auto decoded = call_event_from_json(*event);
  auto time = parse_iso8601(received->as_string());
  if (!decoded || !time) return std::nullopt;
  return SpooledEvent{std::move(*decoded), *time};
}

// Replay reads the spool this much at a time, so a spool grown over a long
// outage is never held in memory whole.
constexpr std::size_t kReplayChunkBytes = 1 << 20;

}  // namespace

EventSpool::EventSpool(std::string directory) {
  create_private_directories(directory);
  lock_ = std::make_unique<DirectoryLock>(directory, "spool.lock", "the webhook spool");
  path_ = (std::filesystem::path(directory) / "webhooks.spool").string();
  refuse_symlink(path_, "the webhook spool");
  if (std::filesystem::exists(path_)) {
    // At start-up, before any reactor runs: a plain read, piece by piece.
    std::ifstream file(path_, std::ios::binary);
    JournalStream stream;
    std::string piece(kReplayChunkBytes, '\0');
    std::string_view payload;
    while (file) {
      file.read(piece.data(), static_cast<std::streamsize>(piece.size()));
      stream.feed(std::string_view(piece.data(), static_cast<std::size_t>(file.gcount())));
      while (stream.next(payload)) {
        ++pending_;
        if (!oldest_)
          if (auto spooled = decode(payload)) oldest_ = spooled->received;
      }
      if (stream.damaged())
        throw std::runtime_error("the spool " + path_ + " is damaged (" + stream.reason() + "); move it aside");
    }
    // What is left after the last whole record is a write a crash cut
    // short: kept beside the spool, then cut off.
    if (const auto size = std::filesystem::file_size(path_); stream.consumed() < size) {
      std::ifstream tail(path_, std::ios::binary);
      tail.seekg(static_cast<std::streamoff>(stream.consumed()));
      const std::string torn((std::istreambuf_iterator<char>(tail)), std::istreambuf_iterator<char>());
      const auto kept = set_aside(path_, "torn", torn);
      if (::truncate(path_.c_str(), static_cast<off_t>(stream.consumed())) != 0)
        throw std::runtime_error("cannot cut the torn end off " + path_);
      LogLine(LogLevel::warn, "spool_torn_tail_dropped")
          .trusted_text("path", path_)
          .number("bytes", static_cast<std::int64_t>(torn.size()))
          .trusted_text("kept_in", kept.string());
    }
    if (pending_ > 0)
      LogLine(LogLevel::warn, "spool_pending_at_start")
          .trusted_text("path", path_)
          .number("events", static_cast<std::int64_t>(pending_.load()));
  }
  writer_ = std::make_unique<JournalWriter>(path_, JournalWriterOptions{.go_on_after_a_failed_write = true});
}

std::int64_t EventSpool::oldest_age_seconds(WallTime now) const {
  std::lock_guard lock(mutex_);
  if (!oldest_ || pending() == 0) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(now - *oldest_).count();
}

awaitable<boost::system::error_code> EventSpool::append(const CallEvent& event, WallTime received) {
  json::object object;
  object["event"] = to_json(event);
  object["receivedAt"] = format_iso8601(received);
  const auto ticket = writer_->append(json::serialize(object));
  auto [error] = co_await writer_->async_wait_durable(ticket, boost::asio::as_tuple(boost::asio::use_awaitable));
  {
    std::lock_guard lock(mutex_);
    if (error) {
      write_problem_ = "the spool cannot be written: " + error.message();
    } else {
      write_problem_.reset();
      if (!oldest_ || pending() == 0) oldest_ = received;
    }
  }
  if (!error) ++pending_;
  co_return error;
}

std::optional<std::string> EventSpool::problem() const {
  std::lock_guard lock(mutex_);
  return write_problem_;
}

awaitable<std::size_t> EventSpool::replay_into(LeadStore& store, AppliedEvent applied) {
  if (pending() == 0 || replaying_.exchange(true)) co_return 0;
  // Everything durable so far, read by the writer's thread a piece at a
  // time; later appends stay for the next round.
  const auto durable_bytes = writer_->file_bytes();
  JournalStream stream;
  std::uint64_t read_bytes = replayed_bytes_;
  std::size_t replayed = 0;
  std::uint64_t consumed_bytes = replayed_bytes_;
  std::optional<WallTime> next_oldest;
  bool stopped = false;
  while (!stopped && read_bytes < durable_bytes) {
    const auto wanted =
        static_cast<std::size_t>(std::min<std::uint64_t>(kReplayChunkBytes, durable_bytes - read_bytes));
    auto [error, piece] =
        co_await writer_->async_read(read_bytes, wanted, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (error || piece.empty()) {
      LogLine(LogLevel::error, "spool_read_failed")
          .trusted_text("path", path_)
          .trusted_text("reason", error ? error.message() : "the spool is shorter than written");
      break;
    }
    read_bytes += piece.size();
    stream.feed(piece);
    std::string_view payload;
    while (stream.next(payload)) {
      auto spooled = decode(payload);
      if (spooled) {
        auto stored = co_await store.apply_event(spooled->event, spooled->received);
        if (std::holds_alternative<StoreError>(stored)) {
          next_oldest = spooled->received;
          stopped = true;
          break;
        }
        if (applied) applied(std::get<ApplyResult>(stored), spooled->event);
      }
      // An unreadable record cannot be replayed by anyone: logged and passed over.
      if (!spooled) LogLine(LogLevel::error, "spool_record_unreadable").trusted_text("path", path_);
      ++replayed;
      consumed_bytes = replayed_bytes_ + stream.consumed();
    }
    if (stream.damaged()) {
      LogLine(LogLevel::error, "spool_damaged").trusted_text("path", path_).trusted_text("reason", stream.reason());
      break;
    }
  }
  if (consumed_bytes > replayed_bytes_) {
    // Applied to the store: counted out now, whether or not the trim below works.
    replayed_bytes_ = consumed_bytes;
    pending_ -= replayed;
    std::lock_guard lock(mutex_);
    // Unknown when the replay stopped for another reason than the store:
    // then the old value stays (an age too high rather than none).
    if (next_oldest || pending() == 0) oldest_ = next_oldest;
  }
  if (replayed_bytes_ > 0) {
    const auto ticket = writer_->drop_prefix(replayed_bytes_);
    auto [error] = co_await writer_->async_wait_durable(ticket, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (error) {
      // Once per spell of failures: the replay goes on from the offset.
      if (!trim_failing_)
        LogLine(LogLevel::error, "spool_trim_failed")
            .trusted_text("path", path_)
            .trusted_text("reason", error.message());
      trim_failing_ = true;
    } else {
      if (trim_failing_) LogLine(LogLevel::info, "spool_trimmed_again").trusted_text("path", path_);
      trim_failing_ = false;
      replayed_bytes_ = 0;
    }
  }
  if (replayed > 0)
    LogLine(LogLevel::info, "spool_replayed")
        .number("events", static_cast<std::int64_t>(replayed))
        .number("still_pending", static_cast<std::int64_t>(pending()));
  replaying_ = false;
  co_return replayed;
}

}  // namespace callgate::store
