#include "core/lead/lead_json.hpp"

#include "core/civil_time.hpp"
#include "core/json_object_writer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace callgate {

namespace json = boost::json;

namespace {

// Writers: optional and empty values are left out, so the JSON says only
// what is known.
void put(json::object& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}
void put(json::object& object, std::string_view key, const std::optional<WallTime>& value) {
  if (value) object[key] = format_iso8601(*value);
}
template <class Number>
void put(json::object& object, std::string_view key, const std::optional<Number>& value) {
  if (value) object[key] = *value;
}

// Readers over an object that may lack the key.
struct Reader {
  const json::object& object;
  bool ok = true;

  std::string text(std::string_view key) const {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
  }
  std::optional<WallTime> time(std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
      ok = false;
      return std::nullopt;
    }
    auto parsed = parse_iso8601(value->as_string());
    if (!parsed) ok = false;
    return parsed;
  }
  WallTime required_time(std::string_view key) {
    auto parsed = time(key);
    if (!parsed) ok = false;
    return parsed.value_or(WallTime{});
  }
  template <class Number>
  std::optional<Number> number(std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if constexpr (std::is_floating_point_v<Number>) {
      if (value->is_double()) return value->as_double();
      if (value->is_int64()) return static_cast<Number>(value->as_int64());
    } else {
      if (value->is_int64()) return static_cast<Number>(value->as_int64());
      if (value->is_uint64()) return static_cast<Number>(value->as_uint64());
    }
    ok = false;
    return std::nullopt;
  }
};

const json::object* as_object(const json::value& value) { return value.is_object() ? &value.as_object() : nullptr; }

}  // namespace

json::value parse_stored_json(std::string_view text, boost::system::error_code& error) {
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  // Far above what any writer nests (intake bounds metadata at 8 levels and
  // a record wraps it in a few more), so everything ever stored, including
  // records written before that bound existed (up to 33 levels), reads back.
  options.max_depth = 128;
  return json::parse(text, error, {}, options);
}

std::optional<EventOutcome> parse_event_outcome(std::string_view text) {
  for (auto outcome : {EventOutcome::applied, EventOutcome::out_of_order, EventOutcome::duplicate,
                       EventOutcome::anomaly, EventOutcome::unknown_call})
    if (to_string(outcome) == text) return outcome;
  return std::nullopt;
}

// A CallEvent's fields, each once, in the order they are written: its
// writer to a json::object, the hot path's direct writer and its reader
// all go through this, so a field added here is written, appended and read.
namespace {

enum class Presence { always, if_any };  // if_any: left out when empty or unset

template <class Event, class Visit>
void visit_call_event_fields(Event& event, Visit&& visit) {
  visit("provider", event.provider, Presence::if_any);
  visit("callSid", event.call_sid, Presence::always);
  visit("leadId", event.lead_id, Presence::if_any);
  visit("status", event.status, Presence::always);
  visit("rawStatus", event.raw_status, Presence::if_any);
  visit("sequenceNumber", event.sequence_number, Presence::if_any);
  visit("idempotencyToken", event.idempotency_token, Presence::if_any);
  visit("eventTime", event.event_time, Presence::if_any);
  visit("durationSeconds", event.duration_seconds, Presence::if_any);
  visit("recordingUrl", event.recording_url, Presence::if_any);
  visit("answeredBy", event.answered_by, Presence::if_any);
  visit("sipCode", event.sip_code, Presence::if_any);
  visit("digits", event.digits, Presence::if_any);
  visit("speechResult", event.speech_result, Presence::if_any);
  visit("confidence", event.confidence, Presence::if_any);
}

// The fields into a json::object (the API's lead, a record's event).
struct ObjectFieldWriter {
  json::object& object;
  void operator()(std::string_view key, const std::string& value, Presence presence) {
    if (presence == Presence::always)
      object[key] = value;
    else
      put(object, key, value);
  }
  void operator()(std::string_view key, CallStatus value, Presence) { object[key] = to_string(value); }
  void operator()(std::string_view key, const std::optional<WallTime>& value, Presence) { put(object, key, value); }
  template <class Number>
  void operator()(std::string_view key, const std::optional<Number>& value, Presence) {
    put(object, key, value);
  }
};

// The fields written straight as text (the webhook's journal record).
struct AppendFieldWriter {
  JsonObjectWriter& object;
  void operator()(std::string_view key, const std::string& value, Presence presence) {
    if (presence == Presence::always)
      object.text(key, value);
    else
      object.text_if_any(key, value);
  }
  void operator()(std::string_view key, CallStatus value, Presence) { object.text(key, to_string(value)); }
  void operator()(std::string_view key, const std::optional<WallTime>& value, Presence) {
    object.time_if_any(key, value);
  }
  template <class Number>
  void operator()(std::string_view key, const std::optional<Number>& value, Presence) {
    object.number_if_any(key, value);
  }
};

// The fields read back; a missing or unknown status fails the whole event.
struct FieldReader {
  Reader read;
  void operator()(std::string_view key, std::string& value, Presence) { value = read.text(key); }
  void operator()(std::string_view key, CallStatus& value, Presence) {
    const auto status = parse_call_status(read.text(key));
    if (status)
      value = *status;
    else
      read.ok = false;
  }
  void operator()(std::string_view key, std::optional<WallTime>& value, Presence) { value = read.time(key); }
  template <class Number>
  void operator()(std::string_view key, std::optional<Number>& value, Presence) {
    value = read.template number<Number>(key);
  }
};

}  // namespace

