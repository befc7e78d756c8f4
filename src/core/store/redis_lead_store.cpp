#include "core/store/redis_lead_store.hpp"

#include "core/any_completion.hpp"
#include "core/civil_time.hpp"
#include "core/lead/lead_json.hpp"
#include "core/lead/lead_state_machine.hpp"
#include "core/log.hpp"
#include "core/redis/redis_script.hpp"
#include "core/spawn.hpp"
#include "core/store/redis_epoch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

#include <array>

namespace callgate::store {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using redis::Reply;
using namespace asio::experimental::awaitable_operators;

namespace {

// A lead's JSON as the store keeps it: lead_json's writer, straight to text.
std::string lead_text(const Lead& lead) {
  std::string text;
  text.reserve(1024);
  append_json(text, lead);
  return text;
}

constexpr int kMaxRetries = 64;

// KEYS: lead, idem, phone, leads, status. ARGV: id, json, has key, dedupe since (ms or ""), created (ms), key.
constexpr const char* kCreateScript = R"lua(
if ARGV[3] == '1' then
  local seen = redis.call('GET', KEYS[2])
  if seen then return {0, seen} end
end
if ARGV[4] ~= '' then
  local latest = redis.call('HMGET', KEYS[3], 'id', 'created')
  if latest[1] and tonumber(latest[2]) >= tonumber(ARGV[4]) then return {0, latest[1]} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, ARGV[1]} end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'version', 1, 'key', ARGV[6])
if ARGV[3] == '1' then redis.call('SET', KEYS[2], ARGV[1]) end
local latest_id = redis.call('HGET', KEYS[3], 'id')
if (not latest_id) or latest_id < ARGV[1] then redis.call('HSET', KEYS[3], 'id', ARGV[1], 'created', ARGV[5]) end
redis.call('ZADD', KEYS[4], 0, ARGV[1])
redis.call('ZADD', KEYS[5], 0, ARGV[1])
return {1, ARGV[1]}
)lua";

// The whole lead written (its events so far folded into the json, so the
// list of events appended since is emptied).
// KEYS: lead, old status, new status, sid, orphans, events.
// ARGV: expected version, json, id, claim sid (1/0), orphans consumed (-1: none).
constexpr const char* kWriteScript = R"lua(
local version = tonumber(redis.call('HGET', KEYS[1], 'version'))
if version ~= tonumber(ARGV[1]) then return 0 end
if ARGV[4] == '1' then
  local owner = redis.call('GET', KEYS[4])
  if owner and owner ~= ARGV[3] then return -1 end
end
if tonumber(ARGV[5]) >= 0 then
  if redis.call('LLEN', KEYS[5]) ~= tonumber(ARGV[5]) then return 0 end
  redis.call('DEL', KEYS[5])
end
redis.call('HSET', KEYS[1], 'json', ARGV[2], 'version', version + 1)
redis.call('DEL', KEYS[6])
if KEYS[2] ~= KEYS[3] then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], 0, ARGV[3])
end
if ARGV[4] == '1' then redis.call('SET', KEYS[4], ARGV[3]) end
return 1
)lua";

// A callback's write: the event appended to its lead's events, the version
// counted and the status index moved, if the lead is still at the version
// its event was applied to. A few hundred bytes instead of the whole lead
// (which grows with every event). The appends of one turn of a reactor's
// loop go in one call.
// Per append i, KEYS[4i-3..4i]: lead, events, old status, new status;
// ARGV[3i-2..3i]: expected version, the event record, the lead id when the
// status index moves ('' when it stays).
// Returns, per append: 1 appended, 0 the version moved on (apply again).
constexpr const char* kAppendScript = R"lua(
local results = {}
for i = 1, #KEYS / 4 do
  local version = tonumber(redis.call('HGET', KEYS[4 * i - 3], 'version'))
  if version ~= tonumber(ARGV[3 * i - 2]) then
    results[i] = 0
  else
    redis.call('RPUSH', KEYS[4 * i - 2], ARGV[3 * i - 1])
    redis.call('HSET', KEYS[4 * i - 3], 'version', version + 1)
    if ARGV[3 * i] ~= '' then
      redis.call('ZREM', KEYS[4 * i - 1], ARGV[3 * i])
      redis.call('ZADD', KEYS[4 * i], 0, ARGV[3 * i])
    end
    results[i] = 1
  end
end
return results
)lua";

