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

namespace {

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

// KEYS: lead, old status, new status, sid, orphans.
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
if KEYS[2] ~= KEYS[3] then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], 0, ARGV[3])
end
if ARGV[4] == '1' then redis.call('SET', KEYS[4], ARGV[3]) end
return 1
)lua";

// An event's first step: who owns the call sid and, if a lead does, that
// lead (so it need not be read in a second round trip); if none does and
// the event came with an orphan record, the event is kept as an orphan, in
// the same atomic step as the look-up. The events a reactor took in one
// turn of its loop go in one call (a script's call costs Redis more than
// its few commands). The lead's key is named here from the owner found, as
// a script on one Redis (not a Cluster) may.
// KEYS: sid and orphans of each event. ARGV[1]: the lead key's prefix;
// ARGV[2]: how long orphans wait (ms); ARGV[2 + i]: event i's orphan record
// ("" to keep nothing).
// Returns, per event: {owner, json, version}; 1 when kept; 0 when neither.
constexpr const char* kResolveScript = R"lua(
local results = {}
for i = 1, #KEYS / 2 do
  local owner = redis.call('GET', KEYS[2 * i - 1])
  if owner then
    local lead = redis.call('HMGET', ARGV[1] .. owner, 'json', 'version')
    results[i] = {owner, lead[1], lead[2]}
  elseif ARGV[i + 2] ~= '' then
    redis.call('RPUSH', KEYS[2 * i], ARGV[i + 2])
    redis.call('PEXPIRE', KEYS[2 * i], ARGV[2])
    results[i] = 1
  else
    results[i] = 0
  end
end
return results
)lua";

// KEYS: sid, orphans. ARGV: the event record, how long orphans wait (ms).
// Returns the owner when the call sid found its lead meanwhile (apply
// instead), else nil once kept.
constexpr const char* kOrphanScript = R"lua(
local owner = redis.call('GET', KEYS[1])
if owner then return owner end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return false
)lua";

const redis::Script create_script{kCreateScript};
const redis::Script write_script{kWriteScript};
const redis::Script orphan_script{kOrphanScript};
const redis::Script resolve_script{kResolveScript};
const redis::Script* const kScripts[] = {&create_script, &write_script, &orphan_script, &resolve_script};

StoreError unavailable(std::string message) { return {StoreFailure::unavailable, std::move(message)}; }

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

// At most this many events in one resolve call: Redis runs a script
// alone, and a long one would hold up every other client.
constexpr std::size_t kMaxResolveBatch = 128;

}  // namespace

// An event waiting for its resolve call; its views point into the waiting
// coroutine's frame, which stays put until it is resumed.
struct RedisLeadStore::PendingResolve {
  using Resume = AnyCompletion<void(std::variant<Reply, StoreError>)>;
  std::string_view sid_key;
  std::string_view orphans_key;
  std::string_view record;
  Resume resume;
};

struct RedisLeadStore::ResolveBatch {
  std::vector<PendingResolve> waiting;
  bool send_posted = false;
};

struct RedisLeadStore::Stored {
  Lead lead;
  std::int64_t version = 0;
};