json::object to_json(const CallEvent& event) {
  json::object object;
  visit_call_event_fields(event, ObjectFieldWriter{object});
  return object;
}

void append_json(std::string& out, const CallEvent& event) {
  JsonObjectWriter object(out);
  visit_call_event_fields(event, AppendFieldWriter{object});
  object.close();
}

// Each part of a lead written once, here: the journal's records take the
// text as it is, and to_json reads the same text back into an object for
// the API and the other stores, so the two can never say different things.
namespace {

void write_fields(JsonObjectWriter& object, const Attempt& attempt) {
  object.text("provider", attempt.provider);
  object.text("callSid", attempt.call_sid);
  if (attempt.status) object.text("status", to_string(*attempt.status));
  object.time("createdAt", attempt.created);
  object.time_if_any("answeredAt", attempt.answered);
  object.time_if_any("endedAt", attempt.ended);
  object.number_if_any("durationSeconds", attempt.duration_seconds);
  object.text_if_any("recordingUrl", attempt.recording_url);
  object.text_if_any("answeredBy", attempt.answered_by);
  object.number_if_any("sipCode", attempt.sip_code);
  object.text_if_any("error", attempt.error);
}

void write_fields(JsonObjectWriter& object, const RecordedEvent& recorded) {
  visit_call_event_fields(recorded.event, AppendFieldWriter{object});
  object.time("receivedAt", recorded.received);
  object.text("outcome", to_string(recorded.outcome));
}

void write_fields(JsonObjectWriter& object, const CallFlowInput& input) {
  object.text("provider", input.provider);
  object.text("callSid", input.call_sid);
  object.text_if_any("digits", input.digits);
  object.text_if_any("speechResult", input.speech_result);
  object.number_if_any("confidence", input.confidence);
  object.text_if_any("detail", input.detail);
  object.time("receivedAt", input.received);
}

void write_fields(JsonObjectWriter& object, const Recording& recording) {
  object.text("id", recording.id);
  object.text("source", recording.source);
  object.text_if_any("callSid", recording.call_sid);
  object.text_if_any("status", recording.status);
  object.text_if_any("file", recording.file);
  object.text_if_any("providerUrl", recording.provider_url);
  object.number_if_any("durationMs", recording.duration_ms);
  if (recording.channels) object.number("channels", recording.channels);
  object.text_if_any("format", recording.format);
  object.text_if_any("errorCode", recording.error_code);
  object.time("startedAt", recording.started);
  object.time("updatedAt", recording.updated);
}

void write_fields(JsonObjectWriter& object, const TranscriptEntry& entry) {
  object.text_if_any("callSid", entry.call_sid);
  object.text("source", entry.source);
  object.text("role", entry.role);
  object.text("text", entry.text);
  object.text_if_any("status", entry.status);
  object.time("at", entry.at);
}

void write_fields(JsonObjectWriter& object, const MediaStream& stream) {
  object.text("claim", stream.claim);
  object.text("callSid", stream.call_sid);
  object.text("provider", stream.provider);
  object.text_if_any("streamSid", stream.stream_sid);
  object.time("startedAt", stream.started);
  object.time_if_any("endedAt", stream.ended);
  object.text_if_any("outcome", stream.outcome);
  object.text_if_any("transferTo", stream.transfer_to);
}

void write_fields(JsonObjectWriter& object, const Lead& lead) {
  object.text("id", lead.id);
  object.text("phone", lead.phone);
  object.text_if_any("name", lead.name);
  object.text_if_any("email", lead.email);
  object.text_if_any("source", lead.source);
  if (!lead.metadata_json.empty()) {
    // Read and written again: a record must stay JSON whatever the field
    // holds (one that does not read is left out).
    boost::system::error_code error;
    const auto metadata = parse_stored_json(lead.metadata_json, error);
    if (!error) object.raw("metadata", json::serialize(metadata));
  }
  auto consent = object.object("consent");
  consent.time("givenAt", lead.consent.given_at);
  consent.text_if_any("clientAddress", lead.consent.client_address);
  consent.text_if_any("userAgent", lead.consent.user_agent);
  consent.text_if_any("textVersion", lead.consent.text_version);
  consent.close();
  object.time("createdAt", lead.created);
  object.time("updatedAt", lead.updated);
  object.text("status", to_string(lead.status));
  const auto each = [](JsonObjectWriter& item, const auto& part) { write_fields(item, part); };
  object.objects("attempts", lead.attempts, each);
  object.objects("events", lead.events, each);
  object.objects("callFlowInputs", lead.call_flow_inputs, each);
  object.objects("recordings", lead.recordings, each);
  object.objects("transcript", lead.transcript, each);
  object.objects("mediaStreams", lead.media_streams, each);
}

template <class Part>
void append_part(std::string& out, const Part& part) {
  JsonObjectWriter object(out);
  write_fields(object, part);
  object.close();
}

template <class Part>
json::object object_of(const Part& part) {
  std::string text;
  append_part(text, part);
  boost::system::error_code error;
  auto value = parse_stored_json(text, error);
  if (error || !value.is_object()) throw std::logic_error("lead_json wrote JSON it cannot read: " + text);
  return std::move(value.as_object());
}

}  // namespace

