#include "core/store/event_spool.hpp"

#include "core/civil_time.hpp"
#include "core/lead/lead_json.hpp"
#include "core/log.hpp"
#include "core/store/journal_record.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace callgate {

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

std::string read_file(const std::string& path, std::uint64_t limit) {
  std::ifstream file(path, std::ios::binary);
  std::string data(limit, '\0');
  file.read(data.data(), static_cast<std::streamsize>(limit));
  data.resize(static_cast<std::size_t>(file.gcount()));
  return data;
}

}  // namespace

EventSpool::EventSpool(std::string directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create the spool directory " + directory + ": " + error.message());
  path_ = (std::filesystem::path(directory) / "webhooks.spool").string();
  if (std::filesystem::exists(path_)) {
    const auto data = read_file(path_, std::filesystem::file_size(path_));
    JournalReader reader(data);
    std::string_view payload;
    while (reader.next(payload)) {
      ++pending_;
      if (!oldest_)
        if (auto spooled = decode(payload)) oldest_ = spooled->received;
    }
    if (reader.stop() == JournalReader::Stop::corrupt)
      throw std::runtime_error("the spool " + path_ + " is damaged (" + reader.reason() + "); move it aside");
    if (reader.stop() == JournalReader::Stop::torn_tail &&
        ::truncate(path_.c_str(), static_cast<off_t>(reader.valid_bytes())) != 0)
      throw std::runtime_error("cannot cut the torn end off " + path_);
    if (pending_ > 0)
      LogLine(LogLevel::warn, "spool_pending_at_start").trusted_text("path", path_).number("events", static_cast<std::int64_t>(pending_.load()));
  }
  writer_ = std::make_unique<JournalWriter>(path_);
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
  if (!error) {
    {
      std::lock_guard lock(mutex_);
      if (!oldest_ || pending() == 0) oldest_ = received;
    }
    ++pending_;
  }
  co_return error;
}

awaitable<std::size_t> EventSpool::replay_into(LeadStore& store) {
  if (pending() == 0 || replaying_.exchange(true)) co_return 0;
  // Everything durable so far; later appends stay for the next round.
  const auto data = read_file(path_, writer_->file_bytes());
  JournalReader reader(data);
  std::string_view payload;
  std::size_t replayed = 0;
  std::size_t consumed_bytes = 0;
  std::optional<WallTime> next_oldest;
  while (reader.next(payload)) {
    auto spooled = decode(payload);
    if (spooled) {
      auto stored = co_await store.apply_event(spooled->event, spooled->received);
      if (std::holds_alternative<StoreError>(stored)) {
        next_oldest = spooled->received;
        break;
      }
    }
    // An unreadable record cannot be replayed by anyone: logged and passed over.
    if (!spooled) LogLine(LogLevel::error, "spool_record_unreadable").trusted_text("path", path_);
    ++replayed;
    consumed_bytes = reader.valid_bytes();
  }
  if (consumed_bytes > 0) {
    const auto ticket = writer_->drop_prefix(consumed_bytes);
    auto [error] = co_await writer_->async_wait_durable(ticket, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (error) {
      LogLine(LogLevel::error, "spool_trim_failed").trusted_text("path", path_).trusted_text("reason", error.message());
    } else {
      pending_ -= replayed;
      std::lock_guard lock(mutex_);
      oldest_ = next_oldest;
    }
  }
  if (replayed > 0)
    LogLine(LogLevel::info, "spool_replayed")
        .number("events", static_cast<std::int64_t>(replayed))
        .number("still_pending", static_cast<std::int64_t>(pending()));
  replaying_ = false;
  co_return replayed;
}

}  // namespace callgate
