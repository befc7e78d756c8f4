#include "core/lead/lead_json.hpp"

#include "core/civil_time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>

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

// A JSON object written field by field. Strings are escaped as JSON needs
// (quote, backslash, control characters) and otherwise kept byte for byte,
// as Boost.JSON's serializer keeps them: what a provider sent is stored as
// it came, valid UTF-8 or not (parse_stored_json reads it back).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void text(std::string_view key, std::string_view value) {
    this->key(key);
    quoted(value);
  }
  void text_if_any(std::string_view key, const std::string& value) {
    if (!value.empty()) text(key, value);
  }
  void time_if_any(std::string_view key, const std::optional<WallTime>& value) {
    if (!value) return;
    this->key(key);
    out_.push_back('"');
    append_iso8601(out_, *value);  // digits, '-', ':', '.' and 'Z': nothing to escape
    out_.push_back('"');
  }
  template <class Number>
  void number_if_any(std::string_view key, const std::optional<Number>& value) {
    if (!value) return;
    this->key(key);
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, *value);
    const std::string_view digits(buffer, static_cast<std::size_t>(end - buffer));
    out_.append(digits);
    // A whole double keeps a fraction so it reads back as a double.
    if constexpr (std::is_floating_point_v<Number>)
      if (digits.find_first_of(".en") == std::string_view::npos) out_.append(".0");
  }
  void close() { out_.push_back('}'); }

 private:
  // Keys are this file's own literals, which need no escape.
  void key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(key.data(), key.size());
    out_.append("\":", 2);
  }
  void quoted(std::string_view value) {
    static constexpr char hex[] = "0123456789abcdef";
    out_.push_back('"');
    // Runs that need no escape (nearly everything) are appended whole.
    std::size_t run = 0;
    for (std::size_t at = first_to_escape(value, 0); at < value.size(); at = first_to_escape(value, run)) {
      const char c = value[at];
      const auto byte = static_cast<unsigned char>(c);
      out_.append(value.data() + run, at - run);
      run = at + 1;
      if (byte >= 0x20) {
        out_.push_back('\\');
        out_.push_back(c);
      } else {
        const char escaped[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xf]};
        out_.append(escaped, sizeof escaped);
      }
    }
    out_.append(value.data() + run, value.size() - run);
    out_.push_back('"');
  }

  static bool needs_escape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

  // Where the first byte from `from` on that JSON must escape is, or the
  // size. Eight bytes are looked at together: a word in which no byte is a
  // quote, a backslash or below 0x20 is skipped whole. (The tests below can
  // report a byte that is none of those, never miss one: a word they flag
  // is looked at byte by byte.)
  static std::size_t first_to_escape(std::string_view value, std::size_t from) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::size_t at = from;
    while (at + 8 <= value.size()) {
      std::uint64_t word;
      std::memcpy(&word, value.data() + at, sizeof word);
      const std::uint64_t quote = word ^ (ones * '"');
      const std::uint64_t backslash = word ^ (ones * '\\');
      const std::uint64_t flagged =
          ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((word - ones * 0x20) & ~word);
      if ((flagged & highs) == 0) {
        at += 8;
        continue;
      }
      for (const auto end = at + 8; at < end; ++at)
        if (needs_escape(value[at])) return at;
    }
    for (; at < value.size(); ++at)
      if (needs_escape(value[at])) return at;
    return value.size();
  }

  std::string& out_;
  bool first_ = true;
};

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
  ObjectWriter& object;
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
  ObjectWriter object(out);
  visit_call_event_fields(event, AppendFieldWriter{object});
  object.close();
}

json::object to_json(const Attempt& attempt) {
  json::object object;
  object["provider"] = attempt.provider;
  object["callSid"] = attempt.call_sid;
  if (attempt.status) object["status"] = to_string(*attempt.status);
  object["createdAt"] = format_iso8601(attempt.created);
  put(object, "answeredAt", attempt.answered);
  put(object, "endedAt", attempt.ended);
  put(object, "durationSeconds", attempt.duration_seconds);
  put(object, "recordingUrl", attempt.recording_url);
  put(object, "answeredBy", attempt.answered_by);
  put(object, "sipCode", attempt.sip_code);
  put(object, "error", attempt.error);
  return object;
}

