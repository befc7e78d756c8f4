#include "aws/dynamodb_lead_store.hpp"

#include "core/crypto.hpp"
#include "core/lead/lead_id.hpp"
#include "core/lead/lead_json.hpp"
#include "core/lead/lead_state_machine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace callgate::aws {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using store::StoreError;
using store::StoreFailure;
using store::StoreResult;

namespace {

// Rounds of read, change, conditional write before giving up on a lead
// that other writers keep changing first.
constexpr int kMaxRounds = 32;

StoreError unavailable(std::string message) { return {StoreFailure::unavailable, std::move(message)}; }

StoreError answer_error(std::string_view operation, const DynamoAnswer& answer) {
  return dynamo_error(operation, answer);
}

bool is_answer(DynamoOutcome outcome) {
  return outcome == DynamoOutcome::ok || outcome == DynamoOutcome::condition_failed ||
         outcome == DynamoOutcome::transaction_canceled;
}

double capacity_of(const json::value& consumed, std::string_view field) {
  const auto* object = consumed.if_object();
  const auto* units = object ? object->if_contains(field) : nullptr;
  return units && units->is_number() ? units->to_number<double>() : 0.0;
}

// A transaction's reason for item index, "" when it has none.
std::string_view reason_at(const DynamoAnswer& answer, std::size_t index) {
  return index < answer.cancellation_reasons.size() ? std::string_view(answer.cancellation_reasons[index])
                                                    : std::string_view();
}

json::object values(std::initializer_list<std::pair<std::string_view, json::value>> entries) {
  json::object object;
  for (const auto& [name, value] : entries) object[name] = value;
  return object;
}

}  // namespace

StoreError dynamo_error(std::string_view operation, const DynamoAnswer& answer, std::string_view context) {
  std::string message = "DynamoDB ";
  message.append(operation);
  message.append(context);
  message.append(": ");
  if (!answer.error_type.empty()) {
    message.append(answer.error_type);
    message.append(": ");
  }
  message.append(answer.message);
  return unavailable(std::move(message));
}

void DynamoUsage::answered() {
  std::lock_guard lock(mutex_);
  problem_.clear();
}

void DynamoUsage::failed(std::string why) {
  failures.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  problem_ = std::move(why);
}

std::optional<std::string> DynamoUsage::problem() const {
  std::lock_guard lock(mutex_);
  if (problem_.empty()) return std::nullopt;
  return problem_;
}

std::string_view to_string(DynamoWork work) {
  switch (work) {
    case DynamoWork::enquiry:
      return "enquiry";
    case DynamoWork::status_callback:
      return "status_callback";
    case DynamoWork::call_placed:
      return "call_placed";
    case DynamoWork::call_flow_input:
      return "call_flow_input";
    case DynamoWork::lead_read:
      return "lead_read";
    case DynamoWork::dial_jobs:
      return "dial_jobs";
    case DynamoWork::voice:
      return "voice";
  }
  return "unknown";
}

void count_usage(DynamoUsage& usage, const DynamoAnswer& answer, bool write, DynamoWork work) {
  auto& for_work = usage.by_work[static_cast<std::size_t>(work)];
  usage.requests.fetch_add(1, std::memory_order_relaxed);
  for_work.requests.fetch_add(1, std::memory_order_relaxed);
  if (write) {
    usage.write_requests.fetch_add(1, std::memory_order_relaxed);
    for_work.write_requests.fetch_add(1, std::memory_order_relaxed);
  }
  if (answer.tries > 1) usage.retries.fetch_add(answer.tries - 1, std::memory_order_relaxed);
  const auto* body = answer.body.if_object();
  const auto* consumed = body ? body->if_contains("ConsumedCapacity") : nullptr;
  if (!consumed) return;
  double read_units = 0;
  double write_units = 0;
  auto add = [&](const json::value& entry) {
    const double total = capacity_of(entry, "CapacityUnits");
    const double reads = capacity_of(entry, "ReadCapacityUnits");
    const double writes = capacity_of(entry, "WriteCapacityUnits");
    if (reads > 0 || writes > 0) {
      read_units += reads;
      write_units += writes;
    } else if (write) {
      write_units += total;
    } else {
      read_units += total;
    }
  };
  if (consumed->is_array())
    for (const auto& entry : consumed->as_array()) add(entry);
  else
    add(*consumed);
  usage.read_capacity_milli.fetch_add(static_cast<std::int64_t>(read_units * 1000 + 0.5), std::memory_order_relaxed);
  const auto write_milli = static_cast<std::int64_t>(write_units * 1000 + 0.5);
  usage.write_capacity_milli.fetch_add(write_milli, std::memory_order_relaxed);
  for_work.write_capacity_milli.fetch_add(write_milli, std::memory_order_relaxed);
}

