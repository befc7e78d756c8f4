#include "core/dialer/redis_dial_scheduler.hpp"

#include "core/dialer/dial_job_json.hpp"
#include "core/dialer/pacer.hpp"
#include "core/lead/lead_json.hpp"
#include "core/log.hpp"
#include "core/redis/redis_script.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace callgate::dialer {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using redis::Reply;

namespace {

// KEYS: job, due, flight. ARGV: lead, job json, due (ms).
// 1: in place; 0: the lead's job is claimed (its worker decides what is next).
const redis::Script schedule_script{R"lua(
local claim = redis.call('HGET', KEYS[1], 'claim')
if claim and claim ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'job', ARGV[2], 'claim', '0', 'lease', '0')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
)lua"};

// KEYS: job, flight, claims. ARGV: lead, job json, lease end (ms).
// The claim, or 0 when the lead has a job already (nothing changes).
const redis::Script schedule_claimed_script{R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local claim = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'job', ARGV[2], 'claim', claim, 'lease', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return claim
)lua"};

// KEYS: due, flight, claims. ARGV: now (ms), limit, lease end (ms), job key prefix.
// Claims the earliest due jobs (waiting ones due, claimed ones whose lease
// ran out) and returns {{job json, claim, reclaimed}...}, then what the
// caller shows and sleeps by: the earliest due and lease end, the count due
// now, waiting in all, claimed in all, claimed with the lease run out.
const redis::Script claim_script{R"lua(
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local waiting = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
local picks = {}
local i, j = 1, 1
while #picks < limit and (i <= #waiting or j <= #expired) do
  if j > #expired or (i <= #waiting and tonumber(waiting[i + 1]) <= tonumber(expired[j + 1])) then
    picks[#picks + 1] = {waiting[i], 0}
    i = i + 2
  else
    picks[#picks + 1] = {expired[j], 1}
    j = j + 2
  end
end
local claimed = {}
for _, pick in ipairs(picks) do
  local lead = pick[1]
  local key = ARGV[4] .. lead
  local job = redis.call('HGET', key, 'job')
  redis.call('ZREM', KEYS[1], lead)
  if job then
    local claim = redis.call('INCR', KEYS[3])
    redis.call('HSET', key, 'claim', claim, 'lease', ARGV[3])
    redis.call('ZADD', KEYS[2], ARGV[3], lead)
    claimed[#claimed + 1] = {job, claim, pick[2]}
  else
    redis.call('ZREM', KEYS[2], lead)
  end
end
local first_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local first_lease = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {claimed, first_due[2] or '', first_lease[2] or '',
        redis.call('ZCOUNT', KEYS[1], '-inf', now), redis.call('ZCARD', KEYS[1]),
        redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], '-inf', now)}
)lua"};

// KEYS: job, due, flight. ARGV: lead, claim, has next (1/0), next json, next due (ms).
// 1: done; 0: the claim is no longer the lead's.
const redis::Script complete_script{R"lua(
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'job', ARGV[4], 'claim', '0', 'lease', '0')
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
)lua"};

// KEYS: calls. ARGV: cap, seconds to keep the count. 1: taken; 0: the cap is reached.
const redis::Script take_call_script{R"lua(
local taken = tonumber(redis.call('GET', KEYS[1]) or '0')
if taken >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
)lua"};

// KEYS: calls. 1: one given back; 0: none was taken.
const redis::Script give_back_script{R"lua(
local taken = tonumber(redis.call('GET', KEYS[1]) or '0')
if taken <= 0 then return 0 end
redis.call('DECR', KEYS[1])
return 1
)lua"};

// KEYS: pace. ARGV: now (µs), interval (µs). The slot reserved (µs); the
// key lives as long as it matters. (pacer.cpp does the same in memory.)
const redis::Script reserve_slot_script{R"lua(
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(free, now)
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', math.floor((slot + interval - now) / 1000) + 60000)
return slot
)lua"};

// KEYS: job. The job's json, or nil.
const redis::Script read_script{R"lua(
return redis.call('HGET', KEYS[1], 'job')
)lua"};

const redis::Script* const kScripts[] = {&schedule_script,  &claim_script,           &complete_script,
                                         &take_call_script, &give_back_script,       &reserve_slot_script,
                                         &read_script,      &schedule_claimed_script};
enum ScriptIndex {
  schedule_index,
  claim_index,
  complete_index,
  take_call_index,
  give_back_index,
  reserve_index,
  read_index,
  schedule_claimed_index
};

constexpr int kCallCountSeconds = 3 * 86'400;  // a day in any zone, and the day before

store::StoreError unavailable(std::string message) { return {store::StoreFailure::unavailable, std::move(message)}; }
store::StoreError malformed(std::string_view what) {
  return unavailable("Redis answered the dialer's " + std::string(what) + " with something unexpected");
}