// Events for calls no lead owns (a plain GET found no owner): each kept
// as an orphan, unless its sid found its lead meanwhile, in the same atomic
// step as that look-up. The events a reactor took in one turn of its loop
// go in one call (a script's call costs Redis more than its few commands).
// KEYS: sid and orphans of each event. ARGV[1]: how long orphans wait (ms);
// ARGV[1 + i]: event i's record.
// Returns, per event: the owner when there is one now (apply instead); 1 when kept.
constexpr const char* kKeepOrphansScript = R"lua(
local results = {}
for i = 1, #KEYS / 2 do
  local owner = redis.call('GET', KEYS[2 * i - 1])
  if owner then
    results[i] = owner
  else
    redis.call('RPUSH', KEYS[2 * i], ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[2 * i], ARGV[1])
    results[i] = 1
  end
end
return results
)lua";

const redis::Script create_script{kCreateScript};
const redis::Script write_script{kWriteScript};
const redis::Script keep_orphans_script{kKeepOrphansScript};
const redis::Script append_script{kAppendScript};
const redis::Script* const kScripts[] = {&create_script, &write_script, &keep_orphans_script, &append_script};

StoreError unavailable(std::string message) { return {StoreFailure::unavailable, std::move(message)}; }

// What a command got, as the store says it: Redis away or refusing is "unavailable".
std::variant<Reply, StoreError> checked(std::variant<Reply, redis::Failure> reply) {
  if (auto* failure = std::get_if<redis::Failure>(&reply)) return unavailable(failure->message);
  auto& value = std::get<Reply>(reply);
  if (value.is_error()) return unavailable("Redis: " + value.text);
  return std::move(value);
}

std::int64_t milliseconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// Orphans as kept in their list; unreadable ones are skipped (and counted by
// the list length, so they are consumed with the rest).
std::vector<std::pair<CallEvent, WallTime>> read_orphans(const Reply& reply) {
  std::vector<std::pair<CallEvent, WallTime>> orphans;
  for (const auto& element : reply.elements)
    if (auto orphan = read_received_event_record(element.text)) orphans.push_back(std::move(*orphan));
  return orphans;
}

// At most this many events in one orphan or append call: Redis runs a
// script alone, and a long one would hold up every other client.
constexpr std::size_t kMaxBatch = 128;

// Past this many events appended since its json, a lead's next change
// writes it whole (and empties the list): every read folds the list, and
// it must not grow without end under a provider repeating itself.
constexpr std::size_t kFoldAfter = 16;

}  // namespace

// An event waiting for its orphan or append call; its views point into
// the waiting coroutine's frame, which stays put until it is resumed.
struct RedisLeadStore::PendingScript {
  using Resume = AnyCompletion<void(std::variant<Reply, StoreError>)>;
  std::array<std::string_view, 4> keys;
  std::array<std::string_view, 3> arguments;
  Resume resume;
};

struct RedisLeadStore::ScriptBatch {
  std::vector<PendingScript> waiting;
  bool send_posted = false;
};

struct RedisLeadStore::Stored {
  Lead lead;
  std::int64_t version = 0;
  std::size_t appended = 0;  // events folded in from the list, not yet in the json
};

RedisLeadStore::RedisLeadStore(std::vector<asio::io_context*> homes, RedisStoreOptions options)
    : options_(std::move(options)) {
  known_epoch_ = read_epoch_file(options_.epoch_file);
  for (auto* io : homes) {
    auto on_connected = [this](redis::Connection& connection) { return check_redis(connection); };
    homes_.push_back({io, std::make_unique<redis::Connection>(*io, options_.connection, on_connected),
                      std::make_unique<ScriptBatch>(), std::make_unique<ScriptBatch>()});
  }
}