DynamoCaller::DynamoCaller(asio::io_context& io, const DynamoStoreOptions& options,
                           DynamoDbClient::CredentialsSource credentials, DynamoUsage& usage)
    : http_(std::make_unique<http::HttpClient>(io, options.http)),
      client_(std::make_unique<DynamoDbClient>(*http_, options.endpoint, std::move(credentials), options.retry)),
      timeout_(options.operation_timeout),
      usage_(usage) {}

awaitable<DynamoAnswer> DynamoCaller::call(std::string operation, const json::object& body, bool write,
                                           DynamoWork work) {
  json::object sent = body;
  sent["ReturnConsumedCapacity"] = "TOTAL";
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto answer = co_await client_->call(operation, json::serialize(sent), deadline);
  count_usage(usage_, answer, write, work);
  // A write its condition refused is charged as if it were made.
  if (write && (answer.outcome == DynamoOutcome::ok || answer.outcome == DynamoOutcome::condition_failed)) {
    const auto milli = static_cast<std::int64_t>(estimated_write_units(operation, body) * 1000);
    usage_.estimated_write_milli.fetch_add(milli, std::memory_order_relaxed);
    usage_.by_work[static_cast<std::size_t>(work)].estimated_write_milli.fetch_add(milli, std::memory_order_relaxed);
  }
  if (is_answer(answer.outcome))
    usage_.answered();
  else if (answer.outcome != DynamoOutcome::failed || answer.status == 0 || answer.status >= 500)
    usage_.failed("DynamoDB did not answer: " + answer.message);
  co_return answer;
}

struct DynamoLeadStore::Orphans {
  bool exists = false;
  std::size_t count = 0;  // as stored, unreadable ones included: the write is conditional on it
  std::vector<std::pair<CallEvent, WallTime>> events;
};

DynamoLeadStore::DynamoLeadStore(std::vector<asio::io_context*> homes, DynamoStoreOptions options,
                                 DynamoDbClient::CredentialsSource credentials)
    : options_(std::move(options)), recent_(options_.recent_leads, options_.recent_lead_max_events) {
  for (auto* io : homes) homes_.push_back({io, std::make_unique<DynamoCaller>(*io, options_, credentials, usage_)});
}

DynamoLeadStore::~DynamoLeadStore() = default;

std::optional<std::string> DynamoLeadStore::problem() const { return usage_.problem(); }

std::vector<std::pair<asio::io_context*, http::HttpClient*>> DynamoLeadStore::clients() const {
  std::vector<std::pair<asio::io_context*, http::HttpClient*>> clients;
  for (const auto& home : homes_) clients.emplace_back(home.io, &home.caller->http());
  return clients;
}

template <class Result, class... Parameters, class... Arguments>
awaitable<Result> DynamoLeadStore::route(DynamoWork work,
                                         awaitable<Result> (DynamoLeadStore::*operation)(DynamoWorkCaller,
                                                                                         Parameters...),
                                         Arguments&&... arguments) {
  auto executor = co_await asio::this_coro::executor;
  auto& context = asio::query(executor, asio::execution::context);
  for (auto& home : homes_)
    if (home.io == &context)
      co_return co_await (this->*operation)(DynamoWorkCaller{*home.caller, work},
                                            std::forward<Arguments>(arguments)...);
  // A caller on a loop of its own (tests, tools): the first home serves it.
  auto& home = homes_.front();
  co_return co_await asio::co_spawn(
      *home.io, (this->*operation)(DynamoWorkCaller{*home.caller, work}, std::forward<Arguments>(arguments)...),
      asio::use_awaitable);
}