RedisLeadStore::RedisLeadStore(std::vector<asio::io_context*> homes, RedisStoreOptions options)
    : options_(std::move(options)) {
  known_epoch_ = read_epoch_file(options_.epoch_file);
  for (auto* io : homes) {
    auto on_connected = [this](redis::Connection& connection) { return check_redis(connection); };
    homes_.push_back({io, std::make_unique<redis::Connection>(*io, options_.connection, on_connected),
                      std::make_unique<ResolveBatch>()});
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
  auto reply = co_await redis.command(std::move(arguments));
  if (auto* failure = std::get_if<redis::Failure>(&reply)) co_return unavailable(failure->message);
  auto& value = std::get<Reply>(reply);
  if (value.is_error()) co_return unavailable("Redis: " + value.text);
  co_return std::move(value);
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
  auto reply = co_await redis::run_script(redis, which, keys, arguments);
  if (auto* failure = std::get_if<redis::Failure>(&reply)) co_return unavailable(failure->message);
  if (std::get<Reply>(reply).is_error()) co_return unavailable("Redis: " + std::get<Reply>(reply).text);
  co_return std::move(std::get<Reply>(reply));
}

StoreResult<RedisLeadStore::Stored> RedisLeadStore::stored_lead(const std::string& lead_id, const Reply& json_field,
                                                                const Reply& version_field) {
  if (json_field.type != Reply::Type::string) return StoreError{StoreFailure::not_found, "no lead " + lead_id};
  boost::system::error_code error;
  auto lead = lead_from_json(parse_stored_json(json_field.text, error));
  if (error || !lead) return unavailable("the stored lead " + lead_id + " does not parse");
  std::int64_t version = 0;
  if (version_field.type == Reply::Type::string) version = parse_decimal<std::int64_t>(version_field.text).value_or(0);
  return Stored{std::move(*lead), version};
}

awaitable<StoreResult<RedisLeadStore::Stored>> RedisLeadStore::read(redis::Connection& redis,
                                                                    const std::string& lead_id) {
  std::vector<std::string> command{std::string("HMGET"), key("lead", lead_id), std::string("json"),
                                   std::string("version")};
  auto reply = co_await run(redis, std::move(command));
  if (auto* error = std::get_if<StoreError>(&reply)) co_return *error;
  const auto& fields = std::get<Reply>(reply).elements;
  if (fields.size() != 2) co_return StoreError{StoreFailure::not_found, "no lead " + lead_id};
  co_return stored_lead(lead_id, fields[0], fields[1]);
}

awaitable<std::variant<std::int64_t, StoreError>> RedisLeadStore::write(redis::Connection& redis, const Stored& before,
                                                                        const Lead& after, const std::string& claim_sid,
                                                                        std::int64_t orphans_consumed) {
  std::vector<std::string> keys{key("lead", after.id), key("status", to_string(before.lead.status)),
                                key("status", to_string(after.status)),
                                claim_sid.empty() ? key("sid", "-") : key("sid", claim_sid),
                                claim_sid.empty() ? key("orphans", "-") : key("orphans", claim_sid)};
  std::vector<std::string> arguments{std::to_string(before.version), json::serialize(to_json(after)), after.id,
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
      json::serialize(to_json(lead)),
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

awaitable<std::variant<Reply, StoreError>> RedisLeadStore::resolve(redis::Connection& redis, std::string_view sid_key,
                                                                   std::string_view orphans_key,
                                                                   std::string_view record) {
  Home* home = nullptr;
  for (auto& candidate : homes_)
    if (candidate.connection.get() == &redis) home = &candidate;
  if (home == nullptr) co_return unavailable("no home for this Redis connection");  // route() always gives one
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::variant<Reply, StoreError>)>(
      [&](auto handler) {
        auto& batch = *home->batch;
        batch.waiting.push_back({sid_key, orphans_key, record, PendingResolve::Resume(std::move(handler))});
        if (batch.send_posted) return;
        batch.send_posted = true;
        // Sent once the loop has run what is ready now: the other requests
        // of this turn join the batch first.
        asio::post(*home->io, [this, home, gone = gone_.token()] {
          if (gone.stopped()) return;
          home->batch->send_posted = false;
          auto waiting = std::move(home->batch->waiting);
          home->batch->waiting.clear();
          for (std::size_t first = 0; first < waiting.size(); first += kMaxResolveBatch) {
            const auto end = std::min(waiting.size(), first + kMaxResolveBatch);
            std::vector<PendingResolve> part(
                std::make_move_iterator(waiting.begin() + static_cast<std::ptrdiff_t>(first)),
                std::make_move_iterator(waiting.begin() + static_cast<std::ptrdiff_t>(end)));
            spawn_task(*home->io, send_resolve(*home->connection, std::move(part)), "Redis store sending a batch");
          }
        });
      },
      asio::use_awaitable);
}

awaitable<void> RedisLeadStore::send_resolve(redis::Connection& redis, std::vector<PendingResolve> events) {
  std::vector<std::string_view> keys;
  std::vector<std::string_view> arguments;
  keys.reserve(2 * events.size());
  arguments.reserve(2 + events.size());
  const std::string lead_key_prefix = options_.key_prefix + "lead:";
  const std::string orphan_wait = std::to_string(options_.orphan_wait.count());
  arguments.push_back(lead_key_prefix);
  arguments.push_back(orphan_wait);
  for (const auto& event : events) {
    keys.push_back(event.sid_key);
    keys.push_back(event.orphans_key);
    arguments.push_back(event.record);
  }
  auto reply = co_await script(redis, resolve_script, keys, arguments);
  // Nothing of this store is touched from here on: it may be gone (a
  // failure posted by its connection's teardown).
  if (auto* error = std::get_if<StoreError>(&reply)) {
    for (auto& event : events) std::move(event.resume)(*error);
    co_return;
  }
  auto& answers = std::get<Reply>(reply);
  if (answers.type != Reply::Type::array || answers.elements.size() != events.size()) {
    for (auto& event : events) std::move(event.resume)(unavailable("unexpected answer from the resolve script"));
    co_return;
  }
  for (std::size_t index = 0; index < events.size(); ++index)
    std::move(events[index].resume)(std::move(answers.elements[index]));
}

awaitable<StoreResult<ApplyResult>> RedisLeadStore::do_apply_event(redis::Connection& redis, CallEvent event,
                                                                   WallTime received) {
  const std::string sid_key = key("sid", event.call_sid);
  const std::string orphans_key = key("orphans", event.call_sid);
  // An event that names its lead may be the one that tells a lost placement
  // answer's call sid: it is not kept as an orphan before that is looked at.
  const std::string record = event.lead_id.empty() ? received_event_record(event, received) : std::string();
  for (int round = 0; round < kMaxRetries; ++round) {
    auto resolved = co_await resolve(redis, sid_key, orphans_key, record);
    if (auto* error = std::get_if<StoreError>(&resolved)) co_return *error;
    const auto& answer = std::get<Reply>(resolved);
    if (answer.type == Reply::Type::integer && answer.integer == 1)
      co_return ApplyResult{EventOutcome::unknown_call, {}};

    std::string lead_id;
    std::string claim_sid;
    std::int64_t consumed = -1;
    std::optional<Stored> found;
    if (answer.type == Reply::Type::array && answer.elements.size() == 3) {
      lead_id = answer.elements[0].text;
      auto stored = stored_lead(lead_id, answer.elements[1], answer.elements[2]);
      if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
      found = std::move(std::get<Stored>(stored));
    } else if (answer.type != Reply::Type::integer) {
      co_return unavailable("unexpected answer from the resolve script");
    } else {
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
      if (lead_id.empty()) {
        const std::array<std::string_view, 2> orphan_keys{sid_key, orphans_key};
        const std::string named_record = received_event_record(event, received);
        const std::string orphan_wait = std::to_string(options_.orphan_wait.count());
        const std::array<std::string_view, 2> orphan_arguments{named_record, orphan_wait};
        auto kept = co_await script(redis, orphan_script, orphan_keys, orphan_arguments);
        if (auto* error = std::get_if<StoreError>(&kept)) co_return *error;
        if (std::get<Reply>(kept).type == Reply::Type::string) continue;  // the sid found its lead meanwhile
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
    auto written = co_await write(redis, before, after, claim_sid, consumed);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    if (std::get<std::int64_t>(written) == 1) co_return ApplyResult{outcome, lead_id};
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