awaitable<bool> RedisLeadStore::check_redis(redis::Connection& connection) {
  if (!co_await redis::load_scripts(connection, kScripts)) co_return false;
  const auto gone = gone_.token();
  // Once per process: without an append-only file a restarted Redis
  // comes back empty. CONFIG may be refused (managed Redis): then nothing is said.
  bool check_persistence = false;
  {
    std::lock_guard lock(epoch_mutex_);
    check_persistence = !std::exchange(persistence_checked_, true);
  }
  if (check_persistence) {
    // (Arguments built before the co_await: GCC 12 miscompiles a braced list inside one.)
    std::vector<std::string> config_get{"CONFIG", "GET", "appendonly"};
    auto reply = co_await connection.command_before_ready(std::move(config_get));
    if (gone.stopped()) co_return false;
    if (const auto* value = std::get_if<redis::Reply>(&reply);
        value && value->elements.size() == 2 && value->elements[1].text == "no")
      LogLine(LogLevel::warn, "redis_not_persistent")
          .trusted_text("detail",
                        "redis-server runs without an append-only file (appendonly no): if it restarts, "
                        "every lead, call and job in it is gone. Set appendonly yes with appendfsync "
                        "everysec (at most a second of writes lost in a crash of the machine) or always "
                        "(none, at a cost in throughput); see the README");
    // An eviction policy lets Redis drop leads, calls and jobs when it is
    // full, without a word: it must refuse writes instead (noeviction),
    // which callgated sees and answers with its spool.
    std::vector<std::string> policy_get{"CONFIG", "GET", "maxmemory-policy"};
    auto policy = co_await connection.command_before_ready(std::move(policy_get));
    if (gone.stopped()) co_return false;
    if (const auto* value = std::get_if<redis::Reply>(&policy);
        value && value->elements.size() == 2 && value->elements[1].text != "noeviction")
      LogLine(LogLevel::warn, "redis_may_evict")
          .text("policy", value->elements[1].text)
          .trusted_text("detail",
                        "redis-server may evict keys when it reaches maxmemory: leads, calls and dial jobs "
                        "would vanish without an error. Set maxmemory-policy noeviction (a full Redis then "
                        "refuses writes, and callgated spools webhooks and answers enquiries 503); see the "
                        "README");
  }
  const auto epoch_key = key("epoch", "");
  // What this host knew before asking: another reactor's connection may set
  // a first epoch meanwhile, and that must not read as a loss here.
  std::string known;
  {
    std::lock_guard lock(epoch_mutex_);
    known = known_epoch_;
  }
  std::vector<std::string> get{"GET", epoch_key};
  auto got = co_await connection.command_before_ready(std::move(get));
  if (gone.stopped()) co_return false;
  const auto* reply = std::get_if<redis::Reply>(&got);
  if (!reply || reply->is_error()) co_return false;  // try the connect again
  std::optional<std::string> in_redis;
  if (reply->type == redis::Reply::Type::string) in_redis = reply->text;
  {
    // Already what another of this host's connections settled on (a first
    // epoch, or the one set after a loss it reported): nothing new.
    std::lock_guard lock(epoch_mutex_);
    if (in_redis && *in_redis == known_epoch_) co_return true;
  }
  const auto finding = judge_epoch(in_redis, known);
  if (finding == EpochFinding::same) {
    if (known.empty() && in_redis) {  // first sight from this host of an epoch another host set
      std::lock_guard lock(epoch_mutex_);
      known_epoch_ = *in_redis;
      write_epoch_file(options_.epoch_file, *in_redis);
    }
    co_return true;
  }
  if (finding == EpochFinding::lost) {
    data_losses_.fetch_add(1, std::memory_order_relaxed);
    const std::string why = in_redis
                                ? "Redis holds another epoch than this host knew: it was emptied (and used "
                                  "again by another host) or is another Redis"
                                : "Redis has no epoch though this host knew one: it restarted empty or was flushed";
    LogLine(LogLevel::error, "redis_data_lost")
        .trusted_text("detail", why +
                                    ". Leads, call sids and dial jobs stored before are gone from it; callbacks "
                                    "for those calls will be kept as orphans. Restore Redis from a backup, or "
                                    "restart callgated to clear this once it is understood")
        .trusted_text("epoch_known", known);
    std::lock_guard lock(epoch_mutex_);
    data_loss_ = why;
  }
  // First use, or after a loss: this Redis gets an epoch (another host's, if
  // one got there first), and this host remembers it.
  std::string epoch = in_redis.value_or(new_epoch());
  if (!in_redis) {
    std::vector<std::string> set_if_absent{"SET", epoch_key, epoch, "NX"};
    co_await connection.command_before_ready(std::move(set_if_absent));
    if (gone.stopped()) co_return false;
    std::vector<std::string> get_again{"GET", epoch_key};
    auto read_back = co_await connection.command_before_ready(std::move(get_again));
    if (gone.stopped()) co_return false;
    const auto* value = std::get_if<redis::Reply>(&read_back);
    if (!value || value->type != redis::Reply::Type::string) co_return false;
    epoch = value->text;
  }
  std::lock_guard lock(epoch_mutex_);
  known_epoch_ = epoch;
  if (!write_epoch_file(options_.epoch_file, epoch) && !options_.epoch_file.empty())
    LogLine(LogLevel::warn, "redis_epoch_not_kept").trusted_text("path", options_.epoch_file);
  co_return true;
}

