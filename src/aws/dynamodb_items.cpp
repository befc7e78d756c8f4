#include "aws/dynamodb_items.hpp"

#include "core/civil_time.hpp"
#include "core/crypto.hpp"
#include "core/dialer/dial_job_json.hpp"
#include "core/lead/lead_json.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdio>

namespace callgate::aws {

namespace json = boost::json;

namespace {

// The lead's JSON and the events' as binary attributes: a provider may send
// bytes that are not UTF-8, which a string attribute refuses, and what was
// received is kept as it came.
std::optional<json::value> stored_document(const json::object& item) {
  const auto bytes = binary_of(item, "doc");
  if (!bytes) return std::nullopt;
  boost::system::error_code error;
  auto value = parse_stored_json(*bytes, error);
  if (error || !value.is_object()) return std::nullopt;
  return value;
}

std::string padded(std::int64_t number, int width) {
  char text[24];
  std::snprintf(text, sizeof text, "%0*lld", width, static_cast<long long>(std::max<std::int64_t>(0, number)));
  return text;
}

// FNV-1a: the bucket must be the same on every host and every build.
std::uint32_t stable_hash(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (const unsigned char c : text) hash = (hash ^ c) * 16777619u;
  return hash;
}

}  // namespace

json::object string_value(std::string_view text) { return {{"S", text}}; }
json::object number_value(std::int64_t number) { return {{"N", std::to_string(number)}}; }
json::object binary_value(std::string_view bytes) { return {{"B", base64_encode(bytes)}}; }

std::optional<std::string> string_of(const json::object& item, std::string_view name) {
  const auto* attribute = item.if_contains(name);
  const auto* object = attribute ? attribute->if_object() : nullptr;
  const auto* text = object ? object->if_contains("S") : nullptr;
  if (!text || !text->is_string()) return std::nullopt;
  return std::string(text->as_string());
}

std::optional<std::int64_t> number_of(const json::object& item, std::string_view name) {
  const auto* attribute = item.if_contains(name);
  const auto* object = attribute ? attribute->if_object() : nullptr;
  const auto* text = object ? object->if_contains("N") : nullptr;
  if (!text || !text->is_string()) return std::nullopt;
  const auto digits = std::string_view(text->as_string());
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return number;
}

std::optional<std::string> binary_of(const json::object& item, std::string_view name) {
  const auto* attribute = item.if_contains(name);
  const auto* object = attribute ? attribute->if_object() : nullptr;
  const auto* text = object ? object->if_contains("B") : nullptr;
  if (!text || !text->is_string()) return std::nullopt;
  return base64_decode(text->as_string());
}

json::object item_key(std::string_view pk, std::string_view sk) {
  return {{"pk", string_value(pk)}, {"sk", string_value(sk)}};
}

std::string lead_pk(std::string_view lead_id) {
  std::string key = "lead#";
  key.append(lead_id);
  return key;
}

std::string event_sk(std::size_t index) { return "event#" + padded(static_cast<std::int64_t>(index), 8); }

std::string_view status_group(LeadStatus status) {
  switch (status) {
    case LeadStatus::dialing:
    case LeadStatus::queued:
    case LeadStatus::initiated:
    case LeadStatus::ringing:
    case LeadStatus::in_progress:
      return "calling";
    default:
      return to_string(status);
  }
}

json::object lead_item(const Lead& lead, std::int64_t version, const std::string& idempotency_key,
                       std::size_t archived_events) {
  auto document = to_json(lead);
  // Only the events that are not in event items of their own.
  auto& events = document["events"].as_array();
  archived_events = std::min(archived_events, events.size());
  events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(archived_events));
  json::object item = item_key(lead_pk(lead.id), "lead");
  item["doc"] = binary_value(json::serialize(document));
  item["version"] = number_value(version);
  item["events"] = number_value(static_cast<std::int64_t>(archived_events));
  item["lead_status"] = string_value(status_group(lead.status));
  item["lead_list"] = string_value("leads");
  item["lead_id"] = string_value(lead.id);
  if (!idempotency_key.empty()) item["idem"] = string_value(idempotency_key);
  return item;
}

json::object event_item(std::string_view lead_id, std::size_t index, const RecordedEvent& recorded) {
  auto document = to_json(recorded.event);
  document["receivedAt"] = format_iso8601(recorded.received);
  document["outcome"] = to_string(recorded.outcome);
  json::object item = item_key(lead_pk(lead_id), event_sk(index));
  item["doc"] = binary_value(json::serialize(document));
  return item;
}

namespace {

// The lead item with archived, its event items' events (all of them, or
// none when only the lead item was read).
std::optional<StoredLead> read_lead(const json::object& item, json::array archived) {
  auto document = stored_document(item);
  const auto version = number_of(item, "version");
  const auto archived_count = number_of(item, "events");
  if (!document || !document->is_object() || !version || !archived_count || *archived_count < 0) return std::nullopt;
  // The lead item's own events come after the archived ones.
  if (const auto* kept = document->as_object().if_contains("events"); kept && kept->is_array())
    for (const auto& event : kept->as_array()) archived.push_back(event);
  document->as_object()["events"] = std::move(archived);
  auto lead = lead_from_json(*document);
  if (!lead) return std::nullopt;
  return StoredLead{std::move(*lead), *version, static_cast<std::size_t>(*archived_count),
                    string_of(item, "idem").value_or("")};
}

}  // namespace

