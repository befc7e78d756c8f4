#include "core/events/lead_events.hpp"

#include "core/json_object_writer.hpp"
#include "core/utf8.hpp"

#include <type_traits>

namespace callgate::events {

namespace {

// What goes into an id: letters, digits, '-' and '_' (a recording id is
// the provider's text).
std::string id_part(std::string_view text) {
  std::string part;
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    part.push_back(plain ? c : '_');
  }
  return part;
}

// Writes text that came from outside (a provider, the enquiry) as valid UTF-8.
void outside_text(JsonObjectWriter& writer, std::string_view key, std::string_view value) {
  if (is_valid_utf8(value))
    writer.text(key, value);
  else
    writer.text(key, to_valid_utf8(value));
}

void outside_text_if_any(JsonObjectWriter& writer, std::string_view key, const std::string& value) {
  if (!value.empty()) outside_text(writer, key, value);
}

// The event around its data, which write_data fills in.
template <class WriteData>
LeadEvent make_event(std::string_view lead_id, std::string_view what, std::string_view type, WallTime at,
                     WriteData&& write_data) {
  LeadEvent event;
  event.id.append("evt_").append(lead_id).append("_").append(what);
  event.type = std::string(type);
  event.lead_id = std::string(lead_id);
  event.at = at;
  JsonObjectWriter payload(event.payload);
  payload.text("type", type);
  payload.time("timestamp", at);
  auto data = payload.object("data");
  data.text("leadId", lead_id);
  write_data(data);
  data.close();
  payload.close();
  return event;
}

std::string call_part(std::size_t attempt_index) { return "call" + std::to_string(attempt_index + 1); }

}  // namespace

const std::vector<std::string_view>& lead_event_types() {
  static const std::vector<std::string_view> types = {
      "lead.created", "call.placed",       "call.not_placed",  "call.status",           "lead.completed",
      "call.input",   "recording.updated", "transcript.added", "lead.redial_scheduled", "lead.failed"};
  return types;
}

LeadEvent lead_created_event(const Lead& lead) {
  return make_event(lead.id, "created", "lead.created", lead.created, [&](JsonObjectWriter& data) {
    data.text("phone", lead.phone);
    outside_text_if_any(data, "name", lead.name);
    outside_text_if_any(data, "email", lead.email);
    outside_text_if_any(data, "source", lead.source);
    // Parsed (and so checked as JSON and UTF-8) when the enquiry came in.
    if (!lead.metadata_json.empty()) data.raw("metadata", lead.metadata_json);
    data.time("consentGivenAt", lead.consent.given_at);
  });
}

LeadEvent call_attempt_event(const Lead& lead, std::size_t attempt_index) {
  const auto& attempt = lead.attempts.at(attempt_index);
  const bool placed = attempt.error.empty();
  const auto what = call_part(attempt_index) + (placed ? "_placed" : "_not_placed");
  return make_event(lead.id, what, placed ? "call.placed" : "call.not_placed", attempt.created,
                    [&](JsonObjectWriter& data) {
                      data.number("call", attempt_index + 1);
                      data.text("provider", attempt.provider);
                      outside_text_if_any(data, "callSid", attempt.call_sid);
                      outside_text_if_any(data, "error", attempt.error);
                    });
}

LeadEvent call_status_event(const Lead& lead, std::size_t attempt_index, const RecordedEvent& recorded) {
  const auto& event = recorded.event;
  const auto status = to_string(event.status);
  return make_event(lead.id, call_part(attempt_index) + "_" + id_part(status), "call.status", recorded.received,
                    [&](JsonObjectWriter& data) {
                      data.number("call", attempt_index + 1);
                      data.text("provider", event.provider);
                      outside_text(data, "callSid", event.call_sid);
                      data.text("status", status);
                      outside_text_if_any(data, "providerStatus", event.raw_status);
                      data.number_if_any("durationSeconds", event.duration_seconds);
                      outside_text_if_any(data, "answeredBy", event.answered_by);
                      data.number_if_any("sipCode", event.sip_code);
                      data.time_if_any("providerTime", event.event_time);
                    });
}

LeadEvent lead_completed_event(const Lead& lead, WallTime at) {
  return make_event(lead.id, "completed", "lead.completed", at,
                    [&](JsonObjectWriter& data) { data.number("calls", lead.attempts.size()); });
}

std::optional<LeadEvent> lead_update_event(const Lead& after, const LeadUpdate& update) {
  return std::visit(
      [&](const auto& change) -> std::optional<LeadEvent> {
        using Change = std::decay_t<decltype(change)>;
        if constexpr (std::is_same_v<Change, CallFlowInput>) {
          const auto what = "input" + std::to_string(after.call_flow_inputs.size());
          return make_event(after.id, what, "call.input", change.received, [&](JsonObjectWriter& data) {
            data.text("provider", change.provider);
            outside_text(data, "callSid", change.call_sid);
            outside_text_if_any(data, "digits", change.digits);
            outside_text_if_any(data, "speech", change.speech_result);
            data.number_if_any("confidence", change.confidence);
          });
        } else if constexpr (std::is_same_v<Change, Recording>) {
          // As the lead now holds it: reports are merged, never moved backwards.
          const Recording* kept = &change;
          for (const auto& recording : after.recordings)
            if (recording.id == change.id) kept = &recording;
          const auto what = "recording_" + id_part(kept->id) + "_" + id_part(kept->status);
          return make_event(after.id, what, "recording.updated", kept->updated, [&](JsonObjectWriter& data) {
            outside_text(data, "recordingId", kept->id);
            data.text("source", kept->source);
            outside_text(data, "callSid", kept->call_sid);
            outside_text(data, "status", kept->status);
            data.number_if_any("durationMs", kept->duration_ms);
            data.number("channels", kept->channels);
            outside_text_if_any(data, "providerUrl", kept->provider_url);
          });
        } else if constexpr (std::is_same_v<Change, TranscriptEntry>) {
          const auto what = "transcript" + std::to_string(after.transcript.size());
          return make_event(after.id, what, "transcript.added", change.at, [&](JsonObjectWriter& data) {
            outside_text(data, "callSid", change.call_sid);
            data.text("source", change.source);
            outside_text(data, "role", change.role);
            outside_text(data, "text", change.text);
          });
        } else {
          return std::nullopt;  // a media stream's claim or end: the bridge's own bookkeeping
        }
      },
      update);
}

LeadEvent redial_scheduled_event(std::string_view lead_id, unsigned call, WallTime due, std::string_view reason,
                                 WallTime at) {
  return make_event(lead_id, "call" + std::to_string(call) + "_scheduled", "lead.redial_scheduled", at,
                    [&](JsonObjectWriter& data) {
                      data.number("call", call);
                      data.time("due", due);
                      data.text("reason", reason);
                    });
}

LeadEvent lead_failed_event(const Lead& lead, std::string_view reason, WallTime at) {
  return make_event(lead.id, "failed", "lead.failed", at, [&](JsonObjectWriter& data) {
    data.text("status", to_string(lead.status));
    data.number("calls", lead.attempts.size());
    data.text("reason", reason);
  });
}

}  // namespace callgate::events
