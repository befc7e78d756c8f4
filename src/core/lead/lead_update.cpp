#include "core/lead/lead_update.hpp"

#include <algorithm>

namespace callgate {
namespace {

// A recording's status only moves forward: a late "in-progress" after
// "completed" is a repeat, not news.
int status_rank(std::string_view status) {
  if (status == "in-progress") return 1;
  if (status == "completed" || status == "absent" || status == "failed") return 2;
  return 0;
}

UpdateDecision add(Lead& lead, const CallFlowInput& input) {
  if (!lead.call_flow_inputs.empty() && lead.call_flow_inputs.back() == input) return {UpdateOutcome::unchanged, {}};
  lead.call_flow_inputs.push_back(input);
  return {};
}

UpdateDecision add(Lead& lead, const Recording& recording) {
  auto same = std::find_if(lead.recordings.begin(), lead.recordings.end(),
                           [&](const Recording& known) { return known.id == recording.id; });
  if (same == lead.recordings.end()) {
    if (lead.recordings.size() >= kMaxRecordings) return {UpdateOutcome::refused, "the lead has its most recordings"};
    lead.recordings.push_back(recording);
    return {};
  }
  if (*same == recording || status_rank(recording.status) < status_rank(same->status))
    return {UpdateOutcome::unchanged, {}};
  // What the later report knows wins; what it leaves out is kept.
  Recording merged = recording;
  if (merged.file.empty()) merged.file = same->file;
  if (merged.provider_url.empty()) merged.provider_url = same->provider_url;
  if (!merged.duration_ms) merged.duration_ms = same->duration_ms;
  if (merged.channels == 0) merged.channels = same->channels;
  if (merged.format.empty()) merged.format = same->format;
  merged.started = std::min(same->started, recording.started);
  if (merged == *same) return {UpdateOutcome::unchanged, {}};
  *same = std::move(merged);
  return {};
}

UpdateDecision add(Lead& lead, const TranscriptEntry& entry) {
  if (std::find(lead.transcript.begin(), lead.transcript.end(), entry) != lead.transcript.end())
    return {UpdateOutcome::unchanged, {}};
  if (lead.transcript.size() >= kMaxTranscriptEntries) return {UpdateOutcome::refused, "the lead's transcript is full"};
  // In the order things were said; a line reported late goes in its place.
  auto place = std::upper_bound(lead.transcript.begin(), lead.transcript.end(), entry.at,
                                [](WallTime at, const TranscriptEntry& known) { return at < known.at; });
  lead.transcript.insert(place, entry);
  return {};
}

UpdateDecision add(Lead& lead, const MediaStream& stream) {
  for (const auto& known : lead.media_streams)
    if (known.claim == stream.claim)
      return {UpdateOutcome::refused,
              known == stream ? "this stream is claimed already" : "the stream's token was used before"};
  if (lead.media_streams.size() >= kMaxMediaStreams)
    return {UpdateOutcome::refused, "the lead has its most media streams"};
  lead.media_streams.push_back(stream);
  return {};
}

UpdateDecision add(Lead& lead, const MediaStreamEnd& end) {
  for (auto& known : lead.media_streams) {
    if (known.claim != end.claim) continue;
    if (known.ended) return {UpdateOutcome::unchanged, {}};  // the first end stands
    known.ended = end.ended;
    known.outcome = end.outcome;
    known.transfer_to = end.transfer_to;
    return {};
  }
  return {UpdateOutcome::refused, "no media stream with that claim"};
}

}  // namespace

WallTime update_time(const LeadUpdate& update) {
  return std::visit(
      [](const auto& item) -> WallTime {
        using Item = std::decay_t<decltype(item)>;
        if constexpr (std::is_same_v<Item, CallFlowInput>) return item.received;
        if constexpr (std::is_same_v<Item, Recording>) return item.updated;
        if constexpr (std::is_same_v<Item, TranscriptEntry>) return item.at;
        if constexpr (std::is_same_v<Item, MediaStream>) return item.started;
        if constexpr (std::is_same_v<Item, MediaStreamEnd>) return item.ended;
      },
      update);
}

UpdateDecision apply_lead_update(Lead& lead, const LeadUpdate& update) {
  auto decision = std::visit([&lead](const auto& item) { return add(lead, item); }, update);
  if (decision.outcome == UpdateOutcome::changed) lead.updated = std::max(lead.updated, update_time(update));
  return decision;
}

}  // namespace callgate