std::optional<std::string> RedisLeadStore::data_loss() const {
  std::lock_guard lock(epoch_mutex_);
  if (data_loss_.empty()) return std::nullopt;
  return data_loss_;
}

RedisLeadStore::~RedisLeadStore() { gone_.stop(); }

redis::Traffic RedisLeadStore::traffic() const {
  redis::Traffic total;
  for (const auto& home : homes_) {
    const auto one = home.connection->traffic();
    total.commands += one.commands;
    total.bytes_sent += one.bytes_sent;
    total.bytes_received += one.bytes_received;
  }
  return total;
}

void RedisLeadStore::start() {
  for (auto& home : homes_) asio::post(*home.io, [connection = home.connection.get()] { connection->start(); });
}

bool RedisLeadStore::connected() const {
  return std::all_of(homes_.begin(), homes_.end(), [](const Home& home) { return home.connection->connected(); });
}

bool RedisLeadStore::has_connected() const {
  return std::all_of(homes_.begin(), homes_.end(), [](const Home& home) { return home.connection->has_connected(); });
}

std::optional<std::string> RedisLeadStore::problem() const {
  for (const auto& home : homes_)
    if (!home.connection->connected()) return "Redis is not connected";
  return std::nullopt;
}

std::string RedisLeadStore::key(std::string_view kind, std::string_view name) const {
  std::string text = options_.key_prefix;
  text.append(kind);
  if (!name.empty()) {
    text.push_back(':');
    text.append(name);
  }
  return text;
}

template <class Result, class... Parameters, class... Arguments>
awaitable<Result> RedisLeadStore::route(awaitable<Result> (RedisLeadStore::*operation)(redis::Connection&,
                                                                                       Parameters...),
                                        Arguments&&... arguments) {
  auto executor = co_await asio::this_coro::executor;
  auto& context = asio::query(executor, asio::execution::context);
  for (auto& home : homes_)
    if (home.io == &context)
      co_return co_await (this->*operation)(*home.connection, std::forward<Arguments>(arguments)...);
  // A caller on a loop of its own (tests, tools): the first home serves it.
  auto& home = homes_.front();
  co_return co_await asio::co_spawn(
      *home.io, (this->*operation)(*home.connection, std::forward<Arguments>(arguments)...), asio::use_awaitable);
}

awaitable<std::variant<Reply, StoreError>> RedisLeadStore::run(redis::Connection& redis,
                                                               std::vector<std::string> arguments) {
  co_return checked(co_await redis.command(std::move(arguments)));
}

awaitable<std::variant<Reply, StoreError>> RedisLeadStore::script(redis::Connection& redis, const redis::Script& which,
                                                                  std::vector<std::string> keys,
                                                                  std::vector<std::string> arguments) {
  const std::vector<std::string_view> key_views(keys.begin(), keys.end());
  const std::vector<std::string_view> argument_views(arguments.begin(), arguments.end());
  co_return co_await script(redis, which, key_views, argument_views);
}

awaitable<std::variant<Reply, StoreError>> RedisLeadStore::script(redis::Connection& redis, const redis::Script& which,
                                                                  std::span<const std::string_view> keys,
                                                                  std::span<const std::string_view> arguments) {
  co_return checked(co_await redis::run_script(redis, which, keys, arguments));
}

StoreResult<RedisLeadStore::Stored> RedisLeadStore::stored_lead(const std::string& lead_id, const Reply& json_field,
                                                                const Reply& version_field, const Reply& events) {
  if (json_field.type != Reply::Type::string) return StoreError{StoreFailure::not_found, "no lead " + lead_id};
  boost::system::error_code error;
  auto lead = lead_from_json(parse_stored_json(json_field.text, error));
  if (error || !lead) return unavailable("the stored lead " + lead_id + " does not parse");
  std::int64_t version = 0;
  if (version_field.type == Reply::Type::string) version = parse_decimal<std::int64_t>(version_field.text).value_or(0);
  // The events appended since the json, through the same state machine, in
  // the order Redis took them: the lead as each append saw it, and after.
  for (const auto& element : events.elements) {
    auto appended = read_received_event_record(element.text);
    // Skipping one would change what every later event did: refuse instead.
    if (!appended) return unavailable("an event appended to the stored lead " + lead_id + " does not parse");
    apply_call_event(*lead, appended->first, appended->second);
  }
  return Stored{std::move(*lead), version, events.elements.size()};
}