std::int64_t to_ms(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}
std::int64_t to_us(WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

// A sorted-set score as Redis prints it ("1790000010000"); nothing when empty or not a number.
std::optional<std::int64_t> score(const Reply& reply) {
  if (reply.type != Reply::Type::string || reply.text.empty()) return std::nullopt;
  double value = 0;
  const auto* end = reply.text.data() + reply.text.size();
  const auto [stop, error] = std::from_chars(reply.text.data(), end, value);
  if (error != std::errc{} || stop != end) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::optional<DialJob> parse_job(const std::string& text) {
  boost::system::error_code error;
  const auto value = parse_stored_json(text, error);
  if (error) return std::nullopt;
  return job_from_json(&value);
}

}  // namespace

RedisDialScheduler::RedisDialScheduler(asio::io_context& home, RedisSchedulerOptions options)
    : home_(home), options_(std::move(options)) {
  auto load = [](redis::Connection& connection) { return redis::load_scripts(connection, kScripts); };
  connection_ = std::make_unique<redis::Connection>(home_, options_.connection, load);
}

RedisDialScheduler::~RedisDialScheduler() = default;

void RedisDialScheduler::start() {
  asio::post(home_, [connection = connection_.get()] { connection->start(); });
}

bool RedisDialScheduler::connected() const { return connection_->connected(); }

std::optional<std::string> RedisDialScheduler::problem() const {
  if (!connection_->connected()) return "Redis (the dial scheduler's connection) is not connected";
  return std::nullopt;
}

std::string RedisDialScheduler::key(std::string_view name) const {
  std::string full = options_.key_prefix;
  full.append(name);
  return full;
}

awaitable<std::variant<Reply, store::StoreError>> RedisDialScheduler::on_home(int which, std::vector<std::string> keys,
                                                                              std::vector<std::string> arguments) {
  auto reply = co_await redis::run_script(*connection_, *kScripts[which], std::move(keys), std::move(arguments));
  if (auto* failure = std::get_if<redis::Failure>(&reply)) co_return unavailable(failure->message);
  if (std::get<Reply>(reply).is_error()) co_return unavailable("Redis: " + std::get<Reply>(reply).text);
  co_return std::move(std::get<Reply>(reply));
}

awaitable<std::variant<Reply, store::StoreError>> RedisDialScheduler::script(int which, std::vector<std::string> keys,
                                                                             std::vector<std::string> arguments) {
  auto executor = co_await asio::this_coro::executor;
  if (&asio::query(executor, asio::execution::context) == &home_)
    co_return co_await on_home(which, std::move(keys), std::move(arguments));
  co_return co_await asio::co_spawn(home_, on_home(which, std::move(keys), std::move(arguments)), asio::use_awaitable);
}

awaitable<store::StoreResult<bool>> RedisDialScheduler::schedule(DialJob job) {
  const std::string lead_id = job.lead_id;
  std::vector<std::string> keys{key("dial:job:" + lead_id), key("dial:due"), key("dial:flight")};
  std::vector<std::string> arguments{lead_id, json::serialize(job_json(job)), std::to_string(to_ms(job.due))};
  auto reply = co_await script(schedule_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  if (std::get<Reply>(reply).integer == 0)
    co_return store::StoreError{store::StoreFailure::conflict, "lead " + lead_id + " has a dial in progress"};
  co_return true;
}

awaitable<store::StoreResult<std::optional<ClaimedJob>>> RedisDialScheduler::schedule_claimed(
    DialJob job, WallTime now, std::chrono::milliseconds lease) {
  const auto lease_until = from_ms(to_ms(now + lease));
  const std::string lead_id = job.lead_id;
  std::vector<std::string> keys{key("dial:job:" + lead_id), key("dial:flight"), key("dial:claims")};
  std::vector<std::string> arguments{lead_id, json::serialize(job_json(job)), std::to_string(to_ms(lease_until))};
  auto reply = co_await script(schedule_claimed_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  std::optional<ClaimedJob> claimed;
  if (const auto claim = std::get<Reply>(reply).integer; claim > 0)
    claimed = ClaimedJob{std::move(job), static_cast<std::uint64_t>(claim), lease_until, false};
  co_return claimed;
}

awaitable<store::StoreResult<std::vector<ClaimedJob>>> RedisDialScheduler::claim_due(WallTime now, std::size_t limit,
                                                                                     std::chrono::milliseconds lease) {
  const auto lease_until = from_ms(to_ms(now + lease));
  std::vector<std::string> keys{key("dial:due"), key("dial:flight"), key("dial:claims")};
  std::vector<std::string> arguments{std::to_string(to_ms(now)), std::to_string(limit),
                                     std::to_string(to_ms(lease_until)), key("dial:job:")};
  auto reply = co_await script(claim_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  const auto& answer = std::get<Reply>(reply);
  if (answer.type != Reply::Type::array || answer.elements.size() != 7 || answer.elements[0].type != Reply::Type::array)
    co_return malformed("claim");
  std::vector<ClaimedJob> claimed;
  for (const auto& entry : answer.elements[0].elements) {
    if (entry.type != Reply::Type::array || entry.elements.size() != 3) co_return malformed("claim");
    auto job = parse_job(entry.elements[0].text);
    if (!job) {
      // A job hash written by something else (a hand edit, another
      // version): left claimed, so it comes back only once its lease ends,
      // and reported; the batch's other jobs go on.
      LogLine(LogLevel::error, "dial_job_unreadable")
          .text("job", entry.elements[0].text.substr(0, 200))
          .trusted_text("detail", "a dial job in Redis does not parse; it is skipped until its lease ends");
      continue;
    }
    claimed.push_back({std::move(*job), static_cast<std::uint64_t>(entry.elements[1].integer), lease_until,
                       entry.elements[2].integer != 0});
  }
  const auto first_due = score(answer.elements[1]);
  const auto first_lease = score(answer.elements[2]);
  SchedulerCounts seen;
  const auto due_now = static_cast<std::uint64_t>(answer.elements[3].integer);
  const auto expired = static_cast<std::uint64_t>(answer.elements[6].integer);
  seen.due = due_now + expired;
  seen.waiting = static_cast<std::uint64_t>(answer.elements[4].integer) - due_now;
  seen.in_flight = static_cast<std::uint64_t>(answer.elements[5].integer) - expired;
  {
    std::lock_guard lock(seen_mutex_);
    counts_ = seen;
    next_wake_.reset();
    if (first_due) next_wake_ = from_ms(*first_due);
    if (first_lease && (!next_wake_ || from_ms(*first_lease) < *next_wake_)) next_wake_ = from_ms(*first_lease);
  }
  co_return claimed;
}

awaitable<store::StoreResult<bool>> RedisDialScheduler::complete(ClaimedJob claimed, std::optional<DialJob> next) {
  const std::string lead_id = claimed.job.lead_id;
  std::vector<std::string> keys{key("dial:job:" + lead_id), key("dial:due"), key("dial:flight")};
  std::vector<std::string> arguments{lead_id, std::to_string(claimed.claim), next ? "1" : "0", "", ""};
  if (next) {
    next->lead_id = lead_id;
    arguments[3] = json::serialize(job_json(*next));
    arguments[4] = std::to_string(to_ms(next->due));
  }
  auto reply = co_await script(complete_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  if (next) {
    // The next job may be earlier than what the loop sleeps for.
    std::lock_guard lock(seen_mutex_);
    if (!next_wake_ || next->due < *next_wake_) next_wake_ = next->due;
  }
  co_return std::get<Reply>(reply).integer == 1;
}

awaitable<store::StoreResult<bool>> RedisDialScheduler::take_call(std::string number, CivilDate day, int cap) {
  std::vector<std::string> keys{key("dial:calls:" + number + ":" + format_civil_date(day))};
  std::vector<std::string> arguments{std::to_string(cap), std::to_string(kCallCountSeconds)};
  auto reply = co_await script(take_call_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  co_return std::get<Reply>(reply).integer == 1;
}

awaitable<store::StoreResult<bool>> RedisDialScheduler::give_back_call(std::string number, CivilDate day) {
  std::vector<std::string> keys{key("dial:calls:" + number + ":" + format_civil_date(day))};
  auto reply = co_await script(give_back_index, std::move(keys), {});
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  co_return std::get<Reply>(reply).integer == 1;
}

awaitable<store::StoreResult<WallTime>> RedisDialScheduler::reserve_slot(std::string account, WallTime now,
                                                                         unsigned calls_per_minute) {
  if (calls_per_minute == 0) co_return now;
  std::vector<std::string> keys{key("dial:pace:" + account)};
  std::vector<std::string> arguments{std::to_string(to_us(now)),
                                     std::to_string(pacing_interval(calls_per_minute).count())};
  auto reply = co_await script(reserve_index, std::move(keys), std::move(arguments));
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  if (std::get<Reply>(reply).type != Reply::Type::integer) co_return malformed("pacing slot");
  const auto slot = WallTime(
      std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(std::get<Reply>(reply).integer)));
  co_return std::max(slot, now);
}

awaitable<store::StoreResult<std::optional<DialJob>>> RedisDialScheduler::job_for(std::string lead_id) {
  std::vector<std::string> keys{key("dial:job:" + lead_id)};
  auto reply = co_await script(read_index, std::move(keys), {});
  if (auto* error = std::get_if<store::StoreError>(&reply)) co_return *error;
  const auto& answer = std::get<Reply>(reply);
  if (answer.type == Reply::Type::nil) co_return std::optional<DialJob>();
  auto job = parse_job(answer.text);
  if (!job) co_return malformed("job lookup");
  co_return std::optional<DialJob>(std::move(*job));
}

std::optional<WallTime> RedisDialScheduler::next_wake() const {
  std::lock_guard lock(seen_mutex_);
  return next_wake_;
}

SchedulerCounts RedisDialScheduler::counts(WallTime) const {
  std::lock_guard lock(seen_mutex_);
  return counts_;
}

}  // namespace callgate::dialer
