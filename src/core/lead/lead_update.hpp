// Everything added to a lead besides its calls' status: what the caller
// said in the call flow, recordings, transcript lines, media streams. One
// pure function decides what each does to the lead, so every store (and a
// journal replay) agrees, and a store's only job is to make the
// read-decide-write one atomic step.
#pragma once

#include "core/lead/lead.hpp"

#include <string>
#include <variant>

namespace callgate {

// The stream's end, filled in on the stream its claim names.
struct MediaStreamEnd {
  std::string claim;
  WallTime ended;
  std::string outcome;
  std::string transfer_to;
  friend bool operator==(const MediaStreamEnd&, const MediaStreamEnd&) = default;
};

using LeadUpdate = std::variant<CallFlowInput, Recording, TranscriptEntry, MediaStream, MediaStreamEnd>;

enum class UpdateOutcome {
  changed,
  unchanged,  // a repeat of what the lead has (a retried write, a repeated callback)
  refused,    // not allowed: a stream claimed twice, an end for a stream never claimed
};

struct UpdateDecision {
  UpdateOutcome outcome = UpdateOutcome::changed;
  std::string reason;  // why refused
};

// Applies update to lead (and moves lead.updated) unless it is refused or
// changes nothing.
UpdateDecision apply_lead_update(Lead& lead, const LeadUpdate& update);

// The time the update happened, for lead.updated.
WallTime update_time(const LeadUpdate& update);

// Bounds on what a lead keeps, so no caller, agent or provider can grow a
// lead without limit.
inline constexpr std::size_t kMaxTranscriptEntries = 2'000;
inline constexpr std::size_t kMaxRecordings = 100;
inline constexpr std::size_t kMaxMediaStreams = 100;

}  // namespace callgate
