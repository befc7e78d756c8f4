#include "core/events/event_outbox.hpp"

#include "core/civil_time.hpp"
#include "core/json_object_writer.hpp"
#include "core/lead/lead_json.hpp"

#include <algorithm>
#include <stdexcept>

namespace callgate::events {

namespace json = boost::json;

namespace {

constexpr std::string_view kEndpointOp = "event_endpoint";
constexpr std::string_view kDoneOp = "event_done";
constexpr std::string_view kFailedOp = "event_failed";
constexpr std::string_view kRedeliverOp = "event_redeliver";
constexpr std::string_view kEventOp = "lead_event";

std::string text_of(const json::object& object, std::string_view key) {
  const auto* field = object.if_contains(key);
  return field && field->is_string() ? std::string(field->as_string()) : std::string();
}

// {"op":…,"endpoint":…,"leadId":…,"id":…}: a delivery or a redelivery.
std::string about_event_record(std::string_view op, std::string_view endpoint, const LeadEvent& event,
                               std::optional<WallTime> at = std::nullopt) {
  std::string record;
  JsonObjectWriter writer(record);
  writer.text("op", op);
  writer.text("endpoint", endpoint);
  writer.text("leadId", event.lead_id);
  writer.text("id", event.id);
  writer.time_if_any("at", at);
  writer.close();
  return record;
}

std::string event_record(const LeadEvent& event, std::string_view endpoint, std::optional<WallTime> since = {}) {
  std::string record;
  JsonObjectWriter writer(record);
  writer.text("op", kEventOp);
  if (!endpoint.empty()) writer.text("endpoint", endpoint);
  writer.time_if_any("since", since);
  record.append(R"(,"event":)");
  append_event_json(record, event);
  writer.close();
  return record;
}

std::string failed_record(std::string_view endpoint, const FailedEvent& failed) {
  std::string record;
  JsonObjectWriter writer(record);
  writer.text("op", kFailedOp);
  writer.text("endpoint", endpoint);
  writer.text("reason", failed.reason);
  writer.time("at", failed.at);
  record.append(R"(,"event":)");
  append_event_json(record, *failed.event);
  writer.close();
  return record;
}

std::string endpoint_record(std::string_view name) {
  std::string record;
  JsonObjectWriter writer(record);
  writer.text("op", kEndpointOp);
  writer.text("name", name);
  writer.close();
  return record;
}

}  // namespace

void append_event_json(std::string& out, const LeadEvent& event) {
  JsonObjectWriter writer(out);
  writer.text("id", event.id);
  writer.text("type", event.type);
  writer.text("leadId", event.lead_id);
  writer.time("at", event.at);
  writer.text("payload", event.payload);
  writer.close();
}

std::optional<LeadEvent> lead_event_from_json(const json::value& value) {
  const auto* object = value.if_object();
  if (!object) return std::nullopt;
  LeadEvent event;
  event.id = text_of(*object, "id");
  event.type = text_of(*object, "type");
  event.lead_id = text_of(*object, "leadId");
  event.payload = text_of(*object, "payload");
  const auto at = parse_iso8601(text_of(*object, "at"));
  if (event.id.empty() || event.type.empty() || event.lead_id.empty() || event.payload.empty() || !at)
    return std::nullopt;
  event.at = *at;
  return event;
}

bool OutboxEndpoint::wants(std::string_view type) const {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

EventOutbox::EventOutbox(std::vector<OutboxEndpoint> endpoints, RetryPolicy retry)
    : endpoints_(std::move(endpoints)), retry_(retry), queues_(endpoints_.size()) {}

void EventOutbox::keep_records_with(std::function<std::uint64_t(std::string_view)> append) {
  std::lock_guard lock(mutex_);
  append_ = std::move(append);
}

void EventOutbox::on_ready(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

void EventOutbox::start_endpoints() {
  std::lock_guard lock(mutex_);
  delivered_ahead_.clear();  // the replay is over: every delivery it held has been read
  for (std::size_t index = 0; index < endpoints_.size(); ++index) {
    if (queues_[index].started) continue;
    queues_[index].started = true;
    write(endpoint_record(endpoints_[index].name));
  }
}

std::optional<std::size_t> EventOutbox::endpoint_named(std::string_view name) const {
  for (std::size_t index = 0; index < endpoints_.size(); ++index)
    if (endpoints_[index].name == name) return index;
  return std::nullopt;
}

std::uint64_t EventOutbox::write(const std::string& payload) { return append_ ? append_(payload) : 0; }

void EventOutbox::wake() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    wake = wake_;
  }
  if (wake) wake();
}

namespace {
std::string ahead_key(std::size_t endpoint, std::string_view event_id) {
  return std::to_string(endpoint).append(" ").append(event_id);
}
}  // namespace

bool EventOutbox::owe(std::size_t endpoint, std::shared_ptr<const LeadEvent> event, std::uint64_t ticket,
                      std::optional<WallTime> since) {
  // Delivered further on in the journal being replayed: not owed meanwhile.
  if (!delivered_ahead_.empty() && delivered_ahead_.contains(ahead_key(endpoint, event->id))) return false;
  auto& queue = queues_[endpoint];
  auto [position, fresh] = queue.lines.try_emplace(event->lead_id);
  auto& line = position->second;
  const bool was_idle = line.owed.empty() && !line.in_flight;
  const auto from = since.value_or(event->at);
  line.owed.push_back({std::move(event), ticket, from});
  ++queue.owed;
  replay_peak_owed_ = std::max(replay_peak_owed_, queue.owed);
  if (was_idle) queue.ready.push_back(position->first);
  return was_idle;
}

void EventOutbox::owe_everywhere(const std::shared_ptr<const LeadEvent>& event, std::uint64_t ticket, bool& woke) {
  for (std::size_t index = 0; index < endpoints_.size(); ++index)
    if (queues_[index].started && endpoints_[index].wants(event->type)) woke |= owe(index, event, ticket);
}

void EventOutbox::emit(LeadEvent event) {
  std::lock_guard lock(mutex_);
  staged_.push_back(std::move(event));
}

void EventOutbox::seal(std::uint64_t ticket) {
  bool woke = false;
  {
    std::lock_guard lock(mutex_);
    if (staged_.empty()) return;
    for (auto& event : staged_) owe_everywhere(std::make_shared<const LeadEvent>(std::move(event)), ticket, woke);
    staged_.clear();
  }
  if (woke) wake();
}

void EventOutbox::emit_recorded(LeadEvent event) {
  bool woke = false;
  {
    std::lock_guard lock(mutex_);
    auto shared = std::make_shared<const LeadEvent>(std::move(event));
    const auto ticket = write(event_record(*shared, {}));
    owe_everywhere(shared, ticket, woke);
  }
  if (woke) wake();
}

std::optional<Delivery> EventOutbox::next_due(std::size_t endpoint, WallTime now) {
  std::lock_guard lock(mutex_);
  auto& queue = queues_.at(endpoint);
  if (queue.resting_until && now < *queue.resting_until) return std::nullopt;
  while (!queue.waiting.empty() && queue.waiting.begin()->first <= now) {
    queue.ready.push_back(std::move(queue.waiting.begin()->second));
    queue.waiting.erase(queue.waiting.begin());
  }
  while (!queue.ready.empty()) {
    auto lead_id = std::move(queue.ready.front());
    queue.ready.pop_front();
    auto found = queue.lines.find(lead_id);
    if (found == queue.lines.end() || found->second.in_flight || found->second.owed.empty()) continue;
    auto& line = found->second;
    line.in_flight = true;
    return Delivery{endpoint, line.owed.front().event, line.owed.front().ticket, line.failures + 1};
  }
  return std::nullopt;
}

std::optional<WallTime> EventOutbox::next_wait_end(std::size_t endpoint) const {
  std::lock_guard lock(mutex_);
  const auto& queue = queues_.at(endpoint);
  const auto& resting = queue.resting_until;
  if (resting && !queue.ready.empty()) return resting;
  if (queue.waiting.empty()) return std::nullopt;
  const auto first = queue.waiting.begin()->first;
  return resting ? std::max(first, *resting) : first;
}

// The line's head is dealt with: the next it owes may go.
void EventOutbox::finish_head(EndpointQueue& queue, const std::string& lead_id) {
  auto found = queue.lines.find(lead_id);
  if (found == queue.lines.end()) return;
  auto& line = found->second;
  line.in_flight = false;
  line.failures = 0;
  if (!line.owed.empty()) {
    line.owed.pop_front();
    --queue.owed;
  }
  if (line.owed.empty())
    queue.lines.erase(found);
  else
    queue.ready.push_back(lead_id);
}

// Whether delivery is the one in flight for its lead: a delivery told
// twice, or after its event was dealt with, must not finish the next one.
bool EventOutbox::in_flight(const EndpointQueue& queue, const Delivery& delivery) {
  const auto found = queue.lines.find(delivery.event->lead_id);
  return found != queue.lines.end() && found->second.in_flight && !found->second.owed.empty() &&
         found->second.owed.front().event == delivery.event;
}

void EventOutbox::delivered(const Delivery& delivery) {
  bool more = false;
  {
    std::lock_guard lock(mutex_);
    auto& queue = queues_.at(delivery.endpoint);
    if (!in_flight(queue, delivery)) return;
    ++queue.delivered;
    queue.failures_in_a_row = 0;
    queue.resting_until.reset();
    write(about_event_record(kDoneOp, endpoints_[delivery.endpoint].name, *delivery.event));
    finish_head(queue, delivery.event->lead_id);
    more = !queue.ready.empty();
  }
  if (more) wake();
}

std::chrono::milliseconds EventOutbox::backoff(unsigned failures) const {
  auto wait = retry_.first;
  for (unsigned doubling = 1; doubling < failures && wait < retry_.longest; ++doubling) wait *= 2;
  return std::min(wait, retry_.longest);
}

void EventOutbox::keep_failed(EndpointQueue& queue, FailedEvent failed) {
  queue.failed.push_back(std::move(failed));
  if (queue.failed.size() > retry_.failed_kept) queue.failed.pop_front();
}

bool EventOutbox::not_delivered(const Delivery& delivery, std::string_view reason, WallTime now) {
  std::lock_guard lock(mutex_);
  auto& queue = queues_.at(delivery.endpoint);
  if (!in_flight(queue, delivery)) return false;
  const auto& lead_id = delivery.event->lead_id;
  auto& line = queue.lines.find(lead_id)->second;
  if (++queue.failures_in_a_row >= retry_.endpoint_rest_after)
    queue.resting_until = now + backoff(queue.failures_in_a_row - retry_.endpoint_rest_after + 1);
  if (now - line.owed.front().since >= retry_.give_up_after) {
    ++queue.gave_up;
    FailedEvent failed{delivery.event, std::string(reason), now};
    write(failed_record(endpoints_[delivery.endpoint].name, failed));
    keep_failed(queue, std::move(failed));
    finish_head(queue, lead_id);
    return true;
  }
  ++queue.retried;
  line.in_flight = false;
  ++line.failures;
  queue.waiting.emplace(now + backoff(line.failures), lead_id);
  return false;
}

std::vector<FailedEvent> EventOutbox::failed_events(std::size_t endpoint) const {
  std::lock_guard lock(mutex_);
  const auto& failed = queues_.at(endpoint).failed;
  return {failed.begin(), failed.end()};
}

bool EventOutbox::redeliver(std::size_t endpoint, std::string_view event_id, WallTime now) {
  bool woke = false;
  {
    std::lock_guard lock(mutex_);
    auto& queue = queues_.at(endpoint);
    auto found = std::find_if(queue.failed.begin(), queue.failed.end(),
                              [&](const FailedEvent& failed) { return failed.event->id == event_id; });
    if (found == queue.failed.end()) return false;
    auto event = found->event;
    queue.failed.erase(found);
    // Owed again for a whole period, counted from now.
    write(about_event_record(kRedeliverOp, endpoints_[endpoint].name, *event, now));
    woke = owe(endpoint, std::move(event), 0, now);
  }
  if (woke) wake();
  return true;
}

OutboxEndpointState EventOutbox::state(std::size_t endpoint, WallTime now) const {
  std::lock_guard lock(mutex_);
  const auto& queue = queues_.at(endpoint);
  OutboxEndpointState state;
  state.owed = queue.owed;
  state.leads = queue.lines.size();
  for (const auto& [lead_id, line] : queue.lines)
    if (!line.owed.empty() && (!state.oldest_owed || line.owed.front().event->at < *state.oldest_owed))
      state.oldest_owed = line.owed.front().event->at;
  state.failed = queue.failed.size();
  state.delivered = queue.delivered;
  state.retried = queue.retried;
  state.gave_up = queue.gave_up;
  if (queue.resting_until && now < *queue.resting_until) state.resting_until = queue.resting_until;
  return state;
}

bool EventOutbox::remove_owed(EndpointQueue& queue, const std::string& lead_id, std::string_view event_id) {
  auto found = queue.lines.find(lead_id);
  if (found == queue.lines.end()) return false;
  auto& owed = found->second.owed;
  auto position =
      std::find_if(owed.begin(), owed.end(), [&](const Owed& entry) { return entry.event->id == event_id; });
  if (position == owed.end()) return false;
  owed.erase(position);
  --queue.owed;
  if (owed.empty()) queue.lines.erase(found);  // its place in ready, if any, is skipped by next_due
  return true;
}

std::vector<std::string_view> EventOutbox::record_kinds() {
  return {kEndpointOp, kDoneOp, kFailedOp, kRedeliverOp, kEventOp};
}

void EventOutbox::look_ahead(std::string_view payload) {
  // Only deliveries matter here; a quick look at the start spares parsing the rest.
  constexpr std::string_view kDonePrefix = R"({"op":"event_done",)";
  if (!payload.starts_with(kDonePrefix)) return;
  boost::system::error_code error;
  const auto value = parse_stored_json(payload, error);
  const auto* object = error ? nullptr : value.if_object();
  if (!object) return;  // the replay proper says what is wrong with it
  std::lock_guard lock(mutex_);
  if (const auto endpoint = endpoint_named(text_of(*object, "endpoint")))
    delivered_ahead_.insert(ahead_key(*endpoint, text_of(*object, "id")));
}

std::size_t EventOutbox::replay_peak_owed() const {
  std::lock_guard lock(mutex_);
  return replay_peak_owed_;
}

bool EventOutbox::owns_op(std::string_view op) const {
  const auto kinds = record_kinds();
  return std::find(kinds.begin(), kinds.end(), op) != kinds.end();
}

void EventOutbox::replay_record(std::string_view payload) {
  boost::system::error_code error;
  const auto value = parse_stored_json(payload, error);
  const auto* object = error ? nullptr : value.if_object();
  if (!object) throw std::runtime_error("a journal event record does not parse");
  const auto op = text_of(*object, "op");
  auto fail = [&]() { throw std::runtime_error("a journal '" + op + "' record does not parse"); };
  std::lock_guard lock(mutex_);
  // Records of an endpoint no longer configured are left alone.
  const auto endpoint = endpoint_named(text_of(*object, op == kEndpointOp ? "name" : "endpoint"));
  if (op == kEndpointOp) {
    if (endpoint) queues_[*endpoint].started = true;
  } else if (op == kDoneOp) {
    if (endpoint) {
      auto& queue = queues_[*endpoint];
      const auto id = text_of(*object, "id");
      // Its event was never owed (look_ahead), or is owed now (a record from before this version).
      if (delivered_ahead_.erase(ahead_key(*endpoint, id)) > 0 || remove_owed(queue, text_of(*object, "leadId"), id))
        ++queue.delivered;
    }
  } else if (op == kFailedOp) {
    auto event = lead_event_from_json(object->contains("event") ? object->at("event") : json::value());
    const auto at = parse_iso8601(text_of(*object, "at"));
    if (!event || !at) fail();
    if (endpoint) {
      auto& queue = queues_[*endpoint];
      remove_owed(queue, event->lead_id, event->id);
      keep_failed(queue, {std::make_shared<const LeadEvent>(std::move(*event)), text_of(*object, "reason"), *at});
    }
  } else if (op == kRedeliverOp) {
    if (endpoint) {
      auto& queue = queues_[*endpoint];
      const auto id = text_of(*object, "id");
      auto found = std::find_if(queue.failed.begin(), queue.failed.end(),
                                [&](const FailedEvent& failed) { return failed.event->id == id; });
      if (found != queue.failed.end()) {
        owe(*endpoint, found->event, 0, parse_iso8601(text_of(*object, "at")));
        queue.failed.erase(found);
      }
    }
  } else if (op == kEventOp) {
    auto event = lead_event_from_json(object->contains("event") ? object->at("event") : json::value());
    if (!event) fail();
    auto shared = std::make_shared<const LeadEvent>(std::move(*event));
    if (object->contains("endpoint")) {
      if (endpoint && queues_[*endpoint].started) owe(*endpoint, shared, 0, parse_iso8601(text_of(*object, "since")));
    } else {
      bool woke = false;
      owe_everywhere(shared, 0, woke);
    }
  }
}

void EventOutbox::hold_for_snapshot(const std::function<void(std::vector<std::string> payloads)>& queue_snapshot) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> payloads;
  for (std::size_t index = 0; index < endpoints_.size(); ++index) {
    const auto& queue = queues_[index];
    if (!queue.started) continue;
    const auto& name = endpoints_[index].name;
    payloads.push_back(endpoint_record(name));
    for (const auto& failed : queue.failed) payloads.push_back(failed_record(name, failed));
    for (const auto& [lead_id, line] : queue.lines)
      for (const auto& owed : line.owed) payloads.push_back(event_record(*owed.event, name, owed.since));
  }
  queue_snapshot(std::move(payloads));
}

}  // namespace callgate::events