awaitable<StoreResult<RedisLeadStore::Stored>> RedisLeadStore::read(redis::Connection& redis,
                                                                    const std::string& lead_id) {
  // Two plain commands, pipelined (a script's call costs Redis more than
  // both). Not one atomic step, and need not be: between them a callback may
  // append (the list then holds one event more than the json's version
  // counts: a later state, whole) or a whole write may fold the list into a
  // new json (this reads the state before the fold's events). Either way a
  // state the lead had; and what is written from it is checked against the
  // version read, which any change in between has moved.
  const std::string lead_key = key("lead", lead_id);
  const std::string events_key = key("events", lead_id);
  const std::array<std::string_view, 4> fields{"HMGET", lead_key, "json", "version"};
  const std::array<std::string_view, 4> range{"LRANGE", events_key, "0", "-1"};
  auto [lead_reply, events_reply] = co_await (redis.command(std::span<const std::string_view>(fields)) &&
                                              redis.command(std::span<const std::string_view>(range)));
  auto lead = checked(std::move(lead_reply));
  if (auto* error = std::get_if<StoreError>(&lead)) co_return *error;
  auto events = checked(std::move(events_reply));
  if (auto* error = std::get_if<StoreError>(&events)) co_return *error;
  const auto& pair = std::get<Reply>(lead).elements;
  if (pair.size() != 2) co_return unavailable("unexpected answer to HMGET of lead " + lead_id);
  co_return stored_lead(lead_id, pair[0], pair[1], std::get<Reply>(events));
}

awaitable<std::variant<std::int64_t, StoreError>> RedisLeadStore::write(redis::Connection& redis, const Stored& before,
                                                                        const Lead& after, const std::string& claim_sid,
                                                                        std::int64_t orphans_consumed) {
  std::vector<std::string> keys{key("lead", after.id),
                                key("status", to_string(before.lead.status)),
                                key("status", to_string(after.status)),
                                claim_sid.empty() ? key("sid", "-") : key("sid", claim_sid),
                                claim_sid.empty() ? key("orphans", "-") : key("orphans", claim_sid),
                                key("events", after.id)};
  std::vector<std::string> arguments{std::to_string(before.version), lead_text(after), after.id,
                                     claim_sid.empty() ? std::string("0") : std::string("1"),
                                     std::to_string(orphans_consumed)};
  auto reply = co_await script(redis, write_script, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<StoreError>(&reply)) co_return *error;
  co_return std::get<Reply>(reply).integer;
}

awaitable<std::variant<std::int64_t, StoreError>> RedisLeadStore::apply_orphans(redis::Connection& redis,
                                                                                const std::string& call_sid,
                                                                                Lead& lead) {
  std::vector<std::string> range{std::string("LRANGE"), key("orphans", call_sid), std::string("0"), std::string("-1")};
  auto orphans = co_await run(redis, std::move(range));
  if (auto* error = std::get_if<StoreError>(&orphans)) co_return *error;
  const auto& list = std::get<Reply>(orphans);
  for (const auto& [event, received] : read_orphans(list)) apply_call_event(lead, event, received);
  co_return static_cast<std::int64_t>(list.elements.size());
}

awaitable<StoreResult<CreateResult>> RedisLeadStore::do_create(redis::Connection& redis, CreateRequest request) {
  const auto& lead = request.lead;
  std::vector<std::string> keys{key("lead", lead.id),
                                key("idem", request.idempotency_key.empty() ? "-" : request.idempotency_key),
                                key("phone", lead.phone), key("leads", ""), key("status", to_string(lead.status))};
  std::vector<std::string> arguments{
      lead.id,
      lead_text(lead),
      request.idempotency_key.empty() ? std::string("0") : std::string("1"),
      request.same_phone_since ? std::to_string(milliseconds(*request.same_phone_since)) : std::string(),
      std::to_string(milliseconds(lead.created)),
      request.idempotency_key};
  auto reply = co_await script(redis, create_script, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<StoreError>(&reply)) co_return *error;
  const auto& result = std::get<Reply>(reply).elements;
  if (result.size() != 2) co_return unavailable("unexpected answer from the create script");
  if (result[0].integer == 1) co_return CreateResult{lead, true};
  auto existing = co_await read(redis, result[1].text);
  if (auto* error = std::get_if<StoreError>(&existing)) co_return *error;
  co_return CreateResult{std::get<Stored>(existing).lead, false};
}