json::object to_json(const CallFlowInput& input) {
  json::object object;
  object["provider"] = input.provider;
  object["callSid"] = input.call_sid;
  put(object, "digits", input.digits);
  put(object, "speechResult", input.speech_result);
  put(object, "confidence", input.confidence);
  put(object, "detail", input.detail);
  object["receivedAt"] = format_iso8601(input.received);
  return object;
}

json::object to_json(const Recording& recording) {
  json::object object;
  object["id"] = recording.id;
  object["source"] = recording.source;
  put(object, "callSid", recording.call_sid);
  put(object, "status", recording.status);
  put(object, "file", recording.file);
  put(object, "providerUrl", recording.provider_url);
  put(object, "durationMs", recording.duration_ms);
  if (recording.channels) object["channels"] = recording.channels;
  put(object, "format", recording.format);
  put(object, "errorCode", recording.error_code);
  object["startedAt"] = format_iso8601(recording.started);
  object["updatedAt"] = format_iso8601(recording.updated);
  return object;
}

json::object to_json(const TranscriptEntry& entry) {
  json::object object;
  put(object, "callSid", entry.call_sid);
  object["source"] = entry.source;
  object["role"] = entry.role;
  object["text"] = entry.text;
  put(object, "status", entry.status);
  object["at"] = format_iso8601(entry.at);
  return object;
}

json::object to_json(const MediaStream& stream) {
  json::object object;
  object["claim"] = stream.claim;
  object["callSid"] = stream.call_sid;
  object["provider"] = stream.provider;
  put(object, "streamSid", stream.stream_sid);
  object["startedAt"] = format_iso8601(stream.started);
  put(object, "endedAt", stream.ended);
  put(object, "outcome", stream.outcome);
  put(object, "transferTo", stream.transfer_to);
  return object;
}

json::object to_json(const Lead& lead) {
  json::object object;
  object["id"] = lead.id;
  object["phone"] = lead.phone;
  put(object, "name", lead.name);
  put(object, "email", lead.email);
  put(object, "source", lead.source);
  if (!lead.metadata_json.empty()) {
    boost::system::error_code error;
    auto metadata = parse_stored_json(lead.metadata_json, error);
    if (!error) object["metadata"] = std::move(metadata);
  }
  json::object consent;
  consent["givenAt"] = format_iso8601(lead.consent.given_at);
  put(consent, "clientAddress", lead.consent.client_address);
  put(consent, "userAgent", lead.consent.user_agent);
  put(consent, "textVersion", lead.consent.text_version);
  object["consent"] = std::move(consent);
  object["createdAt"] = format_iso8601(lead.created);
  object["updatedAt"] = format_iso8601(lead.updated);
  object["status"] = to_string(lead.status);
  json::array attempts;
  for (const auto& attempt : lead.attempts) attempts.push_back(to_json(attempt));
  object["attempts"] = std::move(attempts);
  json::array events;
  for (const auto& recorded : lead.events) {
    auto event = to_json(recorded.event);
    event["receivedAt"] = format_iso8601(recorded.received);
    event["outcome"] = to_string(recorded.outcome);
    events.push_back(std::move(event));
  }
  object["events"] = std::move(events);
  json::array inputs;
  for (const auto& input : lead.call_flow_inputs) inputs.push_back(to_json(input));
  object["callFlowInputs"] = std::move(inputs);
  json::array recordings;
  for (const auto& recording : lead.recordings) recordings.push_back(to_json(recording));
  object["recordings"] = std::move(recordings);
  json::array transcript;
  for (const auto& entry : lead.transcript) transcript.push_back(to_json(entry));
  object["transcript"] = std::move(transcript);
  json::array streams;
  for (const auto& stream : lead.media_streams) streams.push_back(to_json(stream));
  object["mediaStreams"] = std::move(streams);
  return object;
}

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