json::object to_json(const Attempt& attempt) { return object_of(attempt); }
json::object to_json(const CallFlowInput& input) { return object_of(input); }
json::object to_json(const Recording& recording) { return object_of(recording); }
json::object to_json(const TranscriptEntry& entry) { return object_of(entry); }
json::object to_json(const MediaStream& stream) { return object_of(stream); }
json::object to_json(const Lead& lead) { return object_of(lead); }

void append_json(std::string& out, const Attempt& attempt) { append_part(out, attempt); }
void append_json(std::string& out, const Lead& lead) { append_part(out, lead); }

std::optional<CallEvent> call_event_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  CallEvent event;
  FieldReader fields{Reader{*object}};
  visit_call_event_fields(event, fields);
  if (!fields.read.ok) return std::nullopt;
  return event;
}

std::optional<Attempt> attempt_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  Attempt attempt;
  attempt.provider = read.text("provider");
  attempt.call_sid = read.text("callSid");
  if (object->contains("status")) {
    attempt.status = parse_call_status(read.text("status"));
    if (!attempt.status) return std::nullopt;
  }
  attempt.created = read.required_time("createdAt");
  attempt.answered = read.time("answeredAt");
  attempt.ended = read.time("endedAt");
  attempt.duration_seconds = read.number<std::int64_t>("durationSeconds");
  attempt.recording_url = read.text("recordingUrl");
  attempt.answered_by = read.text("answeredBy");
  attempt.sip_code = read.number<int>("sipCode");
  attempt.error = read.text("error");
  if (!read.ok) return std::nullopt;
  return attempt;
}