awaitable<StoreResult<StoredLead>> DynamoLeadStore::read(DynamoWorkCaller dynamo, const std::string& lead_id) {
  // A read that met a write between two of its pages is read again.
  for (int attempt = 0; attempt < 3; ++attempt) {
    json::array items;
    json::object request{{"TableName", options_.table},
                         {"KeyConditionExpression", "pk = :pk"},
                         {"ExpressionAttributeValues", values({{":pk", string_value(lead_pk(lead_id))}})},
                         {"ConsistentRead", true}};
    for (;;) {
      auto answer = co_await dynamo.call("Query", request, false);
      if (answer.outcome != DynamoOutcome::ok) co_return answer_error("Query", answer);
      const auto& body = answer.body.as_object();
      if (const auto* found = body.if_contains("Items"); found && found->is_array())
        for (auto& item : found->as_array()) items.push_back(item);
      const auto* next = body.if_contains("LastEvaluatedKey");
      if (!next) break;
      request["ExclusiveStartKey"] = *next;
    }
    if (items.empty()) co_return StoreError{StoreFailure::not_found, "no lead " + lead_id};
    if (auto stored = lead_from_items(items)) co_return std::move(*stored);
  }
  co_return unavailable("the stored lead " + lead_id + " does not read");
}

awaitable<StoreResult<StoredLead>> DynamoLeadStore::read_for_change(DynamoWorkCaller dynamo,
                                                                    const std::string& lead_id) {
  if (auto remembered = recent_.find(lead_id)) co_return std::move(*remembered);
  auto stored = co_await read(dynamo, lead_id);
  if (auto* lead = std::get_if<StoredLead>(&stored)) recent_.keep(*lead);
  co_return stored;
}

awaitable<StoreResult<std::optional<std::string>>> DynamoLeadStore::owner_of(DynamoWorkCaller dynamo,
                                                                             const std::string& call_sid) {
  json::object request{
      {"TableName", options_.table}, {"Key", item_key("call#" + call_sid, "call")}, {"ConsistentRead", true}};
  auto answer = co_await dynamo.call("GetItem", request, false);
  if (answer.outcome != DynamoOutcome::ok) co_return answer_error("GetItem", answer);
  const auto* item = answer.body.as_object().if_contains("Item");
  if (!item || !item->is_object()) co_return std::optional<std::string>{};
  co_return string_of(item->as_object(), "lead");
}

awaitable<StoreResult<DynamoLeadStore::Orphans>> DynamoLeadStore::read_orphans(DynamoWorkCaller dynamo,
                                                                               const std::string& call_sid) {
  json::object request{
      {"TableName", options_.table}, {"Key", item_key("orphan#" + call_sid, "orphans")}, {"ConsistentRead", true}};
  auto answer = co_await dynamo.call("GetItem", request, false);
  if (answer.outcome != DynamoOutcome::ok) co_return answer_error("GetItem", answer);
  Orphans orphans;
  const auto* item = answer.body.as_object().if_contains("Item");
  if (!item || !item->is_object()) co_return orphans;
  orphans.exists = true;
  const auto* list = item->as_object().if_contains("events");
  const auto* elements = list && list->is_object() ? list->as_object().if_contains("L") : nullptr;
  if (!elements || !elements->is_array()) co_return orphans;
  orphans.count = elements->as_array().size();
  // Past its time (DynamoDB deletes expired items days late): taken, not applied.
  const auto expires = number_of(item->as_object(), "expires_at");
  if (expires && *expires < epoch_seconds(WallClock::now())) co_return orphans;
  for (const auto& element : elements->as_array()) {
    const auto* value = element.if_object();
    const auto* encoded = value ? value->if_contains("B") : nullptr;
    const auto bytes = encoded && encoded->is_string() ? base64_decode(encoded->as_string()) : std::nullopt;
    if (!bytes) continue;
    if (auto orphan = read_received_event_record(*bytes)) orphans.events.push_back(std::move(*orphan));
  }
  co_return orphans;
}