std::optional<StoredLead> lead_from_item(const json::object& item) { return read_lead(item, {}); }

std::optional<StoredLead> lead_with_item(const StoredLead& known, const json::object& item) {
  auto stored = lead_from_item(item);
  if (!stored || stored->archived_events != known.archived_events || known.lead.events.size() < known.archived_events)
    return std::nullopt;
  const auto archived_end = known.lead.events.begin() + static_cast<std::ptrdiff_t>(known.archived_events);
  stored->lead.events.insert(stored->lead.events.begin(), known.lead.events.begin(), archived_end);
  return stored;
}

std::optional<StoredLead> lead_from_items(const json::array& items) {
  json::array events;
  const json::object* lead = nullptr;
  for (const auto& value : items) {
    const auto* item = value.if_object();
    if (!item) return std::nullopt;
    const auto sk = string_of(*item, "sk").value_or("");
    if (sk == "lead") {
      lead = item;
    } else if (sk.starts_with("event#")) {
      auto document = stored_document(*item);
      if (!document) return std::nullopt;
      events.push_back(std::move(*document));
    }
  }
  if (!lead) return std::nullopt;
  const auto archived = events.size();
  auto stored = read_lead(*lead, std::move(events));
  // The count and the event items are written by one transaction: another
  // number means a read that met a write between two pages (read again).
  if (stored && archived != stored->archived_events) return std::nullopt;
  return stored;
}

std::string job_pk(std::string_view lead_id) {
  std::string key = "job#";
  key.append(lead_id);
  return key;
}

std::string due_bucket(std::string_view lead_id) {
  return "due#" + std::to_string(stable_hash(lead_id) % static_cast<std::uint32_t>(kDueBuckets));
}

std::int64_t epoch_milliseconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

WallTime from_epoch_milliseconds(std::int64_t milliseconds) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(milliseconds)));
}

std::int64_t epoch_seconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::string due_key(WallTime when, std::string_view lead_id) {
  std::string key = padded(epoch_milliseconds(when), 15);
  key.push_back('#');
  key.append(lead_id);
  return key;
}

json::object job_item(const dialer::DialJob& job, std::uint64_t claim, WallTime lease_until) {
  json::object item = item_key(job_pk(job.lead_id), "job");
  item["doc"] = binary_value(json::serialize(dialer::job_json(job)));
  item["claim"] = number_value(static_cast<std::int64_t>(claim));
  item["lease"] = number_value(epoch_milliseconds(lease_until));
  item["due_bucket"] = string_value(due_bucket(job.lead_id));
  item["due_key"] = string_value(due_key(claim == 0 ? job.due : lease_until, job.lead_id));
  return item;
}

std::optional<StoredJob> job_from_item(const json::object& item) {
  const auto document = stored_document(item);
  const auto claim = number_of(item, "claim");
  const auto lease = number_of(item, "lease");
  auto key = string_of(item, "due_key");
  if (!document || !claim || !lease || !key || *claim < 0) return std::nullopt;
  auto job = dialer::job_from_json(&*document);
  if (!job) return std::nullopt;
  return StoredJob{std::move(*job), static_cast<std::uint64_t>(*claim), from_epoch_milliseconds(*lease),
                   std::move(*key)};
}

namespace {

std::size_t value_size(const json::value& attribute) {
  const auto* typed = attribute.if_object();
  if (!typed || typed->empty()) return 0;
  const auto& [type, value] = *typed->begin();
  if (type == "S" && value.is_string()) return value.as_string().size();
  if (type == "B" && value.is_string()) {
    const auto& text = value.as_string();
    std::size_t padding = 0;
    for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
    return text.size() / 4 * 3 - padding;
  }
  if (type == "N" && value.is_string()) {
    std::size_t digits = 0;
    for (const char c : value.as_string()) digits += (c >= '0' && c <= '9') ? 1 : 0;
    return (digits + 1) / 2 + 1;
  }
  if ((type == "BOOL" || type == "NULL")) return 1;
  if (type == "L" && value.is_array()) {
    std::size_t size = 3;
    for (const auto& element : value.as_array()) size += 1 + value_size(element);
    return size;
  }
  if (type == "M" && value.is_object()) {
    std::size_t size = 3;
    for (const auto& [name, element] : value.as_object()) size += 1 + name.size() + value_size(element);
    return size;
  }
  return 0;
}

double units_for(std::size_t bytes) { return static_cast<double>(std::max<std::size_t>(1, (bytes + 1023) / 1024)); }

}  // namespace

