#include "core/store/journal_lead_store.hpp"

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
#include <span>
#include <sstream>
#include <stdexcept>

namespace callgate::store {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

constexpr const char* kJournalFile = "leads.journal";
constexpr const char* kArchiveDirectory = "archive";

// {"op":"lead","lead":{...},"key":...[,"new":true]}, the lead written
// straight as text. "new" marks the enquiry that created it, as against the
// lead as a snapshot found it: only a creation is a change (lead.created).
enum class LeadRecordKind { creation, snapshot };
std::string lead_record(const Lead& lead, const std::string& idempotency_key, LeadRecordKind kind) {
  std::string record;
  record.reserve(1024);
  record.append(R"({"op":"lead","lead":)");
  append_json(record, lead);
  if (!idempotency_key.empty()) record.append(R"(,"key":)").append(json::serialize(json::string(idempotency_key)));
  if (kind == LeadRecordKind::creation) record.append(R"(,"new":true)");
  record.push_back('}');
  return record;
}

// {"op", "event", "receivedAt"}: the same text json::serialize gives for
// that object, written straight onto the payload (one per webhook, on the
// reactor). The event's own text (append_json) sits inside it, and that is
// what the table keeps if the event is an orphan.
struct EventRecord {
  std::string payload;
  std::size_t event_begin = 0;
  std::size_t event_end = 0;
  std::string_view event_json() const { return std::string_view(payload).substr(event_begin, event_end - event_begin); }
};

void open_event_record(EventRecord& record, std::string_view op) {
  record.payload.append(R"({"op":")").append(op).append(R"(","event":)");
  record.event_begin = record.payload.size();
}

void close_event_record(EventRecord& record, WallTime received) {
  record.event_end = record.payload.size();
  record.payload.append(R"(,"receivedAt":")");
  append_iso8601(record.payload, received);
  record.payload.append(R"("})");
}

// Into a record kept by the caller: its buffer is reused, not reallocated.
void write_event_record(EventRecord& record, std::string_view op, const CallEvent& event, WallTime received) {
  record.payload.clear();
  open_event_record(record, op);
  append_json(record.payload, event);
  close_event_record(record, received);
}

EventRecord event_record(std::string_view op, std::string_view event_json, WallTime received) {
  EventRecord record;
  record.payload.reserve(event_json.size() + 80);
  open_event_record(record, op);
  record.payload.append(event_json);
  close_event_record(record, received);
  return record;
}

// Runs on the writer's thread: appends the table's records to frames.
// Orphans oldest first, so a replay lets the same ones go first again.
void append_snapshot_frames(std::string& frames, const LeadTable::Picture& picture) {
  for (const auto& entry : picture.leads)
    append_journal_record(frames, lead_record(*entry.lead, entry.idempotency_key, LeadRecordKind::snapshot));
  for (const auto& orphan : picture.orphans.orphans)
    append_journal_record(frames, event_record("orphan", orphan.event_json, orphan.received).payload);
}

}  // namespace

JournalLeadStore::JournalLeadStore(JournalStoreOptions options)
    : options_(std::move(options)), table_(options_.orphans) {
  create_private_directories(options_.directory);
  // Before anything is read: a second callgated on this directory would
  // interleave its appends with ours and lose acknowledged leads.
  lock_ = std::make_unique<DirectoryLock>(options_.directory, "journal.lock", "the journal");
  refuse_symlink(path(), "the journal");
  table_.set_event_sink(options_.events);
  replay_file(path());
  writer_ = std::make_unique<JournalWriter>(
      path(), JournalWriterOptions{archive_directory(), kJournalRoomBytes, options_.max_syncs_per_second});
  bytes_at_start_ = writer_->file_bytes();
}

JournalLeadStore::~JournalLeadStore() = default;

std::optional<std::string> JournalLeadStore::problem() const {
  if (const auto failure = writer_->failure()) return "the journal cannot be written: " + failure.message();
  return std::nullopt;
}

std::string JournalLeadStore::path() const {
  return (std::filesystem::path(options_.directory) / kJournalFile).string();
}

std::string JournalLeadStore::archive_directory() const {
  return (std::filesystem::path(options_.directory) / kArchiveDirectory).string();
}

std::size_t JournalLeadStore::orphans_in_memory() const {
  std::lock_guard lock(mutex_);
  return table_.orphans_in_memory();
}

