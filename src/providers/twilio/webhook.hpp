// Twilio's status callbacks (form POSTs) turned into normalized CallEvents.
// Pure: the signature is checked before this runs (signature.hpp).
#pragma once

#include "core/lead/lead.hpp"
#include "http/form/form_codec.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace callgate::providers::twilio {

struct WebhookError {
  std::string message;  // for the 400 answer
};

// fields: the decoded body. lead_id: the callback URL's leadId, if any.
// idempotency_token: the I-Twilio-Idempotency-Token header of a retry, if any.
std::variant<CallEvent, WebhookError> parse_status_callback(const http::FormFields& fields, std::string_view lead_id,
                                                            std::string_view idempotency_token);

// The recording status callback (RecordingStatusCallback on Create Call):
// a recording of the provider's own, listed on the lead. received: when it came.
std::variant<Recording, WebhookError> parse_recording_callback(const http::FormFields& fields, WallTime received);

// A transcription callback (<Record transcribeCallback>): one line of what the caller said.
std::variant<TranscriptEntry, WebhookError> parse_transcription_callback(const http::FormFields& fields,
                                                                         WallTime received);

// RFC 2822 date-times as Twilio writes them: "Wed, 25 Nov 2026 11:06:12 +0000".
std::optional<WallTime> parse_rfc2822_time(std::string_view text);

}  // namespace callgate::providers::twilio
