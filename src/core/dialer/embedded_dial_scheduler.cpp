#include "core/dialer/embedded_dial_scheduler.hpp"

#include "core/state_files.hpp"

#include "core/civil_time.hpp"
#include "core/dialer/dial_job_json.hpp"
#include "core/lead/lead_json.hpp"
#include "core/store/journal_record.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace callgate::dialer {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

constexpr const char* kFile = "dialer.journal";

store::StoreError unavailable(const std::string& why) { return {store::StoreFailure::unavailable, why}; }

// The records this journal holds: built here once for appends and
// snapshots, written straight as text (two of them come with every
// enquiry).
std::string job_record(const DialJob& job) {
  std::string record;
  record.reserve(160);
  JsonObjectWriter object(record);
  object.text("op", "job");
  auto fields = object.object("job");
  write_job_fields(fields, job);
  fields.close();
  object.close();
  return record;
}

std::string claim_record(const std::string& lead_id, std::uint64_t claim, WallTime lease_until) {
  std::string record;
  record.reserve(128);
  JsonObjectWriter object(record);
  object.text("op", "claim");
  object.text("leadId", lead_id);
  object.number("claim", claim);
  object.time("leaseUntil", lease_until);
  object.close();
  return record;
}

std::string calls_record(const std::string& number, CivilDate day, int count) {
  json::object object;
  object["op"] = "calls";
  object["number"] = number;
  object["day"] = format_civil_date(day);
  object["count"] = count;
  return json::serialize(object);
}

}  // namespace

EmbeddedDialScheduler::EmbeddedDialScheduler(std::string directory, std::uint64_t compact_bytes)
    : directory_(std::move(directory)), compact_bytes_(compact_bytes) {
  if (directory_.empty()) return;  // in memory only (the memory store's companion)
  create_private_directories(directory_);
  lock_ = std::make_unique<DirectoryLock>(directory_, "dialer.lock", "the dialer's journal");
  replay_file();
  own_writer_ = std::make_unique<store::JournalWriter>(
      path(), store::JournalWriterOptions{.room_bytes = store::kJournalRoomBytes});
  writer_ = own_writer_.get();
  bytes_since_snapshot_ = writer_->file_bytes();
}

EmbeddedDialScheduler::EmbeddedDialScheduler(InLeadJournal, std::string directory)
    : directory_(std::move(directory)), compact_bytes_(0), in_lead_journal_(true) {
  replay_file();
}

void EmbeddedDialScheduler::replay_file() {
  refuse_symlink(path(), "the dialer's journal");
  std::ifstream file{path(), std::ios::binary};
  if (!file) return;
  const std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  store::JournalReader reader(data, store::kJournalSyncWindowBytes);
  std::string_view payload;
  while (reader.next(payload)) apply_record(payload);
  if (reader.stop() == store::JournalReader::Stop::corrupt)
    throw std::runtime_error("the dialer's journal " + path() + " is damaged (" + reader.reason() +
                             "); callgated --repair-journal " + path() + " keeps every intact record");
  // A torn last record, or room left by a crash (journal_writer.hpp): the
  // writer starts after the records. A torn record is kept beside the file
  // first; room is only zeros.
  if (reader.valid_bytes() < data.size()) {
    if (reader.stop() == store::JournalReader::Stop::torn_tail)
      set_aside(path(), "torn", store::without_trailing_room(std::string_view(data).substr(reader.valid_bytes())));
    if (::truncate(path().c_str(), static_cast<off_t>(reader.valid_bytes())) != 0)
      throw std::runtime_error("cannot cut the torn end off " + path());
  }
  earlier_file_replayed_ = true;
}

void EmbeddedDialScheduler::attach(store::JournalWriter& lead_journal) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    writer_ = &lead_journal;
    if (!earlier_file_replayed_) return;
    // The earlier file's jobs, as records of the lead journal, durable
    // before the file goes. A crash in between replays both next time: the
    // same jobs twice, which leaves them as they were.
    for (auto& payload : snapshot_payloads()) ticket = writer_->append(payload);
  }
  if (ticket != 0) {
    auto durable = writer_->async_wait_durable(ticket, boost::asio::use_future);
    try {
      durable.get();
    } catch (const boost::system::system_error& error) {
      throw std::runtime_error("cannot move the dialer's jobs from " + path() +
                               " into the lead journal: " + error.what());
    }
  }
  std::error_code removed;
  std::filesystem::remove(path(), removed);
  if (removed) throw std::runtime_error("cannot remove " + path() + " after moving its jobs: " + removed.message());
  earlier_file_replayed_ = false;
}