awaitable<StoreResult<Lead>> RedisLeadStore::do_get(redis::Connection& redis, std::string lead_id) {
  auto stored = co_await read(redis, lead_id);
  if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
  co_return std::get<Stored>(stored).lead;
}

awaitable<StoreResult<Lead>> RedisLeadStore::do_add_attempt(redis::Connection& redis, std::string lead_id,
                                                            Attempt attempt, LeadStatus lead_status) {
  for (int round = 0; round < kMaxRetries; ++round) {
    auto stored = co_await read(redis, lead_id);
    if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
    const auto& before = std::get<Stored>(stored);
    Lead after = before.lead;
    after.attempts.push_back(attempt);
    after.status = lead_status;
    after.updated = std::max(after.updated, attempt.created);
    std::int64_t consumed = -1;
    if (!attempt.call_sid.empty()) {
      auto adopted = co_await apply_orphans(redis, attempt.call_sid, after);
      if (auto* error = std::get_if<StoreError>(&adopted)) co_return *error;
      consumed = std::get<std::int64_t>(adopted);
    }
    auto written = co_await write(redis, before, after, attempt.call_sid, consumed);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    const auto result = std::get<std::int64_t>(written);
    if (result == 1) co_return after;
    if (result == -1)
      co_return StoreError{StoreFailure::conflict, "call sid " + attempt.call_sid + " belongs to another lead"};
  }
  co_return unavailable("too much contention on lead " + lead_id);
}

RedisLeadStore::Home& RedisLeadStore::home_of(redis::Connection& redis) {
  for (auto& candidate : homes_)
    if (candidate.connection.get() == &redis) return candidate;
  return homes_.front();  // route() always gives a home's connection
}

awaitable<std::variant<Reply, StoreError>> RedisLeadStore::batched(redis::Connection& redis, BatchKind kind,
                                                                   PendingScript pending) {
  auto& home = home_of(redis);
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::variant<Reply, StoreError>)>(
      [&](auto handler) {
        auto& batch = kind == BatchKind::keep_orphans ? *home.orphans : *home.appends;
        pending.resume = PendingScript::Resume(std::move(handler));
        batch.waiting.push_back(std::move(pending));
        if (batch.send_posted) return;
        batch.send_posted = true;
        // Sent once the loop has run what is ready now: the other requests
        // of this turn join the batch first.
        asio::post(*home.io, [this, home = &home, &batch, kind, gone = gone_.token()] {
          if (gone.stopped()) return;
          batch.send_posted = false;
          auto waiting = std::move(batch.waiting);
          batch.waiting.clear();
          for (std::size_t first = 0; first < waiting.size(); first += kMaxBatch) {
            const auto end = std::min(waiting.size(), first + kMaxBatch);
            std::vector<PendingScript> part(
                std::make_move_iterator(waiting.begin() + static_cast<std::ptrdiff_t>(first)),
                std::make_move_iterator(waiting.begin() + static_cast<std::ptrdiff_t>(end)));
            spawn_task(*home->io, send_batch(*home->connection, kind, std::move(part)), "Redis store sending a batch");
          }
        });
      },
      asio::use_awaitable);
}

awaitable<void> RedisLeadStore::send_batch(redis::Connection& redis, BatchKind kind,
                                           std::vector<PendingScript> events) {
  // What each event brings: the orphan script's sid and orphans keys and
  // record; the append script's four keys and three arguments.
  const bool keeping = kind == BatchKind::keep_orphans;
  const std::size_t key_count = keeping ? 2 : 4;
  const std::size_t argument_count = keeping ? 1 : 3;
  std::vector<std::string_view> keys;
  std::vector<std::string_view> arguments;
  keys.reserve(key_count * events.size());
  arguments.reserve(1 + argument_count * events.size());
  const std::string orphan_wait = std::to_string(options_.orphan_wait.count());
  if (keeping) arguments.push_back(orphan_wait);
  for (const auto& event : events) {
    keys.insert(keys.end(), event.keys.begin(), event.keys.begin() + static_cast<std::ptrdiff_t>(key_count));
    arguments.insert(arguments.end(), event.arguments.begin(),
                     event.arguments.begin() + static_cast<std::ptrdiff_t>(argument_count));
  }
  auto reply = co_await script(redis, keeping ? keep_orphans_script : append_script, keys, arguments);
  // Nothing of this store is touched from here on: it may be gone (a
  // failure posted by its connection's teardown).
  if (auto* error = std::get_if<StoreError>(&reply)) {
    for (auto& event : events) std::move(event.resume)(*error);
    co_return;
  }
  auto& answers = std::get<Reply>(reply);
  if (answers.type != Reply::Type::array || answers.elements.size() != events.size()) {
    for (auto& event : events) std::move(event.resume)(unavailable("unexpected answer from a batched script"));
    co_return;
  }
  for (std::size_t index = 0; index < events.size(); ++index)
    std::move(events[index].resume)(std::move(answers.elements[index]));
}

