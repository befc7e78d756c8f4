#include "aws/dynamodb_dial_scheduler.hpp"

#include "core/dialer/pacer.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace callgate::aws {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using dialer::ClaimedJob;
using dialer::DialJob;
using store::StoreError;
using store::StoreResult;

namespace {

constexpr auto kCallCountLifetime = std::chrono::hours(72);  // a day in any zone, and the day before

StoreError failure(std::string_view operation, const DynamoAnswer& answer) {
  return dynamo_error(operation, answer, " (dial jobs)");
}

const json::object* item_of(const DynamoAnswer& answer, std::string_view field) {
  const auto* body = answer.body.if_object();
  const auto* item = body ? body->if_contains(field) : nullptr;
  return item ? item->if_object() : nullptr;
}

std::int64_t epoch_microseconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

WallTime from_epoch_microseconds(std::int64_t microseconds) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::microseconds(microseconds)));
}

// The time a due key starts with.
std::optional<WallTime> due_time_of(std::string_view key) {
  const auto hash = key.find('#');
  if (hash == std::string_view::npos) return std::nullopt;
  std::int64_t milliseconds = 0;
  for (const char c : key.substr(0, hash)) {
    if (c < '0' || c > '9') return std::nullopt;
    milliseconds = milliseconds * 10 + (c - '0');
  }
  return from_epoch_milliseconds(milliseconds);
}

// A job found due in the index, as it was when read.
struct Seen {
  WallTime when;
  std::string lead_id;
  std::string key;
  std::uint64_t claim = 0;
};

}  // namespace

DynamoDialScheduler::DynamoDialScheduler(asio::io_context& home, DynamoStoreOptions options,
                                         DynamoDbClient::CredentialsSource credentials)
    : home_(home),
      options_(std::move(options)),
      caller_(std::make_unique<DynamoCaller>(home, options_, std::move(credentials), usage_)),
      random_(std::random_device{}()) {}

DynamoDialScheduler::~DynamoDialScheduler() = default;

awaitable<DynamoAnswer> DynamoDialScheduler::call_on_home(std::string operation, json::object body, bool write) {
  body["TableName"] = options_.table;
  co_return co_await caller_->call(std::move(operation), body, write, DynamoWork::dial_jobs);
}

awaitable<DynamoAnswer> DynamoDialScheduler::call(std::string operation, json::object body, bool write) {
  auto executor = co_await asio::this_coro::executor;
  if (&asio::query(executor, asio::execution::context) == &home_)
    co_return co_await call_on_home(std::move(operation), std::move(body), write);
  co_return co_await asio::co_spawn(home_, call_on_home(std::move(operation), std::move(body), write),
                                    asio::use_awaitable);
}

std::uint64_t DynamoDialScheduler::new_claim() {
  std::lock_guard lock(mutex_);
  // Random, not counted: no shared counter to write per claim. 62 bits
  // make two claims of one job alike with odds no dialer will meet.
  return (random_() >> 2) | 1u;
}

void DynamoDialScheduler::job_written(WallTime due) {
  std::lock_guard lock(mutex_);
  if (!next_wake_ || due < *next_wake_) next_wake_ = due;
}

awaitable<StoreResult<bool>> DynamoDialScheduler::schedule(DialJob job) {
  const auto lead_id = job.lead_id;
  json::object request{{"Item", job_item(job, 0, WallTime{})},
                       {"ConditionExpression", "attribute_not_exists(pk) OR claim = :waiting"},
                       {"ExpressionAttributeValues", {{":waiting", number_value(0)}}}};
  auto answer = co_await call("PutItem", std::move(request), true);
  if (answer.outcome == DynamoOutcome::condition_failed)
    co_return StoreError{store::StoreFailure::conflict, "lead " + lead_id + " has a dial in progress"};
  if (answer.outcome != DynamoOutcome::ok) co_return failure("PutItem", answer);
  job_written(job.due);
  co_return true;
}