namespace {
const std::vector<std::string_view> kRecordKinds = {"job", "claim", "done", "calls"};
}

store::AbsentGuest EmbeddedDialScheduler::absent_from_lead_journal() {
  return {kRecordKinds,
          "the journal holds the embedded dialer's jobs, but the dialer keeps them elsewhere: leave dialer.path empty"};
}

bool EmbeddedDialScheduler::owns_op(std::string_view op) const {
  return std::find(kRecordKinds.begin(), kRecordKinds.end(), op) != kRecordKinds.end();
}

void EmbeddedDialScheduler::replay_record(std::string_view payload) {
  std::lock_guard lock(mutex_);
  apply_record(payload);
}

void EmbeddedDialScheduler::hold_for_snapshot(
    const std::function<void(std::vector<std::string> payloads)>& queue_snapshot) {
  std::lock_guard lock(mutex_);
  queue_snapshot(snapshot_payloads());
}

std::string EmbeddedDialScheduler::path() const { return (std::filesystem::path(directory_) / kFile).string(); }

std::optional<std::string> EmbeddedDialScheduler::problem() const {
  if (!writer_) return std::nullopt;
  if (const auto failure = writer_->failure()) return "the dialer's journal cannot be written: " + failure.message();
  return std::nullopt;
}

void EmbeddedDialScheduler::put(const DialJob& job) {
  remove(job.lead_id);
  jobs_[job.lead_id] = Entry{job, 0, {}};
  by_wake_.emplace(job.due, job.lead_id);
}

void EmbeddedDialScheduler::put_claim(const std::string& lead_id, std::uint64_t claim, WallTime lease_until) {
  auto found = jobs_.find(lead_id);
  if (found == jobs_.end()) return;
  auto& entry = found->second;
  by_wake_.erase({entry.claim ? entry.lease_until : entry.job.due, lead_id});
  entry.claim = claim;
  entry.lease_until = lease_until;
  by_wake_.emplace(lease_until, lead_id);
  next_claim_ = std::max(next_claim_, claim + 1);
}

void EmbeddedDialScheduler::remove(const std::string& lead_id) {
  auto found = jobs_.find(lead_id);
  if (found == jobs_.end()) return;
  const auto& entry = found->second;
  by_wake_.erase({entry.claim ? entry.lease_until : entry.job.due, lead_id});
  jobs_.erase(found);
}

void EmbeddedDialScheduler::set_calls(const std::string& number, CivilDate day, int count) {
  calls_[{number, day}] = count;
  if (day > newest_day_) {
    newest_day_ = day;
    // Counts older than yesterday (in any zone) decide nothing any more.
    const auto oldest_kept = civil_from_days(days_from_civil(day.year, day.month, day.day) - 2);
    std::erase_if(calls_, [&](const auto& entry) { return entry.first.second < oldest_kept; });
  }
}

std::uint64_t EmbeddedDialScheduler::record_calls(const std::string& number, CivilDate day) {
  return record(calls_record(number, day, calls_[{number, day}]));
}

void EmbeddedDialScheduler::apply_record(std::string_view payload) {
  boost::system::error_code error;
  const auto value = parse_stored_json(payload, error);
  const auto* object = !error && value.is_object() ? &value.as_object() : nullptr;
  const auto* op = object ? object->if_contains("op") : nullptr;
  auto fail = [] { throw std::runtime_error("a dialer journal record does not parse"); };
  if (!op || !op->is_string()) fail();
  const std::string_view kind = op->as_string();
  if (kind == "job") {
    const auto job = job_from_json(object->if_contains("job"));
    if (!job) fail();
    put(*job);
  } else if (kind == "claim") {
    const auto* lead = object->if_contains("leadId");
    const auto* claim = object->if_contains("claim");
    const auto* lease = object->if_contains("leaseUntil");
    const auto lease_until = lease && lease->is_string() ? parse_iso8601(lease->as_string()) : std::nullopt;
    if (!lead || !lead->is_string() || !claim || !claim->is_int64() || !lease_until) fail();
    put_claim(std::string(lead->as_string()), static_cast<std::uint64_t>(claim->as_int64()), *lease_until);
  } else if (kind == "done") {
    const auto* lead = object->if_contains("leadId");
    if (!lead || !lead->is_string()) fail();
    remove(std::string(lead->as_string()));
    if (const auto* next = object->if_contains("next")) {
      const auto job = job_from_json(next);
      if (!job) fail();
      put(*job);
    }
  } else if (kind == "calls") {
    const auto* number = object->if_contains("number");
    const auto* day = object->if_contains("day");
    const auto* count = object->if_contains("count");
    const auto date = day && day->is_string() ? parse_civil_date(day->as_string()) : std::nullopt;
    if (!number || !number->is_string() || !date || !count || !count->is_int64()) fail();
    set_calls(std::string(number->as_string()), *date, static_cast<int>(count->as_int64()));
  } else {
    fail();
  }
}