awaitable<StoreResult<bool>> DynamoLeadStore::keep_orphan(DynamoWorkCaller dynamo, const CallEvent& event,
                                                          WallTime received) {
  // From now, not from when it was received: a spooled event replayed late waits its full time too.
  const auto expires = epoch_seconds(WallClock::now() + options_.orphan_wait);
  json::array record{binary_value(received_event_record(event, received))};
  json::object owner_check{{"ConditionCheck",
                            {{"TableName", options_.table},
                             {"Key", item_key("call#" + event.call_sid, "call")},
                             {"ConditionExpression", "attribute_not_exists(pk)"}}}};
  json::object append{
      {"Update",
       {{"TableName", options_.table},
        {"Key", item_key("orphan#" + event.call_sid, "orphans")},
        {"UpdateExpression", "SET #events = list_append(if_not_exists(#events, :empty), :new), expires_at = :expires"},
        {"ConditionExpression", "attribute_not_exists(#events) OR size(#events) < :max"},
        {"ExpressionAttributeNames", {{"#events", "events"}}},
        {"ExpressionAttributeValues",
         values({{":empty", json::object{{"L", json::array{}}}},
                 {":new", json::object{{"L", std::move(record)}}},
                 {":expires", number_value(expires)},
                 {":max", number_value(static_cast<std::int64_t>(options_.max_orphans_per_call))}})}}}};
  json::object request{{"TransactItems", json::array{std::move(owner_check), std::move(append)}},
                       {"ClientRequestToken", random_hex(16)}};
  for (int round = 0; round < kMaxRounds; ++round) {
    auto answer = co_await dynamo.call("TransactWriteItems", request, true);
    if (answer.outcome == DynamoOutcome::ok) co_return true;
    if (answer.outcome != DynamoOutcome::transaction_canceled) co_return answer_error("TransactWriteItems", answer);
    if (reason_at(answer, 0) == "ConditionalCheckFailed") co_return false;  // the call has its lead now
    if (reason_at(answer, 1) == "ConditionalCheckFailed") co_return true;   // too many for one call: let go
    request["ClientRequestToken"] = random_hex(16);                         // a conflict: again
  }
  co_return unavailable("too much contention on call " + event.call_sid);
}