std::optional<CallFlowInput> call_flow_input_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  CallFlowInput input;
  input.provider = read.text("provider");
  input.call_sid = read.text("callSid");
  input.digits = read.text("digits");
  input.speech_result = read.text("speechResult");
  input.confidence = read.number<double>("confidence");
  input.detail = read.text("detail");
  input.received = read.required_time("receivedAt");
  if (!read.ok) return std::nullopt;
  return input;
}

std::optional<Recording> recording_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  Recording recording;
  recording.id = read.text("id");
  recording.source = read.text("source");
  recording.call_sid = read.text("callSid");
  recording.status = read.text("status");
  recording.file = read.text("file");
  recording.provider_url = read.text("providerUrl");
  recording.duration_ms = read.number<std::int64_t>("durationMs");
  recording.channels = read.number<unsigned>("channels").value_or(0);
  recording.format = read.text("format");
  recording.error_code = read.text("errorCode");
  recording.started = read.required_time("startedAt");
  recording.updated = read.required_time("updatedAt");
  if (!read.ok || recording.id.empty()) return std::nullopt;
  return recording;
}

std::optional<TranscriptEntry> transcript_entry_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  TranscriptEntry entry;
  entry.call_sid = read.text("callSid");
  entry.source = read.text("source");
  entry.role = read.text("role");
  entry.text = read.text("text");
  entry.status = read.text("status");
  entry.at = read.required_time("at");
  if (!read.ok) return std::nullopt;
  return entry;
}

std::optional<MediaStream> media_stream_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  MediaStream stream;
  stream.claim = read.text("claim");
  stream.call_sid = read.text("callSid");
  stream.provider = read.text("provider");
  stream.stream_sid = read.text("streamSid");
  stream.started = read.required_time("startedAt");
  stream.ended = read.time("endedAt");
  stream.outcome = read.text("outcome");
  stream.transfer_to = read.text("transferTo");
  if (!read.ok || stream.claim.empty()) return std::nullopt;
  return stream;
}

json::object to_json(const LeadUpdate& update) {
  return std::visit(
      [](const auto& item) {
        using Item = std::decay_t<decltype(item)>;
        json::object object;
        if constexpr (std::is_same_v<Item, CallFlowInput>) {
          object["input"] = to_json(item);
        } else if constexpr (std::is_same_v<Item, Recording>) {
          object["recording"] = to_json(item);
        } else if constexpr (std::is_same_v<Item, TranscriptEntry>) {
          object["transcript"] = to_json(item);
        } else if constexpr (std::is_same_v<Item, MediaStream>) {
          object["mediaStream"] = to_json(item);
        } else {
          object["mediaStreamEnd"] = json::object{{"claim", item.claim},
                                                  {"endedAt", format_iso8601(item.ended)},
                                                  {"outcome", item.outcome},
                                                  {"transferTo", item.transfer_to}};
        }
        return object;
      },
      update);
}

std::optional<LeadUpdate> lead_update_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object || object->size() != 1) return std::nullopt;
  const auto& [key, item] = *object->begin();
  auto wrap = [](auto parsed) -> std::optional<LeadUpdate> {
    if (!parsed) return std::nullopt;
    return LeadUpdate(std::move(*parsed));
  };
  if (key == "input") return wrap(call_flow_input_from_json(item));
  if (key == "recording") return wrap(recording_from_json(item));
  if (key == "transcript") return wrap(transcript_entry_from_json(item));
  if (key == "mediaStream") return wrap(media_stream_from_json(item));
  if (key == "mediaStreamEnd" && item.is_object()) {
    Reader read{item.as_object()};
    MediaStreamEnd end{read.text("claim"), read.required_time("endedAt"), read.text("outcome"),
                       read.text("transferTo")};
    if (!read.ok || end.claim.empty()) return std::nullopt;
    return LeadUpdate(std::move(end));
  }
  return std::nullopt;
}