std::size_t item_size(const json::object& item) {
  std::size_t size = 0;
  for (const auto& [name, value] : item) size += name.size() + value_size(value);
  return size;
}

double estimated_write_units(std::string_view operation, const json::object& request) {
  auto put_units = [](const json::object& body) {
    const auto* item = body.if_contains("Item");
    return item && item->is_object() ? units_for(item_size(item->as_object())) : 1.0;
  };
  if (operation == "PutItem") return put_units(request);
  if (operation == "UpdateItem" || operation == "DeleteItem") return 1.0;
  if (operation != "TransactWriteItems") return 0.0;
  double units = 0;
  const auto* items = request.if_contains("TransactItems");
  if (!items || !items->is_array()) return units;
  for (const auto& entry : items->as_array()) {
    const auto* object = entry.if_object();
    if (!object || object->empty()) continue;
    const auto& [kind, body] = *object->begin();
    units += 2.0 * (kind == "Put" && body.is_object() ? put_units(body.as_object()) : 1.0);
  }
  return units;
}

namespace {

json::object index_definition(std::string_view name, std::string_view hash, std::string_view range,
                              std::initializer_list<std::string_view> included) {
  json::object projection;
  if (included.size() == 0) {
    projection["ProjectionType"] = "KEYS_ONLY";
  } else {
    projection["ProjectionType"] = "INCLUDE";
    json::array names;
    for (const auto attribute : included) names.emplace_back(attribute);
    projection["NonKeyAttributes"] = std::move(names);
  }
  return {{"IndexName", name},
          {"KeySchema", json::array{json::object{{"AttributeName", hash}, {"KeyType", "HASH"}},
                                    json::object{{"AttributeName", range}, {"KeyType", "RANGE"}}}},
          {"Projection", std::move(projection)}};
}

}  // namespace

std::string create_table_request(std::string_view table) {
  json::array attributes;
  for (const auto name : {"pk", "sk", "lead_status", "lead_list", "lead_id", "due_bucket", "due_key"})
    attributes.push_back(json::object{{"AttributeName", name}, {"AttributeType", "S"}});
  json::object request{
      {"TableName", table},
      {"BillingMode", "PAY_PER_REQUEST"},
      {"AttributeDefinitions", std::move(attributes)},
      {"KeySchema", json::array{json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                json::object{{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
      {"GlobalSecondaryIndexes", json::array{index_definition(kStatusIndex, "lead_status", "lead_id", {}),
                                             index_definition(kCreatedIndex, "lead_list", "lead_id", {}),
                                             index_definition(kDueIndex, "due_bucket", "due_key", {"claim"})}}};
  return json::serialize(request);
}

namespace {

// "pk HASH, sk RANGE" of a KeySchema array, for comparing.
std::string key_schema_text(const json::value* schema) {
  std::string text;
  if (!schema || !schema->is_array()) return text;
  for (const auto& element : schema->as_array()) {
    const auto* key = element.if_object();
    if (!key) continue;
    const auto* name = key->if_contains("AttributeName");
    const auto* type = key->if_contains("KeyType");
    if (!name || !name->is_string() || !type || !type->is_string()) continue;
    if (!text.empty()) text.append(", ");
    text.append(name->as_string());
    text.push_back(' ');
    text.append(type->as_string());
  }
  return text;
}

}  // namespace

std::optional<std::string> table_problem(const json::value& describe_answer) {
  const auto* answer = describe_answer.if_object();
  const auto* table_value = answer ? answer->if_contains("Table") : nullptr;
  const auto* table = table_value ? table_value->if_object() : nullptr;
  if (!table) return "DescribeTable answered without a Table";
  if (const auto schema = key_schema_text(table->if_contains("KeySchema")); schema != "pk HASH, sk RANGE")
    return "its key is \"" + schema + "\", not pk (HASH, S) and sk (RANGE, S)";
  const auto* indexes = table->if_contains("GlobalSecondaryIndexes");
  const std::array<std::pair<std::string_view, std::string_view>, 3> expected{
      std::pair{kStatusIndex, std::string_view("lead_status HASH, lead_id RANGE")},
      std::pair{kCreatedIndex, std::string_view("lead_list HASH, lead_id RANGE")},
      std::pair{kDueIndex, std::string_view("due_bucket HASH, due_key RANGE")}};
  for (const auto& [name, schema] : expected) {
    const json::object* found = nullptr;
    if (indexes && indexes->is_array())
      for (const auto& index : indexes->as_array())
        if (const auto* object = index.if_object(); object && object->if_contains("IndexName") &&
                                                    object->at("IndexName").is_string() &&
                                                    object->at("IndexName").as_string() == name)
          found = object;
    if (!found) return "it has no global secondary index " + std::string(name) + " (" + std::string(schema) + ")";
    if (key_schema_text(found->if_contains("KeySchema")) != schema)
      return "its index " + std::string(name) + " is keyed \"" + key_schema_text(found->if_contains("KeySchema")) +
             "\", not " + std::string(schema);
  }
  return std::nullopt;
}

}  // namespace callgate::aws