awaitable<StoreResult<ApplyResult>> RedisLeadStore::do_apply_event(redis::Connection& redis, CallEvent event,
                                                                   WallTime received) {
  const std::string sid_key = key("sid", event.call_sid);
  const std::string orphans_key = key("orphans", event.call_sid);
  // What is kept of the event, as an orphan or appended to its lead.
  const std::string record = received_event_record(event, received);
  const std::array<std::string_view, 2> lookup{"GET", sid_key};
  for (int round = 0; round < kMaxRetries; ++round) {
    // Who owns the call: a plain GET (the owner of a sid never changes once set).
    auto owner = checked(co_await redis.command(std::span<const std::string_view>(lookup)));
    if (auto* error = std::get_if<StoreError>(&owner)) co_return *error;
    const auto& owner_reply = std::get<Reply>(owner);

    std::string lead_id;
    std::string claim_sid;
    std::int64_t consumed = -1;
    std::optional<Stored> found;
    if (owner_reply.type == Reply::Type::string) {
      lead_id = owner_reply.text;
      auto stored = co_await read(redis, lead_id);
      if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
      found = std::move(std::get<Stored>(stored));
    } else {
      if (!event.lead_id.empty()) {
        // Nobody owns the sid, and the event names a lead: its latest attempt
        // may be waiting for this sid (the placement's answer was lost).
        auto named = co_await read(redis, event.lead_id);
        if (auto* stored = std::get_if<Stored>(&named)) {
          const auto& attempts = stored->lead.attempts;
          if (!attempts.empty() && attempts.back().call_sid.empty() && attempts.back().provider == event.provider) {
            lead_id = event.lead_id;
            claim_sid = event.call_sid;
            found = std::move(*stored);
          }
        }
      }
      if (lead_id.empty()) {
        // Kept as an orphan, batched with this turn's others, unless the sid
        // found its lead since the GET.
        PendingScript keep;
        keep.keys = {sid_key, orphans_key};
        keep.arguments = {record};
        auto kept = co_await batched(redis, BatchKind::keep_orphans, std::move(keep));
        if (auto* error = std::get_if<StoreError>(&kept)) co_return *error;
        const auto& answer = std::get<Reply>(kept);
        if (answer.type == Reply::Type::string) continue;  // owned now: apply it
        if (answer.type != Reply::Type::integer) co_return unavailable("unexpected answer from the orphan script");
        co_return ApplyResult{EventOutcome::unknown_call, {}};
      }
    }

    const auto& before = *found;
    Lead after = before.lead;
    if (!claim_sid.empty()) {
      after.attempts.back().call_sid = claim_sid;
      auto adopted = co_await apply_orphans(redis, claim_sid, after);
      if (auto* error = std::get_if<StoreError>(&adopted)) co_return *error;
      consumed = std::get<std::int64_t>(adopted);
    }
    const auto outcome = apply_call_event(after, event, received);
    if (outcome == EventOutcome::duplicate && claim_sid.empty()) co_return ApplyResult{outcome, lead_id};
    std::int64_t written = 0;
    if (claim_sid.empty() && before.appended < kFoldAfter) {
      // The common case: the event appended. Read back, the same state
      // machine over the same events in the same order gives this lead.
      const std::string lead_key = key("lead", lead_id);
      const std::string events_key = key("events", lead_id);
      const std::string old_status_key = key("status", to_string(before.lead.status));
      const std::string new_status_key = key("status", to_string(after.status));
      const std::string version = std::to_string(before.version);
      PendingScript append;
      append.keys = {lead_key, events_key, old_status_key, new_status_key};
      append.arguments = {version, record,
                          before.lead.status == after.status ? std::string_view() : std::string_view(lead_id)};
      auto appended = co_await batched(redis, BatchKind::append, std::move(append));
      if (auto* error = std::get_if<StoreError>(&appended)) co_return *error;
      written = std::get<Reply>(appended).integer;
    } else {
      auto whole = co_await write(redis, before, after, claim_sid, consumed);
      if (auto* error = std::get_if<StoreError>(&whole)) co_return *error;
      written = std::get<std::int64_t>(whole);
    }
    if (written == 1) co_return ApplyResult{outcome, lead_id};
    // Lost the race (another event for this lead, or the sid was claimed): again, from the top.
  }
  co_return unavailable("too much contention on call " + event.call_sid);
}