std::vector<std::string> EmbeddedDialScheduler::snapshot_payloads() const {
  std::vector<std::string> payloads;
  for (const auto& [key, count] : calls_) payloads.push_back(calls_record(key.first, key.second, count));
  for (const auto& [lead_id, entry] : jobs_) {
    payloads.push_back(job_record(entry.job));
    if (entry.claim) payloads.push_back(claim_record(lead_id, entry.claim, entry.lease_until));
  }
  return payloads;
}

awaitable<store::StoreResult<bool>> EmbeddedDialScheduler::take_call(std::string number, CivilDate day, int cap) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    const auto found = calls_.find({number, day});
    const int taken = found == calls_.end() ? 0 : found->second;
    if (taken >= cap) co_return false;
    set_calls(number, day, taken + 1);
    ticket = record_calls(number, day);
  }
  if (auto error = co_await durable(ticket)) co_return *error;
  co_return true;
}

awaitable<store::StoreResult<bool>> EmbeddedDialScheduler::give_back_call(std::string number, CivilDate day) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    const auto found = calls_.find({number, day});
    if (found == calls_.end() || found->second == 0) co_return false;
    set_calls(number, day, found->second - 1);
    ticket = record_calls(number, day);
  }
  if (auto error = co_await durable(ticket)) co_return *error;
  co_return true;
}

std::uint64_t EmbeddedDialScheduler::record(std::string payload) {
  if (!writer_) return 0;
  // In the lead journal, its store decides when to compact (and asks for
  // this state through hold_for_snapshot).
  if (in_lead_journal_) return writer_->append(payload);
  bytes_since_snapshot_ += payload.size() + store::kJournalHeaderBytes;
  auto ticket = writer_->append(payload);
  if (bytes_since_snapshot_ > compact_bytes_ && !writer_->compacting()) {
    // Jobs are few (one per lead with a call to come): encoded here.
    std::string frames;
    for (const auto& snapshot_payload : snapshot_payloads()) store::append_journal_record(frames, snapshot_payload);
    bytes_since_snapshot_ = frames.size();
    ticket = writer_->replace_with([frames = std::move(frames)]() mutable { return std::move(frames); });
  }
  return ticket;
}

awaitable<std::optional<store::StoreError>> EmbeddedDialScheduler::durable(std::uint64_t ticket) {
  if (ticket == 0) co_return std::nullopt;
  auto [error] = co_await writer_->async_wait_durable(ticket, boost::asio::as_tuple(boost::asio::use_awaitable));
  if (error) co_return unavailable("the dialer's journal could not be written: " + error.message());
  co_return std::nullopt;
}

awaitable<store::StoreResult<bool>> EmbeddedDialScheduler::schedule(DialJob job) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto found = jobs_.find(job.lead_id); found != jobs_.end() && found->second.claim != 0)
      co_return store::StoreError{store::StoreFailure::conflict, "lead " + job.lead_id + " has a dial in progress"};
    put(job);
    ticket = record(job_record(job));
  }
  if (auto error = co_await durable(ticket)) co_return *error;
  co_return true;
}

awaitable<store::StoreResult<std::optional<ClaimedJob>>> EmbeddedDialScheduler::schedule_claimed(
    DialJob job, WallTime now, std::chrono::milliseconds lease) {
  auto [claimed, ticket] = schedule_claimed_queued(std::move(job), now, lease);
  if (auto error = co_await durable(ticket)) co_return *error;
  co_return claimed;
}

std::pair<std::optional<ClaimedJob>, std::uint64_t> EmbeddedDialScheduler::schedule_claimed_queued(
    DialJob job, WallTime now, std::chrono::milliseconds lease) {
  std::lock_guard lock(mutex_);
  if (jobs_.contains(job.lead_id)) return {std::nullopt, 0};
  const auto lease_until = now + lease;
  const auto claim = next_claim_++;
  put(job);
  record(job_record(job));
  put_claim(job.lead_id, claim, lease_until);
  const auto ticket = record(claim_record(job.lead_id, claim, lease_until));
  return {ClaimedJob{std::move(job), claim, lease_until, false}, ticket};
}