awaitable<std::variant<DynamoLeadStore::Written, StoreError>> DynamoLeadStore::write(DynamoWorkCaller dynamo,
                                                                                     const StoredLead& before,
                                                                                     const Lead& after,
                                                                                     const std::string& claim_sid,
                                                                                     const Orphans* adopted) {
  const auto version = before.version + 1;
  // Whatever the answer, what is remembered of this lead is no longer sure.
  recent_.forget(after.id);
  auto written = [&](std::size_t archived) {
    recent_.keep(StoredLead{after, version, archived, before.idempotency_key});
    return Written::yes;
  };
  // The lead item, put only if nobody wrote the lead since before.
  auto put_if_unchanged = [&](json::object item) {
    return json::object{{"TableName", options_.table},
                        {"Item", std::move(item)},
                        {"ConditionExpression", "#version = :version"},
                        {"ExpressionAttributeNames", {{"#version", "version"}}},
                        {"ExpressionAttributeValues", values({{":version", number_value(before.version)}})}};
  };
  auto alone = lead_item(after, version, before.idempotency_key, before.archived_events);
  if (claim_sid.empty() && item_size(alone) <= kLeadItemBudget) {
    auto put = put_if_unchanged(std::move(alone));
    put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
    auto answer = co_await dynamo.call("PutItem", put, true);
    if (answer.outcome == DynamoOutcome::ok) co_return written(before.archived_events);
    if (answer.outcome == DynamoOutcome::condition_failed) {
      // Another writer came first. Its lead item came back with the
      // refusal: remembered, the next round starts from it without a read
      // (unless it archived events meanwhile: then the next round reads).
      const auto* current = answer.body.is_object() ? answer.body.as_object().if_contains("Item") : nullptr;
      if (current && current->is_object())
        if (auto now = lead_with_item(before, current->as_object())) recent_.keep(*now);
      co_return Written::lost_race;
    }
    co_return answer_error("PutItem", answer);
  }
  // Every event to event items, the lead item with none of them.
  json::array items;
  items.push_back(
      json::object{{"Put", put_if_unchanged(lead_item(after, version, before.idempotency_key, after.events.size()))}});
  for (auto index = before.archived_events; index < after.events.size(); ++index)
    items.push_back(json::object{
        {"Put", {{"TableName", options_.table}, {"Item", event_item(after.id, index, after.events[index])}}}});
  std::optional<std::size_t> claim_index;
  if (!claim_sid.empty()) {
    claim_index = items.size();
    json::object owner = item_key("call#" + claim_sid, "call");
    owner["lead"] = string_value(after.id);
    items.push_back(json::object{{"Put",
                                  {{"TableName", options_.table},
                                   {"Item", std::move(owner)},
                                   {"ConditionExpression", "attribute_not_exists(pk) OR #lead = :lead"},
                                   {"ExpressionAttributeNames", {{"#lead", "lead"}}},
                                   {"ExpressionAttributeValues", values({{":lead", string_value(after.id)}})}}}});
    // The orphans applied are taken in the same step, and only if no other came meanwhile.
    if (adopted && adopted->exists)
      items.push_back(
          json::object{{"Delete",
                        {{"TableName", options_.table},
                         {"Key", item_key("orphan#" + claim_sid, "orphans")},
                         {"ConditionExpression", "size(#events) = :count"},
                         {"ExpressionAttributeNames", {{"#events", "events"}}},
                         {"ExpressionAttributeValues",
                          values({{":count", number_value(static_cast<std::int64_t>(adopted->count))}})}}}});
    else
      items.push_back(json::object{{"ConditionCheck",
                                    {{"TableName", options_.table},
                                     {"Key", item_key("orphan#" + claim_sid, "orphans")},
                                     {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  }
  // The token makes a repeat of this very request (the client's, after an
  // answer that was lost) a no-op that reports success.
  json::object request{{"TransactItems", std::move(items)}, {"ClientRequestToken", random_hex(16)}};
  auto answer = co_await dynamo.call("TransactWriteItems", request, true);
  if (answer.outcome == DynamoOutcome::ok) co_return written(after.events.size());
  if (answer.outcome != DynamoOutcome::transaction_canceled) co_return answer_error("TransactWriteItems", answer);
  if (reason_at(answer, 0) == "ConditionalCheckFailed") co_return Written::lost_race;
  // The lead item's own condition held: the lead is still as before.
  if (claim_index && reason_at(answer, *claim_index) == "ConditionalCheckFailed") {
    recent_.keep(before);
    co_return Written::call_taken;
  }
  if (claim_index && reason_at(answer, *claim_index + 1) == "ConditionalCheckFailed") {
    recent_.keep(before);
    co_return Written::orphans_came;
  }
  co_return Written::lost_race;  // a conflict with another transaction: again
}

awaitable<StoreResult<store::CreateResult>> DynamoLeadStore::do_create(DynamoWorkCaller dynamo,
                                                                       store::CreateRequest request,
                                                                       std::optional<json::object> companion) {
  const auto& lead = request.lead;
  const auto marker_expires = number_value(epoch_seconds(WallClock::now() + options_.marker_lifetime));
  const auto now_seconds = number_value(epoch_seconds(WallClock::now()));
  json::array items;
  items.push_back(json::object{{"Put",
                                {{"TableName", options_.table},
                                 {"Item", lead_item(lead, 1, request.idempotency_key, 0)},
                                 {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  std::optional<std::size_t> key_index;
  if (!request.idempotency_key.empty()) {
    key_index = items.size();
    json::object marker = item_key("idem#" + request.idempotency_key, "idem");
    marker["lead"] = string_value(lead.id);
    marker["expires_at"] = marker_expires;
    items.push_back(json::object{{"Put",
                                  {{"TableName", options_.table},
                                   {"Item", std::move(marker)},
                                   {"ConditionExpression", "attribute_not_exists(pk) OR expires_at < :now"},
                                   {"ExpressionAttributeValues", values({{":now", now_seconds}})}}}});
  }
  const auto phone_index = items.size();
  json::object latest = item_key("phone#" + lead.phone, "phone");
  latest["lead"] = string_value(lead.id);
  latest["created"] = number_value(epoch_milliseconds(lead.created));
  latest["expires_at"] = marker_expires;
  json::object phone_put{{"TableName", options_.table}, {"Item", std::move(latest)}};
  if (request.same_phone_since) {
    phone_put["ConditionExpression"] = "attribute_not_exists(pk) OR created < :since";
    phone_put["ExpressionAttributeValues"] =
        values({{":since", number_value(epoch_milliseconds(*request.same_phone_since))}});
  }
  items.push_back(json::object{{"Put", std::move(phone_put)}});
  std::optional<std::size_t> companion_index;
  if (companion) {
    companion_index = items.size();
    items.push_back(json::object{{"Put",
                                  {{"TableName", options_.table},
                                   {"Item", std::move(*companion)},
                                   {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  }
  json::object transaction{{"TransactItems", std::move(items)}, {"ClientRequestToken", random_hex(16)}};

  for (int round = 0; round < kMaxRounds; ++round) {
    auto answer = co_await dynamo.call("TransactWriteItems", transaction, true);
    if (answer.outcome == DynamoOutcome::ok) {
      recent_.keep(StoredLead{lead, 1, 0, request.idempotency_key});
      co_return store::CreateResult{lead, true};
    }
    if (answer.outcome != DynamoOutcome::transaction_canceled) co_return answer_error("TransactWriteItems", answer);
    // Which lead is already there: the key's, the number's or the id's.
    std::string existing_id;
    std::string marker_pk;
    if (key_index && reason_at(answer, *key_index) == "ConditionalCheckFailed")
      marker_pk = "idem#" + request.idempotency_key;
    else if (reason_at(answer, phone_index) == "ConditionalCheckFailed")
      marker_pk = "phone#" + lead.phone;
    else if (reason_at(answer, 0) == "ConditionalCheckFailed" ||
             (companion_index && reason_at(answer, *companion_index) == "ConditionalCheckFailed"))
      existing_id = lead.id;  // this request's own, landed on an earlier try (its companion with it)
    if (!marker_pk.empty()) {
      json::object get{{"TableName", options_.table},
                       {"Key", item_key(marker_pk, marker_pk.starts_with("idem#") ? "idem" : "phone")},
                       {"ConsistentRead", true}};
      auto marker = co_await dynamo.call("GetItem", get, false);
      if (marker.outcome != DynamoOutcome::ok) co_return answer_error("GetItem", marker);
      const auto* item = marker.body.as_object().if_contains("Item");
      if (item && item->is_object()) existing_id = string_of(item->as_object(), "lead").value_or("");
    }
    if (existing_id.empty()) {  // a conflict with another transaction, or a marker gone meanwhile: again
      transaction["ClientRequestToken"] = random_hex(16);
      continue;
    }
    auto existing = co_await read(dynamo, existing_id);
    if (auto* error = std::get_if<StoreError>(&existing)) co_return *error;
    auto& stored = std::get<StoredLead>(existing);
    // Ids are new for every enquiry: the same lead there is this request's own, landed on an earlier try.
    const bool ours =
        stored.lead.id == lead.id && stored.lead.phone == lead.phone && stored.lead.created == lead.created;
    co_return store::CreateResult{std::move(stored.lead), ours};
  }
  co_return unavailable("too much contention creating lead " + lead.id);
}

awaitable<StoreResult<Lead>> DynamoLeadStore::do_get(DynamoWorkCaller dynamo, std::string lead_id) {
  auto stored = co_await read(dynamo, lead_id);
  if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
  co_return std::move(std::get<StoredLead>(stored).lead);
}

awaitable<StoreResult<Lead>> DynamoLeadStore::do_add_attempt(DynamoWorkCaller dynamo, std::string lead_id,
                                                             Attempt attempt, LeadStatus lead_status) {
  bool orphans_came = false;
  for (int round = 0; round < kMaxRounds; ++round) {
    auto stored = co_await read_for_change(dynamo, lead_id);
    if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
    const auto& before = std::get<StoredLead>(stored);
    // Already there: this very write landed on an earlier try whose answer was lost.
    if (!before.lead.attempts.empty() && before.lead.attempts.back() == attempt) co_return before.lead;
    Lead after = before.lead;
    after.attempts.push_back(attempt);
    after.status = lead_status;
    after.updated = std::max(after.updated, attempt.created);
    // A call's callbacks seldom come before its sid is stored: the write
    // assumes there are no orphans (on condition), and reads them only when
    // it is told there are.
    Orphans orphans;
    if (!attempt.call_sid.empty() && orphans_came) {
      auto read = co_await read_orphans(dynamo, attempt.call_sid);
      if (auto* error = std::get_if<StoreError>(&read)) co_return *error;
      orphans = std::move(std::get<Orphans>(read));
      for (const auto& [event, received] : orphans.events) apply_call_event(after, event, received);
    }
    auto written = co_await write(dynamo, before, after, attempt.call_sid, &orphans);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    switch (std::get<Written>(written)) {
      case Written::yes:
        co_return after;
      case Written::call_taken:
        co_return StoreError{StoreFailure::conflict, "call sid " + attempt.call_sid + " belongs to another lead"};
      case Written::orphans_came:
        orphans_came = true;
        break;
      case Written::lost_race:
        break;
    }
  }
  co_return unavailable("too much contention on lead " + lead_id);
}

awaitable<StoreResult<store::ApplyResult>> DynamoLeadStore::do_apply_event(DynamoWorkCaller dynamo, CallEvent event,
                                                                           WallTime received) {
  for (int round = 0; round < kMaxRounds; ++round) {
    std::optional<StoredLead> found;
    std::optional<StoredLead> named;
    std::string claim_sid;
    // The callback's URL names its lead: the call is found there (a lead's
    // attempts and the call's owner item are written together), as this
    // process remembers the lead or else read. A remembered lead without
    // the call may be behind the times: read afresh.
    if (!event.lead_id.empty()) {
      auto stored = co_await read_for_change(dynamo, event.lead_id);
      if (auto* lead = std::get_if<StoredLead>(&stored); lead && find_attempt(lead->lead, event.call_sid) == nullptr) {
        stored = co_await read(dynamo, event.lead_id);
        if (auto* fresh = std::get_if<StoredLead>(&stored)) recent_.keep(*fresh);
      }
      if (auto* lead = std::get_if<StoredLead>(&stored)) {
        if (find_attempt(lead->lead, event.call_sid) != nullptr)
          found = std::move(*lead);
        else
          named = std::move(*lead);
      } else if (std::get<StoreError>(stored).failure != StoreFailure::not_found) {
        co_return std::get<StoreError>(stored);
      }
    }
    if (!found) {
      auto owner = co_await owner_of(dynamo, event.call_sid);
      if (auto* error = std::get_if<StoreError>(&owner)) co_return *error;
      if (const auto& owner_id = std::get<std::optional<std::string>>(owner)) {
        auto stored = co_await read_for_change(dynamo, *owner_id);
        if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
        found = std::move(std::get<StoredLead>(stored));
      } else if (named && !named->lead.attempts.empty() && named->lead.attempts.back().call_sid.empty() &&
                 named->lead.attempts.back().provider == event.provider) {
        // Nobody owns the call, and the lead it names waits for its latest
        // attempt's sid (the placement's answer was lost): this is it.
        claim_sid = event.call_sid;
        found = std::move(named);
      } else {
        auto kept = co_await keep_orphan(dynamo, event, received);
        if (auto* error = std::get_if<StoreError>(&kept)) co_return *error;
        if (std::get<bool>(kept)) co_return store::ApplyResult{EventOutcome::unknown_call, {}};
        continue;  // the call found its lead meanwhile
      }
    }
    const auto& before = *found;
    Lead after = before.lead;
    Orphans orphans;
    if (!claim_sid.empty()) {
      after.attempts.back().call_sid = claim_sid;
      auto read = co_await read_orphans(dynamo, claim_sid);
      if (auto* error = std::get_if<StoreError>(&read)) co_return *error;
      orphans = std::move(std::get<Orphans>(read));
      for (const auto& [orphan, orphan_received] : orphans.events) apply_call_event(after, orphan, orphan_received);
    }
    const auto outcome = apply_call_event(after, event, received);
    if (outcome == EventOutcome::duplicate && claim_sid.empty()) co_return store::ApplyResult{outcome, after.id};
    auto written = co_await write(dynamo, before, after, claim_sid, &orphans);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    if (std::get<Written>(written) == Written::yes) co_return store::ApplyResult{outcome, after.id};
    // Lost the race (another event for this lead, or the call was claimed): again, from the top.
  }
  co_return unavailable("too much contention on call " + event.call_sid);
}

awaitable<StoreResult<store::UpdateResult>> DynamoLeadStore::do_update(DynamoWorkCaller dynamo, std::string lead_id,
                                                                       LeadUpdate update) {
  for (int round = 0; round < kMaxRounds; ++round) {
    auto stored = co_await read_for_change(dynamo, lead_id);
    if (auto* error = std::get_if<StoreError>(&stored)) co_return *error;
    const auto& before = std::get<StoredLead>(stored);
    Lead after = before.lead;
    // A repeat (a write that landed on an earlier try) changes nothing.
    auto decision = apply_lead_update(after, update);
    if (decision.outcome != UpdateOutcome::changed)
      co_return store::UpdateResult{std::move(after), std::move(decision)};
    auto written = co_await write(dynamo, before, after, "", nullptr);
    if (auto* error = std::get_if<StoreError>(&written)) co_return *error;
    if (std::get<Written>(written) == Written::yes)
      co_return store::UpdateResult{std::move(after), std::move(decision)};
  }
  co_return unavailable("too much contention on lead " + lead_id);
}

awaitable<StoreResult<std::optional<std::string>>> DynamoLeadStore::do_find(DynamoWorkCaller dynamo,
                                                                            std::string call_sid) {
  co_return co_await owner_of(dynamo, call_sid);
}

awaitable<StoreResult<store::LeadPage>> DynamoLeadStore::do_list(DynamoWorkCaller dynamo, store::LeadQuery query) {
  store::LeadPage page;
  // Ids sort by creation time: each index keeps its leads in that order.
  const bool by_status = query.status.has_value();
  json::object names{{"#group", by_status ? "lead_status" : "lead_list"}};
  // A status of a call under way shares its index key with the others (status_group): read and sifted below.
  json::object key_values{{":group", string_value(by_status ? status_group(*query.status) : "leads")}};
  std::string condition = "#group = :group";
  // Where to start: after the cursor, or at the first id of created_since
  // (ids sort by creation time), whichever is later.
  const auto since = query.created_since ? lead_id_floor(*query.created_since) : std::string();
  if (!query.after_id.empty() && query.after_id >= since) {
    condition.append(" AND lead_id > :after");
    key_values[":after"] = string_value(query.after_id);
  } else if (!since.empty()) {
    condition.append(" AND lead_id >= :since");
    key_values[":since"] = string_value(since);
  }
  json::object request{{"TableName", options_.table},
                       {"IndexName", by_status ? kStatusIndex : kCreatedIndex},
                       {"KeyConditionExpression", condition},
                       {"ExpressionAttributeNames", std::move(names)},
                       {"ExpressionAttributeValues", std::move(key_values)},
                       {"Limit", std::max<std::size_t>(query.limit + 1, 64)}};
  for (;;) {
    auto answer = co_await dynamo.call("Query", request, false);
    if (answer.outcome != DynamoOutcome::ok) co_return answer_error("Query", answer);
    const auto& body = answer.body.as_object();
    if (const auto* items = body.if_contains("Items"); items && items->is_array()) {
      for (const auto& item : items->as_array()) {
        const auto id = item.is_object() ? string_of(item.as_object(), "lead_id") : std::nullopt;
        if (!id) continue;
        auto stored = co_await read(dynamo, *id);
        if (std::holds_alternative<StoreError>(stored)) {
          if (std::get<StoreError>(stored).failure == StoreFailure::not_found) continue;
          co_return std::get<StoreError>(stored);
        }
        auto& lead = std::get<StoredLead>(stored).lead;
        // The index is eventually consistent: a lead that has moved on since is not what was asked for.
        if (by_status && lead.status != *query.status) continue;
        if (query.created_since && lead.created < *query.created_since) continue;
        if (page.leads.size() == query.limit) {
          page.next_cursor = page.leads.back().id;
          co_return page;
        }
        page.leads.push_back(std::move(lead));
      }
    }
    const auto* next = body.if_contains("LastEvaluatedKey");
    if (!next) co_return page;
    request["ExclusiveStartKey"] = *next;
  }
}

awaitable<StoreResult<store::CreateResult>> DynamoLeadStore::create(store::CreateRequest request) {
  co_return co_await route(DynamoWork::enquiry, &DynamoLeadStore::do_create, std::move(request),
                           std::optional<json::object>{});
}
awaitable<StoreResult<store::CreateResult>> DynamoLeadStore::create_with(store::CreateRequest request,
                                                                         json::object companion) {
  co_return co_await route(DynamoWork::enquiry, &DynamoLeadStore::do_create, std::move(request),
                           std::optional<json::object>(std::move(companion)));
}
awaitable<StoreResult<Lead>> DynamoLeadStore::get(std::string lead_id) {
  co_return co_await route(DynamoWork::lead_read, &DynamoLeadStore::do_get, std::move(lead_id));
}
awaitable<StoreResult<Lead>> DynamoLeadStore::add_attempt(std::string lead_id, Attempt attempt,
                                                          LeadStatus lead_status) {
  co_return co_await route(DynamoWork::call_placed, &DynamoLeadStore::do_add_attempt, std::move(lead_id),
                           std::move(attempt), lead_status);
}
awaitable<StoreResult<store::ApplyResult>> DynamoLeadStore::apply_event(CallEvent event, WallTime received) {
  co_return co_await route(DynamoWork::status_callback, &DynamoLeadStore::do_apply_event, std::move(event), received);
}
awaitable<StoreResult<store::UpdateResult>> DynamoLeadStore::update_lead(std::string lead_id, LeadUpdate update) {
  const auto work = std::holds_alternative<CallFlowInput>(update) ? DynamoWork::call_flow_input : DynamoWork::voice;
  co_return co_await route(work, &DynamoLeadStore::do_update, std::move(lead_id), std::move(update));
}
awaitable<StoreResult<std::optional<std::string>>> DynamoLeadStore::find_lead_by_call_sid(std::string call_sid) {
  co_return co_await route(DynamoWork::lead_read, &DynamoLeadStore::do_find, std::move(call_sid));
}
awaitable<StoreResult<store::LeadPage>> DynamoLeadStore::list(store::LeadQuery query) {
  co_return co_await route(DynamoWork::lead_read, &DynamoLeadStore::do_list, std::move(query));
}

}  // namespace callgate::aws