void JournalLeadStore::replay_file(const std::string& file_path) {
  std::ifstream file(file_path, std::ios::binary);  // not a symlink: checked by the caller
  if (!file) return;                                // a first start
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string data = buffer.str();
  file.close();

  std::string_view payload;
  if (!options_.guests.empty()) {
    JournalReader ahead(data, kJournalSyncWindowBytes);
    while (ahead.next(payload))
      for (auto* guest : options_.guests) guest->look_ahead(payload);
  }
  JournalReader reader(data, kJournalSyncWindowBytes);
  while (reader.next(payload)) {
    apply_record(payload);
    ++replay_.records;
  }
  switch (reader.stop()) {
    case JournalReader::Stop::none:
      break;
    case JournalReader::Stop::clean_end:
      // Room a crash left after the records: cut off, so the writer starts
      // at the end of the records.
      if (reader.valid_bytes() < data.size() &&
          ::truncate(file_path.c_str(), static_cast<off_t>(reader.valid_bytes())) != 0)
        throw std::runtime_error("cannot cut the room off " + file_path);
      break;
    case JournalReader::Stop::torn_tail:
      // A crash mid-append: the record was never acknowledged. Cut it off so
      // the next append starts on a record boundary.
      replay_.torn_bytes_dropped = data.size() - reader.valid_bytes();
      replay_.torn_bytes_kept_in =
          set_aside(file_path, "torn", without_trailing_room(std::string_view(data).substr(reader.valid_bytes())))
              .string();
      if (::truncate(file_path.c_str(), static_cast<off_t>(reader.valid_bytes())) != 0)
        throw std::runtime_error("cannot cut the torn end off " + file_path);
      LogLine(LogLevel::warn, "journal_torn_tail_dropped")
          .trusted_text("path", file_path)
          .number("bytes", static_cast<std::int64_t>(replay_.torn_bytes_dropped))
          .trusted_text("kept_in", replay_.torn_bytes_kept_in)
          .trusted_text("reason", reader.reason());
      break;
    case JournalReader::Stop::corrupt:
      throw std::runtime_error("the journal " + file_path + " is damaged after byte offset " +
                               std::to_string(reader.valid_bytes()) + " (" + reader.reason() +
                               "); it was left as it is. callgated --check-journal reports the damage; "
                               "callgated --repair-journal keeps every intact record and sets the damaged bytes "
                               "aside beside it (or restore it from a backup)");
  }
}

void JournalLeadStore::apply_record(std::string_view payload) {
  boost::system::error_code error;
  const auto value = parse_stored_json(payload, error);
  const auto* object = !error && value.is_object() ? &value.as_object() : nullptr;
  const auto* op = object ? object->if_contains("op") : nullptr;
  if (!op || !op->is_string()) throw std::runtime_error("a journal record is not a callgate record");
  const std::string_view kind = op->as_string();
  for (auto* guest : options_.guests)
    if (guest->owns_op(kind)) return guest->replay_record(payload);
  const auto& passed_over = options_.passed_over_kinds;
  if (std::find(passed_over.begin(), passed_over.end(), kind) != passed_over.end()) return;
  auto text = [&](std::string_view key) {
    const auto* field = object->if_contains(key);
    return field && field->is_string() ? std::string(field->as_string()) : std::string();
  };
  auto fail = [&]() { throw std::runtime_error("a journal '" + std::string(kind) + "' record does not parse"); };

  if (kind == "lead") {
    auto lead = lead_from_json(object->contains("lead") ? object->at("lead") : json::value());
    if (!lead) fail();
    const auto* created = object->if_contains("new");
    table_.restore(std::move(*lead), text("key"),
                   created && created->is_bool() && created->as_bool() ? LeadTable::Restored::created
                                                                       : LeadTable::Restored::as_it_was);
  } else if (kind == "attempt") {
    auto attempt = attempt_from_json(object->contains("attempt") ? object->at("attempt") : json::value());
    auto status = parse_lead_status(text("leadStatus"));
    if (!attempt || !status) fail();
    table_.add_attempt(text("leadId"), *attempt, *status);
  } else if (kind == "event" || kind == "orphan") {
    auto event = call_event_from_json(object->contains("event") ? object->at("event") : json::value());
    auto received = parse_iso8601(text("receivedAt"));
    if (!event || !received) fail();
    if (kind == "event")
      table_.apply_event(std::move(*event), *received);
    else
      table_.restore_orphan({std::move(*event), *received});
  } else if (kind == "input") {
    auto input = call_flow_input_from_json(object->contains("input") ? object->at("input") : json::value());
    if (!input) fail();
    table_.update_lead(text("leadId"), LeadUpdate(std::move(*input)));
  } else if (kind == "update") {
    auto update = lead_update_from_json(object->contains("update") ? object->at("update") : json::value());
    if (!update) fail();
    table_.update_lead(text("leadId"), *update);
  } else if (const auto& absent = options_.absent_guest;
             absent && std::find(absent->kinds.begin(), absent->kinds.end(), kind) != absent->kinds.end()) {
    throw std::runtime_error("a '" + std::string(kind) + "' record: " + absent->explanation);
  } else {
    fail();
  }
  if (options_.events) options_.events->seal(0);  // what a replayed record changed is on disk already
}