awaitable<StoreResult<UpdateResult>> RedisLeadStore::do_update(redis::Connection& redis, std::string lead_id,
                                                               LeadUpdate update) {
  for (int round = 0; round < kMaxRetries; ++round) {
    auto stored = co_await read(redis, lead_id);
    if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
    const auto& before = std::get<Stored>(stored);
    Lead after = before.lead;
    auto decision = apply_lead_update(after, update);
    if (decision.outcome != UpdateOutcome::changed) co_return UpdateResult{std::move(after), std::move(decision)};
    auto written = co_await write(redis, before, after, "", -1);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    if (std::get<std::int64_t>(written) == 1) co_return UpdateResult{std::move(after), std::move(decision)};
  }
  co_return unavailable("too much contention on lead " + lead_id);
}

awaitable<StoreResult<std::optional<std::string>>> RedisLeadStore::do_find(redis::Connection& redis,
                                                                           std::string call_sid) {
  std::vector<std::string> lookup{std::string("GET"), key("sid", call_sid)};
  auto owner = co_await run(redis, std::move(lookup));
  if (auto* error = std::get_if<StoreError>(&owner)) co_return *error;
  const auto& reply = std::get<Reply>(owner);
  if (reply.type != Reply::Type::string) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{reply.text};
}

awaitable<StoreResult<LeadPage>> RedisLeadStore::do_list(redis::Connection& redis, LeadQuery query) {
  LeadPage page;
  const auto index = query.status ? key("status", to_string(*query.status)) : key("leads", "");
  std::string from = query.after_id.empty() ? std::string("-") : "(" + query.after_id;
  const std::size_t batch = std::max<std::size_t>(query.limit + 1, 64);
  for (;;) {
    std::vector<std::string> range{
        std::string("ZRANGEBYLEX"), index, from, std::string("+"), std::string("LIMIT"), std::string("0"),
        std::to_string(batch)};
    auto ids = co_await run(redis, std::move(range));
    if (auto* error = std::get_if<StoreError>(&ids)) co_return *error;
    const auto& elements = std::get<Reply>(ids).elements;
    for (const auto& id : elements) {
      auto stored = co_await read(redis, id.text);
      if (std::holds_alternative<StoreError>(stored)) continue;  // removed meanwhile
      auto& lead = std::get<Stored>(stored).lead;
      if (query.created_since && lead.created < *query.created_since) continue;
      if (page.leads.size() == query.limit) {
        page.next_cursor = page.leads.back().id;
        co_return page;
      }
      page.leads.push_back(std::move(lead));
    }
    if (elements.size() < batch) co_return page;
    from = "(" + elements.back().text;
  }
}

awaitable<StoreResult<CreateResult>> RedisLeadStore::create(CreateRequest request) {
  co_return co_await route(&RedisLeadStore::do_create, std::move(request));
}
awaitable<StoreResult<Lead>> RedisLeadStore::get(std::string lead_id) {
  co_return co_await route(&RedisLeadStore::do_get, std::move(lead_id));
}
awaitable<StoreResult<Lead>> RedisLeadStore::add_attempt(std::string lead_id, Attempt attempt, LeadStatus lead_status) {
  co_return co_await route(&RedisLeadStore::do_add_attempt, std::move(lead_id), std::move(attempt), lead_status);
}
awaitable<StoreResult<ApplyResult>> RedisLeadStore::apply_event(CallEvent event, WallTime received) {
  co_return co_await route(&RedisLeadStore::do_apply_event, std::move(event), received);
}
awaitable<StoreResult<UpdateResult>> RedisLeadStore::update_lead(std::string lead_id, LeadUpdate update) {
  co_return co_await route(&RedisLeadStore::do_update, std::move(lead_id), std::move(update));
}
awaitable<StoreResult<std::optional<std::string>>> RedisLeadStore::find_lead_by_call_sid(std::string call_sid) {
  co_return co_await route(&RedisLeadStore::do_find, std::move(call_sid));
}
awaitable<StoreResult<LeadPage>> RedisLeadStore::list(LeadQuery query) {
  co_return co_await route(&RedisLeadStore::do_list, std::move(query));
}

}  // namespace callgate::store
