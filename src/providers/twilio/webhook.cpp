#include "providers/twilio/webhook.hpp"

#include "core/civil_time.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

namespace callgate::providers::twilio {
namespace {}  // namespace

namespace {

std::string field(const http::FormFields& fields, std::string_view name) {
  return std::string(http::form_value(fields, name).value_or(""));
}

bool is_sid(std::string_view text, std::string_view prefix) {
  if (text.size() != 34 || !text.starts_with(prefix)) return false;
  for (const char c : text.substr(2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

}  // namespace

std::variant<Recording, WebhookError> parse_recording_callback(const http::FormFields& fields, WallTime received) {
  Recording recording;
  recording.id = field(fields, "RecordingSid");
  recording.call_sid = field(fields, "CallSid");
  if (!is_sid(recording.id, "RE")) return WebhookError{"RecordingSid must be RE and 32 hex digits"};
  if (!is_sid(recording.call_sid, "CA")) return WebhookError{"CallSid must be CA and 32 hex digits"};
  recording.source = "twilio";
  recording.status = field(fields, "RecordingStatus");
  if (recording.status != "in-progress" && recording.status != "completed" && recording.status != "absent" &&
      recording.status != "failed")
    return WebhookError{"RecordingStatus must be in-progress, completed, absent or failed"};
  recording.provider_url = field(fields, "RecordingUrl");
  if (!recording.provider_url.empty() && !recording.provider_url.starts_with("https://"))
    return WebhookError{"RecordingUrl must be an https:// URL"};
  if (const auto seconds = parse_decimal<std::int64_t>(field(fields, "RecordingDuration")))
    recording.duration_ms = *seconds * 1000;
  recording.channels = parse_decimal<unsigned>(field(fields, "RecordingChannels")).value_or(0);
  if (recording.channels > 2) return WebhookError{"RecordingChannels must be 1 or 2"};
  const auto source = field(fields, "RecordingSource");
  recording.format = source.empty() ? "" : "twilio/" + source;
  recording.error_code = field(fields, "ErrorCode");
  recording.started = parse_rfc2822_time(field(fields, "RecordingStartTime")).value_or(received);
  recording.updated = received;
  return recording;
}

std::variant<TranscriptEntry, WebhookError> parse_transcription_callback(const http::FormFields& fields,
                                                                         WallTime received) {
  TranscriptEntry entry;
  entry.call_sid = field(fields, "CallSid");
  if (!is_sid(entry.call_sid, "CA")) return WebhookError{"CallSid must be CA and 32 hex digits"};
  entry.status = field(fields, "TranscriptionStatus");
  if (entry.status != "completed" && entry.status != "failed")
    return WebhookError{"TranscriptionStatus must be completed or failed"};
  entry.text = field(fields, "TranscriptionText");
  if (entry.text.size() > 16 * 1024) return WebhookError{"TranscriptionText is longer than 16 KiB"};
  entry.source = "twilio";
  entry.role = "caller";
  entry.at = received;
  return entry;
}

std::optional<WallTime> parse_rfc2822_time(std::string_view text) {
  // "Wed, 25 Nov 2026 11:06:12 +0000"; the weekday is optional in RFC 2822.
  if (const auto comma = text.find(", "); comma != std::string_view::npos) text.remove_prefix(comma + 2);
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // day, month, year, time, zone, separated by single spaces
  std::array<std::string_view, 5> parts;
  for (auto& part : parts) {
    const auto space = text.find(' ');
    part = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  }
  if (!text.empty()) return std::nullopt;
  const auto day = parse_decimal<unsigned>(parts[0]);
  unsigned month = 0;
  while (month < 12 && months[month] != parts[1]) ++month;
  const auto year = parse_decimal<int>(parts[2]);
  const auto& clock = parts[3];
  if (!day || month == 12 || !year || clock.size() != 8 || clock[2] != ':' || clock[5] != ':') return std::nullopt;
  const auto hours = parse_decimal<unsigned>(clock.substr(0, 2));
  const auto minutes = parse_decimal<unsigned>(clock.substr(3, 2));
  const auto seconds = parse_decimal<unsigned>(clock.substr(6, 2));
  const auto& zone = parts[4];
  if (!hours || !minutes || !seconds) return std::nullopt;
  int zone_minutes = 0;
  if (zone == "GMT" || zone == "UT" || zone == "Z") {
    zone_minutes = 0;
  } else if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
    const auto zone_hours = parse_decimal<unsigned>(zone.substr(1, 2));
    const auto zone_mins = parse_decimal<unsigned>(zone.substr(3, 2));
    if (!zone_hours || !zone_mins) return std::nullopt;
    zone_minutes = static_cast<int>(*zone_hours * 60 + *zone_mins) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return wall_time_from_civil(*year, month + 1, *day, *hours, *minutes, *seconds, zone_minutes * 60);
}

std::variant<CallEvent, WebhookError> parse_status_callback(const http::FormFields& fields, std::string_view lead_id,
                                                            std::string_view idempotency_token) {
  auto field = [&](std::string_view name) { return http::form_value(fields, name).value_or(std::string_view()); };
  CallEvent event;
  event.provider = "twilio";
  event.lead_id = lead_id;
  event.idempotency_token = idempotency_token;
  event.call_sid = field("CallSid");
  if (event.call_sid.empty()) return WebhookError{"CallSid is missing"};
  event.raw_status = field("CallStatus");
  const auto status = parse_call_status(event.raw_status);
  if (!status) return WebhookError{"CallStatus '" + event.raw_status + "' is not a Twilio call status"};
  event.status = *status;

  if (const auto text = field("SequenceNumber"); !text.empty()) {
    event.sequence_number = parse_decimal<std::uint64_t>(text);
    if (!event.sequence_number) return WebhookError{"SequenceNumber is not a whole number"};
  }
  if (const auto text = field("Timestamp"); !text.empty()) {
    event.event_time = parse_rfc2822_time(text);
    if (!event.event_time) return WebhookError{"Timestamp is not an RFC 2822 date-time"};
  }
  if (const auto text = field("CallDuration"); !text.empty()) {
    event.duration_seconds = parse_decimal<std::int64_t>(text);
    if (!event.duration_seconds || *event.duration_seconds < 0)
      return WebhookError{"CallDuration is not a number of seconds"};
  }
  if (const auto text = field("SipResponseCode"); !text.empty()) {
    event.sip_code = parse_decimal<int>(text);
    if (!event.sip_code) return WebhookError{"SipResponseCode is not a number"};
  }
  if (const auto text = field("Confidence"); !text.empty()) {
    double confidence = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), confidence);
    // Written as "not inside [0, 1]": "nan" parses, and fails every comparison.
    if (error != std::errc{} || end != text.data() + text.size() || !(confidence >= 0.0 && confidence <= 1.0))
      return WebhookError{"Confidence is not a number from 0 to 1"};
    event.confidence = confidence;
  }
  event.recording_url = field("RecordingUrl");
  event.answered_by = field("AnsweredBy");
  event.digits = field("Digits");
  event.speech_result = field("SpeechResult");
  return event;
}

}  // namespace callgate::providers::twilio