namespace {
// Holds each guest in turn (none can add a record of its own until the
// snapshot is queued) and queues the snapshot with all their payloads.
void hold_guests(std::span<JournalGuest* const> guests, std::vector<std::string> payloads,
                 const std::function<void(std::vector<std::string>)>& queue_snapshot) {
  if (guests.empty()) return queue_snapshot(std::move(payloads));
  guests.front()->hold_for_snapshot([&](std::vector<std::string> more) {
    payloads.insert(payloads.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    hold_guests(guests.subspan(1), std::move(payloads), queue_snapshot);
  });
}
}  // namespace

std::uint64_t JournalLeadStore::record(const std::string& payload) {
  auto ticket = writer_->append(payload);
  // Before a snapshot is taken below: the events of this change are in it.
  if (options_.events) options_.events->seal(ticket);
  // Compact once the file is over its size and what was appended since the
  // last snapshot outweighs the snapshot itself: a table larger than
  // compact_bytes must not be rewritten after every record.
  const auto since_snapshot = bytes_at_start_ + writer_->appended_bytes() - appended_at_snapshot_;
  const auto snapshot_bytes = writer_->snapshot_bytes();
  // Not while the last snapshot is still being written: a second one would
  // hold the group commits until the first is in place.
  if (snapshot_bytes + since_snapshot > options_.compact_bytes && since_snapshot > snapshot_bytes &&
      !writer_->compacting()) {
    auto picture = std::make_shared<LeadTable::Picture>(table_.picture());
    auto queue_snapshot = [&](std::vector<std::string> guest_payloads) {
      bytes_at_start_ = 0;
      appended_at_snapshot_ = writer_->appended_bytes();
      ticket = writer_->replace_with([picture, guest_payloads = std::move(guest_payloads)] {
        std::string frames;
        for (const auto& guest_payload : guest_payloads) append_journal_record(frames, guest_payload);
        append_snapshot_frames(frames, *picture);
        return frames;
      });
    };
    hold_guests(options_.guests, {}, queue_snapshot);
  }
  last_ticket_ = ticket;
  return ticket;
}

awaitable<std::tuple<boost::system::error_code>> JournalLeadStore::durable(std::uint64_t ticket) {
  return writer_->async_wait_durable(ticket, boost::asio::as_tuple(boost::asio::use_awaitable));
}

StoreError JournalLeadStore::unwritten(const boost::system::error_code& error) {
  return StoreError{StoreFailure::unavailable, "the journal could not be written: " + error.message()};
}

awaitable<StoreResult<CreateResult>> JournalLeadStore::create(CreateRequest request) {
  auto [result, ticket] = create_queued(request);
  co_return co_await once_written(std::move(result), ticket);
}

std::pair<CreateResult, std::uint64_t> JournalLeadStore::create_queued(const CreateRequest& request) {
  std::lock_guard lock(mutex_);
  auto result = table_.create(request);
  // An existing lead may have been created a moment ago by a request still
  // waiting for its record to reach the disk: answer only once it has.
  const auto ticket = result.created
                          ? record(lead_record(result.lead, request.idempotency_key, LeadRecordKind::creation))
                          : last_ticket_;
  return {std::move(result), ticket};
}

awaitable<StoreResult<CreateResult>> JournalLeadStore::once_written(CreateResult result, std::uint64_t ticket) {
  if (ticket != 0) {
    const auto [error] = co_await durable(ticket);
    if (error) co_return unwritten(error);
  }
  co_return result;
}

// Reads answer once every record queued before them is on disk, so a read
// never shows a change a crash could still take back (a webhook's event is in
// the table a moment before its record is durable and its 204 is sent). A
// read with nothing in flight answers at once.
template <class Read>
auto JournalLeadStore::read_once_durable(Read read) -> awaitable<decltype(read())> {
  std::unique_lock lock(mutex_);
  auto result = read();
  const auto ticket = last_ticket_;
  lock.unlock();
  return once_durable(std::move(result), ticket);
}

template <class Result>
awaitable<StoreResult<Result>> JournalLeadStore::once_durable(StoreResult<Result> result, std::uint64_t ticket) {
  if (ticket != 0) {
    const auto [error] = co_await durable(ticket);
    if (error) co_return unwritten(error);
  }
  co_return result;
}

awaitable<StoreResult<Lead>> JournalLeadStore::get(std::string lead_id) {
  return read_once_durable([&]() -> StoreResult<Lead> { return table_.get(lead_id); });
}

awaitable<StoreResult<Lead>> JournalLeadStore::add_attempt(std::string lead_id, Attempt attempt,
                                                           LeadStatus lead_status) {
  std::uint64_t ticket = 0;
  StoreResult<Lead> result;
  {
    std::lock_guard lock(mutex_);
    result = table_.add_attempt(lead_id, attempt, lead_status);
    if (std::holds_alternative<StoreError>(result)) co_return result;
    // {"op":"attempt","leadId":…,"attempt":{…},"leadStatus":…}, written straight as text.
    std::string text = R"({"op":"attempt","leadId":)";
    text.append(json::serialize(json::string(lead_id)));
    text.append(R"(,"attempt":)");
    append_json(text, attempt);
    text.append(R"(,"leadStatus":")").append(to_string(lead_status)).append(R"("})");
    ticket = record(text);
  }
  const auto [error] = co_await durable(ticket);
  if (error) co_return unwritten(error);
  co_return result;
}

awaitable<StoreResult<ApplyResult>> JournalLeadStore::apply_event(CallEvent event, WallTime received) {
  std::uint64_t ticket = 0;
  ApplyResult result;
  {
    std::lock_guard lock(mutex_);
    // Kept whatever the outcome: the history shows duplicates and late
    // events too, and replay reaches the same outcome again. Encoded before
    // the table takes the event, recorded after it applied it (a snapshot
    // taken by record() must include it).
    // One buffer per thread: the writer copies the record into its queue,
    // and the table an orphan's text into its blocks, before this returns.
    thread_local EventRecord encoded;
    write_event_record(encoded, "event", event, received);
    result = table_.apply_event(std::move(event), received, encoded.event_json());
    ticket = record(encoded.payload);
    if (encoded.payload.capacity() > 64 * 1024) std::string().swap(encoded.payload);  // a rare large one is not kept
  }
  const auto [error] = co_await durable(ticket);
  if (error) co_return unwritten(error);
  co_return result;
}

awaitable<StoreResult<UpdateResult>> JournalLeadStore::update_lead(std::string lead_id, LeadUpdate update) {
  std::uint64_t ticket = 0;
  StoreResult<UpdateResult> result;
  {
    std::lock_guard lock(mutex_);
    result = table_.update_lead(lead_id, update);
    if (std::holds_alternative<StoreError>(result)) co_return result;
    // Only changes are written: a replay applies each again and must come
    // to the same lead.
    if (std::get<UpdateResult>(result).decision.outcome != UpdateOutcome::changed) co_return result;
    json::object object;
    // Call-flow inputs keep the record 0.1.0 wrote, so a journal stays
    // readable by the version before this one.
    if (auto* input = std::get_if<CallFlowInput>(&update)) {
      object["op"] = "input";
      object["leadId"] = lead_id;
      object["input"] = to_json(*input);
    } else {
      object["op"] = "update";
      object["leadId"] = lead_id;
      object["update"] = to_json(update);
    }
    ticket = record(json::serialize(object));
  }
  const auto [error] = co_await durable(ticket);
  if (error) co_return unwritten(error);
  co_return result;
}

awaitable<StoreResult<std::optional<std::string>>> JournalLeadStore::find_lead_by_call_sid(std::string call_sid) {
  std::lock_guard lock(mutex_);
  co_return table_.find_lead_by_call_sid(call_sid);
}

awaitable<StoreResult<LeadPage>> JournalLeadStore::list(LeadQuery query) {
  return read_once_durable([&]() -> StoreResult<LeadPage> { return table_.list(query); });
}

}  // namespace callgate::store