awaitable<StoreResult<std::optional<ClaimedJob>>> DynamoDialScheduler::schedule_claimed(
    DialJob job, WallTime now, std::chrono::milliseconds lease) {
  const auto lease_until = from_epoch_milliseconds(epoch_milliseconds(now + lease));
  const auto claim = new_claim();
  json::object request{{"Item", job_item(job, claim, lease_until)},
                       {"ConditionExpression", "attribute_not_exists(pk)"},
                       {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
  auto answer = co_await call("PutItem", std::move(request), true);
  std::optional<ClaimedJob> claimed;
  if (answer.outcome == DynamoOutcome::ok) {
    claimed = ClaimedJob{std::move(job), claim, lease_until, false};
  } else if (answer.outcome == DynamoOutcome::condition_failed) {
    // The job there may be this one, put by an earlier try whose answer was lost.
    const auto* old = item_of(answer, "Item");
    const auto stored = old ? job_from_item(*old) : std::nullopt;
    if (stored && stored->claim == claim) claimed = ClaimedJob{std::move(job), claim, lease_until, false};
  } else {
    co_return failure("PutItem", answer);
  }
  co_return claimed;
}

awaitable<StoreResult<std::vector<ClaimedJob>>> DynamoDialScheduler::claim_due(WallTime now, std::size_t limit,
                                                                               std::chrono::milliseconds lease) {
  // Every bucket's earliest jobs, due or not (the first not due tells when to wake).
  std::vector<Seen> seen;
  dialer::SchedulerCounts counts;
  for (int bucket = 0; bucket < kDueBuckets; ++bucket) {
    json::object request{{"IndexName", kDueIndex},
                         {"KeyConditionExpression", "due_bucket = :bucket"},
                         {"ExpressionAttributeValues", {{":bucket", string_value("due#" + std::to_string(bucket))}}},
                         {"Limit", kCountedPerBucket}};
    auto answer = co_await call("Query", std::move(request), false);
    if (answer.outcome != DynamoOutcome::ok) co_return failure("Query", answer);
    const auto* items = answer.body.as_object().if_contains("Items");
    if (!items || !items->is_array()) continue;
    for (const auto& value : items->as_array()) {
      const auto* item = value.if_object();
      if (!item) continue;
      auto key = string_of(*item, "due_key");
      const auto pk = string_of(*item, "pk");
      const auto claim = number_of(*item, "claim");
      const auto when = key ? due_time_of(*key) : std::nullopt;
      if (!when || !pk || !pk->starts_with("job#") || !claim) continue;
      const bool claimed = *claim != 0;
      if (*when <= now)
        ++counts.due;
      else if (claimed)
        ++counts.in_flight;
      else
        ++counts.waiting;
      seen.push_back({*when, pk->substr(4), std::move(*key), static_cast<std::uint64_t>(*claim)});
    }
  }
  std::sort(seen.begin(), seen.end(), [](const Seen& a, const Seen& b) { return a.key < b.key; });

  const auto lease_until = from_epoch_milliseconds(epoch_milliseconds(now + lease));
  std::vector<ClaimedJob> claimed;
  std::optional<WallTime> next_wake;
  for (const auto& job : seen) {
    if (job.when > now || claimed.size() == limit) {
      if (!next_wake || job.when < *next_wake) next_wake = job.when;
      continue;
    }
    const auto claim = new_claim();
    json::object request{{"Key", item_key(job_pk(job.lead_id), "job")},
                         {"UpdateExpression", "SET claim = :claim, lease = :lease, due_key = :key"},
                         {"ConditionExpression", "due_key = :seen_key AND claim = :seen_claim"},
                         {"ExpressionAttributeValues",
                          {{":claim", number_value(static_cast<std::int64_t>(claim))},
                           {":lease", number_value(epoch_milliseconds(lease_until))},
                           {":key", string_value(due_key(lease_until, job.lead_id))},
                           {":seen_key", string_value(job.key)},
                           {":seen_claim", number_value(static_cast<std::int64_t>(job.claim))}}},
                         {"ReturnValues", "ALL_NEW"}};
    auto answer = co_await call("UpdateItem", std::move(request), true);
    if (answer.outcome == DynamoOutcome::condition_failed) continue;  // another host took it, or it moved
    if (answer.outcome != DynamoOutcome::ok) co_return failure("UpdateItem", answer);
    const auto* item = item_of(answer, "Attributes");
    auto stored = item ? job_from_item(*item) : std::nullopt;
    if (!stored) {
      // Written by something else (a hand edit, another version): left
      // claimed, so it comes back only once its lease ends, and reported.
      LogLine(LogLevel::error, "dial_job_unreadable")
          .text("lead", job.lead_id)
          .trusted_text("detail", "a dial job in DynamoDB does not read; it is skipped until its lease ends");
      continue;
    }
    --counts.due;
    ++counts.in_flight;
    if (!next_wake || lease_until < *next_wake) next_wake = lease_until;
    claimed.push_back({std::move(stored->job), claim, lease_until, job.claim != 0});
  }
  std::lock_guard lock(mutex_);
  counts_ = counts;
  next_wake_ = next_wake;
  co_return claimed;
}

awaitable<StoreResult<bool>> DynamoDialScheduler::complete(ClaimedJob claimed, std::optional<DialJob> next) {
  const auto lead_id = claimed.job.lead_id;
  const auto claim_value = number_value(static_cast<std::int64_t>(claimed.claim));
  DynamoAnswer answer;
  if (next) {
    next->lead_id = lead_id;
    json::object request{{"Item", job_item(*next, 0, WallTime{})},
                         {"ConditionExpression", "claim = :claim"},
                         {"ExpressionAttributeValues", {{":claim", claim_value}}},
                         {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
    answer = co_await call("PutItem", std::move(request), true);
  } else {
    json::object request{{"Key", item_key(job_pk(lead_id), "job")},
                         {"ConditionExpression", "claim = :claim"},
                         {"ExpressionAttributeValues", {{":claim", claim_value}}},
                         {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
    answer = co_await call("DeleteItem", std::move(request), true);
  }
  if (answer.outcome != DynamoOutcome::ok && answer.outcome != DynamoOutcome::condition_failed)
    co_return failure(next ? "PutItem" : "DeleteItem", answer);
  bool done = answer.outcome == DynamoOutcome::ok;
  if (!done && answer.tries > 1) {
    // An earlier try may have landed: then what is there is the next job
    // as this put it, or nothing.
    const auto* old = item_of(answer, "Item");
    const auto stored = old ? job_from_item(*old) : std::nullopt;
    done = next ? (stored && stored->claim == 0 && stored->job == *next) : old == nullptr;
  }
  if (done && next) {
    std::lock_guard lock(mutex_);
    if (!next_wake_ || next->due < *next_wake_) next_wake_ = next->due;
  }
  co_return done;
}

awaitable<StoreResult<bool>> DynamoDialScheduler::take_call(std::string number, CivilDate day, int cap) {
  json::object request{{"Key", item_key("calls#" + number + "#" + format_civil_date(day), "calls")},
                       {"UpdateExpression", "ADD #n :one SET expires_at = :expires"},
                       {"ConditionExpression", "attribute_not_exists(#n) OR #n < :cap"},
                       {"ExpressionAttributeNames", {{"#n", "n"}}},
                       {"ExpressionAttributeValues",
                        {{":one", number_value(1)},
                         {":cap", number_value(cap)},
                         {":expires", number_value(epoch_seconds(WallClock::now() + kCallCountLifetime))}}}};
  auto answer = co_await call("UpdateItem", std::move(request), true);
  if (answer.outcome == DynamoOutcome::condition_failed) co_return false;
  if (answer.outcome != DynamoOutcome::ok) co_return failure("UpdateItem", answer);
  co_return true;
}

awaitable<StoreResult<bool>> DynamoDialScheduler::give_back_call(std::string number, CivilDate day) {
  json::object request{{"Key", item_key("calls#" + number + "#" + format_civil_date(day), "calls")},
                       {"UpdateExpression", "ADD #n :minus"},
                       {"ConditionExpression", "#n > :zero"},
                       {"ExpressionAttributeNames", {{"#n", "n"}}},
                       {"ExpressionAttributeValues", {{":minus", number_value(-1)}, {":zero", number_value(0)}}}};
  auto answer = co_await call("UpdateItem", std::move(request), true);
  if (answer.outcome == DynamoOutcome::condition_failed) co_return false;
  if (answer.outcome != DynamoOutcome::ok) co_return failure("UpdateItem", answer);
  co_return true;
}

awaitable<StoreResult<WallTime>> DynamoDialScheduler::reserve_slot(std::string account, WallTime now,
                                                                   unsigned calls_per_minute) {
  if (calls_per_minute == 0) co_return now;
  const auto interval = dialer::pacing_interval(calls_per_minute).count();
  const auto key = item_key("pace#" + account, "pace");
  // First try: the account is free now. Else the slot after the one seen,
  // conditional on nobody taking it first.
  std::int64_t slot = epoch_microseconds(now);
  json::object request{
      {"Key", key},
      {"UpdateExpression", "SET #next = :after"},
      {"ConditionExpression", "attribute_not_exists(#next) OR #next <= :slot"},
      {"ExpressionAttributeNames", {{"#next", "next"}}},
      {"ExpressionAttributeValues", {{":after", number_value(slot + interval)}, {":slot", number_value(slot)}}},
      {"ReturnValuesOnConditionCheckFailure", "ALL_OLD"}};
  for (int round = 0; round < 32; ++round) {
    auto answer = co_await call("UpdateItem", request, true);
    if (answer.outcome == DynamoOutcome::ok) co_return std::max(from_epoch_microseconds(slot), now);
    if (answer.outcome != DynamoOutcome::condition_failed) co_return failure("UpdateItem", answer);
    const auto* old = item_of(answer, "Item");
    const auto taken_until = old ? number_of(*old, "next") : std::nullopt;
    if (!taken_until) continue;
    slot = std::max(*taken_until, epoch_microseconds(now));
    request["ConditionExpression"] = "#next = :seen";
    request["ExpressionAttributeValues"] =
        json::object{{":after", number_value(slot + interval)}, {":seen", number_value(*taken_until)}};
  }
  co_return StoreError{store::StoreFailure::unavailable, "too much contention for pacing slots of " + account};
}

awaitable<StoreResult<std::optional<DialJob>>> DynamoDialScheduler::job_for(std::string lead_id) {
  json::object request{{"Key", item_key(job_pk(lead_id), "job")}, {"ConsistentRead", true}};
  auto answer = co_await call("GetItem", std::move(request), false);
  if (answer.outcome != DynamoOutcome::ok) co_return failure("GetItem", answer);
  const auto* item = item_of(answer, "Item");
  if (!item) co_return std::optional<DialJob>();
  auto stored = job_from_item(*item);
  if (!stored)
    co_return StoreError{store::StoreFailure::unavailable, "the dial job of lead " + lead_id + " does not read"};
  co_return std::optional<DialJob>(std::move(stored->job));
}

std::optional<WallTime> DynamoDialScheduler::next_wake() const {
  std::lock_guard lock(mutex_);
  return next_wake_;
}

dialer::SchedulerCounts DynamoDialScheduler::counts(WallTime) const {
  std::lock_guard lock(mutex_);
  return counts_;
}

awaitable<StoreResult<dialer::LeadsWithFirstJobs::Stored>> DynamoLeadsWithFirstJobs::create_with_first_job(
    store::CreateRequest request, DialJob job, WallTime now, std::optional<std::chrono::milliseconds> lease) {
  // Claimed: due again (to another host) when the lease ends, as schedule_claimed writes it.
  const auto claim = lease ? jobs_.new_claim() : 0;
  const auto lease_until = lease ? from_epoch_milliseconds(epoch_milliseconds(now + *lease)) : WallTime{};
  auto created = co_await leads_.create_with(std::move(request), job_item(job, claim, lease_until));
  if (auto* error = std::get_if<StoreError>(&created)) co_return *error;
  Stored stored{std::move(std::get<store::CreateResult>(created)), std::nullopt};
  if (!stored.lead.created) co_return stored;
  if (lease)
    stored.claimed = ClaimedJob{std::move(job), claim, lease_until, false};
  else
    jobs_.job_written(job.due);
  co_return stored;
}

}  // namespace callgate::aws