std::optional<Lead> lead_from_json(const json::value& value) {
  const auto* object = as_object(value);
  if (!object) return std::nullopt;
  Reader read{*object};
  Lead lead;
  lead.id = read.text("id");
  lead.phone = read.text("phone");
  if (lead.id.empty() || lead.phone.empty()) return std::nullopt;
  lead.name = read.text("name");
  lead.email = read.text("email");
  lead.source = read.text("source");
  if (const auto* metadata = object->if_contains("metadata")) lead.metadata_json = json::serialize(*metadata);
  if (const auto* consent = object->if_contains("consent"); consent && consent->is_object()) {
    Reader consent_reader{consent->as_object()};
    lead.consent.given_at = consent_reader.required_time("givenAt");
    lead.consent.client_address = consent_reader.text("clientAddress");
    lead.consent.user_agent = consent_reader.text("userAgent");
    lead.consent.text_version = consent_reader.text("textVersion");
    if (!consent_reader.ok) return std::nullopt;
  }
  lead.created = read.required_time("createdAt");
  lead.updated = read.required_time("updatedAt");
  auto status = parse_lead_status(read.text("status"));
  if (!status) return std::nullopt;
  lead.status = *status;
  auto each = [&](std::string_view key, auto&& take) {
    const auto* items = object->if_contains(key);
    if (!items) return true;
    if (!items->is_array()) return false;
    for (const auto& item : items->as_array())
      if (!take(item)) return false;
    return true;
  };
  const bool lists_ok = each("attempts",
                             [&](const json::value& item) {
                               auto attempt = attempt_from_json(item);
                               if (attempt) lead.attempts.push_back(std::move(*attempt));
                               return attempt.has_value();
                             }) &&
                        each("events",
                             [&](const json::value& item) {
                               auto event = call_event_from_json(item);
                               if (!event || !item.is_object()) return false;
                               Reader event_reader{item.as_object()};
                               const auto received = event_reader.required_time("receivedAt");
                               const auto outcome = parse_event_outcome(event_reader.text("outcome"));
                               if (!outcome || !event_reader.ok) return false;
                               lead.events.push_back({std::move(*event), received, *outcome});
                               return true;
                             }) &&
                        each("callFlowInputs",
                             [&](const json::value& item) {
                               auto input = call_flow_input_from_json(item);
                               if (input) lead.call_flow_inputs.push_back(std::move(*input));
                               return input.has_value();
                             }) &&
                        each("recordings",
                             [&](const json::value& item) {
                               auto recording = recording_from_json(item);
                               if (recording) lead.recordings.push_back(std::move(*recording));
                               return recording.has_value();
                             }) &&
                        each("transcript",
                             [&](const json::value& item) {
                               auto entry = transcript_entry_from_json(item);
                               if (entry) lead.transcript.push_back(std::move(*entry));
                               return entry.has_value();
                             }) &&
                        each("mediaStreams", [&](const json::value& item) {
                          auto stream = media_stream_from_json(item);
                          if (stream) lead.media_streams.push_back(std::move(*stream));
                          return stream.has_value();
                        });
  if (!lists_ok || !read.ok) return std::nullopt;
  return lead;
}

std::string received_event_record(const CallEvent& event, WallTime received) {
  std::string record;
  record.reserve(384);
  record.append(R"({"event":)");
  append_json(record, event);
  record.append(R"(,"receivedAt":")");
  append_iso8601(record, received);
  record.append(R"("})");
  return record;
}

std::optional<std::pair<CallEvent, WallTime>> read_received_event_record(std::string_view text) {
  boost::system::error_code error;
  const auto value = parse_stored_json(text, error);
  if (error || !value.is_object()) return std::nullopt;
  const auto* event_value = value.as_object().if_contains("event");
  const auto* received = value.as_object().if_contains("receivedAt");
  if (!event_value || !received || !received->is_string()) return std::nullopt;
  auto event = call_event_from_json(*event_value);
  auto time = parse_iso8601(received->as_string());
  if (!event || !time) return std::nullopt;
  return std::pair{std::move(*event), *time};
}

}  // namespace callgate
