// A lead, its call attempts and the normalized call events applied to it.
// Plain data: the state machine (lead_state_machine.hpp) decides how events
// change it; stores only persist what it decided.
#pragma once

#include "core/lead/call_status.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace callgate {

using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

// One provider webhook, normalized. Provider adapters fill what they know.
struct CallEvent {
  std::string provider;  // "twilio", "exotel", "simulator"
  std::string call_sid;
  std::string lead_id;  // from the callback URL, when present
  CallStatus status = CallStatus::queued;
  std::string raw_status;                        // the provider's own word, e.g. "answered"
  std::optional<std::uint64_t> sequence_number;  // Twilio's SequenceNumber
  std::string idempotency_token;                 // Twilio's I-Twilio-Idempotency-Token on retries
  std::optional<WallTime> event_time;            // the provider's timestamp, if it sent one
  std::optional<std::int64_t> duration_seconds;
  std::string recording_url;
  std::string answered_by;  // human, machine_start, ... as sent
  std::optional<int> sip_code;
  std::string digits;
  std::string speech_result;
  std::optional<double> confidence;

  // Every field compared: a round trip through storage must keep them all.
  friend bool operator==(const CallEvent&, const CallEvent&) = default;
};

// What the state machine did with an event.
enum class EventOutcome {
  applied,       // moved the attempt forward
  out_of_order,  // older than what the attempt already reached: history only
  duplicate,     // seen before: not recorded again
  anomaly,       // contradicts a terminal status (completed after busy): history only
  unknown_call,  // no attempt has this call sid: the store keeps it as an orphan
};
std::string_view to_string(EventOutcome outcome);

struct RecordedEvent {
  CallEvent event;
  WallTime received;
  EventOutcome outcome = EventOutcome::applied;
  friend bool operator==(const RecordedEvent&, const RecordedEvent&) = default;
};

struct Attempt {
  std::string provider;
  std::string call_sid;              // empty until the provider accepted the call
  std::optional<CallStatus> status;  // none until the first event
  WallTime created;
  std::optional<WallTime> answered;
  std::optional<WallTime> ended;
  std::optional<std::int64_t> duration_seconds;
  std::string recording_url;
  std::string answered_by;
  std::optional<int> sip_code;
  std::string error;  // why placing the call failed, if it did
  friend bool operator==(const Attempt&, const Attempt&) = default;
};

struct ConsentRecord {
  WallTime given_at;
  std::string client_address;
  std::string user_agent;
  std::string text_version;
  friend bool operator==(const ConsentRecord&, const ConsentRecord&) = default;
};

// What the caller said or keyed in the call flow (Twilio <Gather>, Exotel
// Passthru), kept with the lead.
struct CallFlowInput {
  std::string provider;
  std::string call_sid;
  std::string digits;
  std::string speech_result;
  std::optional<double> confidence;
  std::string detail;  // provider-specific context, e.g. Exotel's CallType
  WallTime received;
  friend bool operator==(const CallFlowInput&, const CallFlowInput&) = default;
};

// A recording of one of the lead's calls: callgate's own of a bridged call
// (source "bridge", kept under voice.recordings_path) or the provider's
// (source "twilio" / "exotel", at the provider's URL, and a local copy when
// voice.fetch_provider_recordings is on).
struct Recording {
  std::string id;  // "bridge-<stream sid>", or the provider's own ("RE...")
  std::string source;
  std::string call_sid;
  std::string status;  // in-progress, completed, absent, failed
  std::string file;    // the file name under voice.recordings_path; empty when not kept here
  std::string provider_url;
  std::optional<std::int64_t> duration_ms;
  unsigned channels = 0;
  std::string format;  // "wav/pcm16", "wav/mulaw", or as the provider says
  std::string error_code;
  WallTime started;
  WallTime updated;
  friend bool operator==(const Recording&, const Recording&) = default;
};

// One line of what was said on a call, in the order it came: from the voice
// agent (its transcript messages) or the provider's transcription callback.
struct TranscriptEntry {
  std::string call_sid;
  std::string source;  // "agent", "twilio"
  std::string role;    // agent | caller
  std::string text;
  std::string status;  // the provider's TranscriptionStatus, when it sent one
  WallTime at;
  friend bool operator==(const TranscriptEntry&, const TranscriptEntry&) = default;
};

// A call's media stream, claimed on the lead before any audio flows so one
// token (one call) opens one stream, whichever host it reaches.
struct MediaStream {
  std::string claim;  // the token's nonce, or the call sid when the provider brings no token
  std::string call_sid;
  std::string provider;
  std::string stream_sid;
  WallTime started;
  std::optional<WallTime> ended;
  // How it ended: completed, agent_unavailable (never reached, or lost
  // mid-call: the call gets the fallback and a redial), hangup or transfer
  // (asked by the agent), refused (the provider broke the protocol).
  std::string outcome;
  std::string transfer_to;
  friend bool operator==(const MediaStream&, const MediaStream&) = default;
};

struct Lead {
  std::string id;
  std::string phone;  // E.164
  std::string name;
  std::string email;
  std::string source;
  std::string metadata_json;  // the enquiry's metadata object, as sent
  ConsentRecord consent;
  WallTime created;
  WallTime updated;
  LeadStatus status = LeadStatus::pending;
  std::vector<Attempt> attempts;
  std::vector<RecordedEvent> events;
  std::vector<CallFlowInput> call_flow_inputs;
  std::vector<Recording> recordings;
  std::vector<TranscriptEntry> transcript;
  std::vector<MediaStream> media_streams;
  friend bool operator==(const Lead&, const Lead&) = default;
};

}  // namespace callgate