awaitable<store::StoreResult<LeadsWithFirstJobs::Stored>> JournalLeadsWithFirstJobs::create_with_first_job(
    store::CreateRequest request, DialJob job, WallTime now, std::optional<std::chrono::milliseconds> lease) {
  auto [created, ticket] = leads_.create_queued(request);
  Stored stored;
  // Due later (calling hours): a waiting job, not claimed, written once the
  // lead is (the dialer's sweep hands over a lead left without a job).
  std::optional<DialJob> waiting;
  if (created.created && lease) {
    auto [claimed, job_ticket] = jobs_.schedule_claimed_queued(std::move(job), now, *lease);
    stored.claimed = std::move(claimed);
    ticket = std::max(ticket, job_ticket);
  } else if (created.created) {
    waiting = std::move(job);
  }
  auto written = co_await leads_.once_written(std::move(created), ticket);
  if (auto* error = std::get_if<store::StoreError>(&written)) co_return *error;
  stored.lead = std::get<store::CreateResult>(std::move(written));
  if (waiting) {
    auto scheduled = co_await jobs_.schedule(std::move(*waiting));
    if (auto* error = std::get_if<store::StoreError>(&scheduled)) co_return *error;
  }
  co_return stored;
}

awaitable<store::StoreResult<std::vector<ClaimedJob>>> EmbeddedDialScheduler::claim_due(
    WallTime now, std::size_t limit, std::chrono::milliseconds lease) {
  std::vector<ClaimedJob> claimed;
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    std::vector<std::string> due;
    for (auto it = by_wake_.begin(); it != by_wake_.end() && it->first <= now && due.size() < limit; ++it)
      due.push_back(it->second);
    const auto lease_until = now + lease;
    for (const auto& lead_id : due) {
      const bool reclaimed = jobs_.at(lead_id).claim != 0;
      const auto claim = next_claim_++;
      put_claim(lead_id, claim, lease_until);
      ticket = record(claim_record(lead_id, claim, lease_until));
      claimed.push_back({jobs_.at(lead_id).job, claim, lease_until, reclaimed});
    }
  }
  if (ticket != 0)
    if (auto error = co_await durable(ticket)) co_return *error;
  co_return claimed;
}

awaitable<store::StoreResult<bool>> EmbeddedDialScheduler::complete(ClaimedJob claimed, std::optional<DialJob> next) {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(mutex_);
    const auto found = jobs_.find(claimed.job.lead_id);
    if (found == jobs_.end() || found->second.claim != claimed.claim) co_return false;
    std::string text;
    text.reserve(192);
    JsonObjectWriter object(text);
    object.text("op", "done");
    object.text("leadId", claimed.job.lead_id);
    remove(claimed.job.lead_id);
    if (next) {
      next->lead_id = claimed.job.lead_id;
      auto fields = object.object("next");
      write_job_fields(fields, *next);
      fields.close();
      put(*next);
    }
    object.close();
    ticket = record(std::move(text));
  }
  if (auto error = co_await durable(ticket)) co_return *error;
  co_return true;
}

awaitable<store::StoreResult<WallTime>> EmbeddedDialScheduler::reserve_slot(std::string account, WallTime now,
                                                                            unsigned calls_per_minute) {
  std::lock_guard lock(mutex_);
  co_return pacers_[account].reserve(now, calls_per_minute);
}

awaitable<store::StoreResult<std::optional<DialJob>>> EmbeddedDialScheduler::job_for(std::string lead_id) {
  std::lock_guard lock(mutex_);
  const auto found = jobs_.find(lead_id);
  if (found == jobs_.end()) co_return std::optional<DialJob>();
  co_return std::optional<DialJob>(found->second.job);
}

std::optional<WallTime> EmbeddedDialScheduler::next_wake() const {
  std::lock_guard lock(mutex_);
  if (by_wake_.empty()) return std::nullopt;
  return by_wake_.begin()->first;
}

SchedulerCounts EmbeddedDialScheduler::counts(WallTime now) const {
  std::lock_guard lock(mutex_);
  SchedulerCounts counts;
  for (const auto& [lead_id, entry] : jobs_) {
    if (entry.claim && entry.lease_until > now)
      ++counts.in_flight;
    else if ((entry.claim ? entry.lease_until : entry.job.due) <= now)
      ++counts.due;
    else
      ++counts.waiting;
  }
  return counts;
}

}  // namespace callgate::dialer
