// Leads, attempts and events as JSON: what GET /leads answers and what the
// journal keeps. One encoding both ways, so a lead read back from disk is
// the lead that was written. Pure.
#pragma once

#include "core/lead/lead.hpp"
#include "core/lead/lead_update.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <utility>

namespace callgate {

boost::json::object to_json(const CallEvent& event);
// The same object as to_json(event), written straight onto out: the
// journal's hot path, without building a boost::json::object first.
void append_json(std::string& out, const CallEvent& event);
boost::json::object to_json(const Attempt& attempt);
// The same object as to_json(attempt), written straight onto out.
void append_json(std::string& out, const Attempt& attempt);
boost::json::object to_json(const CallFlowInput& input);
boost::json::object to_json(const Recording& recording);
boost::json::object to_json(const TranscriptEntry& entry);
boost::json::object to_json(const MediaStream& stream);
boost::json::object to_json(const Lead& lead);
// The lead as JSON text, straight onto out: the journal's record of a lead.
// to_json(lead) (and of each part) is this text read back, so both always
// agree; building the object and serializing it was a fifth of an
// enquiry's instructions (bench/enquiry-instructions).
void append_json(std::string& out, const Lead& lead);
// {"input"|"recording"|"transcript"|"mediaStream"|"mediaStreamEnd": {...}}
boost::json::object to_json(const LeadUpdate& update);

// Nothing when a required field is missing or of the wrong type.
std::optional<CallEvent> call_event_from_json(const boost::json::value& value);
std::optional<Attempt> attempt_from_json(const boost::json::value& value);
std::optional<CallFlowInput> call_flow_input_from_json(const boost::json::value& value);
std::optional<Recording> recording_from_json(const boost::json::value& value);
std::optional<TranscriptEntry> transcript_entry_from_json(const boost::json::value& value);
std::optional<MediaStream> media_stream_from_json(const boost::json::value& value);
std::optional<LeadUpdate> lead_update_from_json(const boost::json::value& value);
std::optional<Lead> lead_from_json(const boost::json::value& value);

std::optional<EventOutcome> parse_event_outcome(std::string_view text);

// An event with the time it was received, as one JSON text
// ({"event":{...},"receivedAt":"..."}): how the networked stores keep a
// callback for a call nobody owns yet (an orphan). Nothing when the text
// does not read back.
std::string received_event_record(const CallEvent& event, WallTime received);
std::optional<std::pair<CallEvent, WallTime>> read_received_event_record(std::string_view text);

// Parses JSON that callgate itself stored (journal, spool, Redis). Strings
// may hold whatever bytes a provider sent, valid UTF-8 or not: they were
// stored as they came and must read back, never stop a replay.
boost::json::value parse_stored_json(std::string_view text, boost::system::error_code& error);

}  // namespace callgate
