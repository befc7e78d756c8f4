// A lead event: one change to a lead as the business's own systems hear of
// it (events.endpoints), and the sink the stores tell of changes.
//
// An event's id is made from the change it reports (the lead, the call, the
// status), never from a counter: a journal replayed after a crash, or a
// redelivery, gives the same change the same id, and a receiver that
// remembers ids (Standard Webhooks' webhook-id) sees a repeat as a repeat.
#pragma once

#include "core/lead/lead.hpp"

#include <cstdint>
#include <string>

namespace callgate::events {

struct LeadEvent {
  std::string id;       // evt_<lead id>_<what changed>
  std::string type;     // lead.created, call.placed, call.status, ...
  std::string lead_id;  // events of one lead are delivered in the order they were made
  WallTime at;          // when the change happened
  std::string payload;  // {"type":…,"timestamp":…,"data":{…}}, the body as delivered

  friend bool operator==(const LeadEvent&, const LeadEvent&) = default;
};

// Told of each change as a store applies it (under the store's lock, so in
// the order of the changes), then of the record that made them durable.
class LeadEventSink {
 public:
  virtual ~LeadEventSink() = default;
  virtual void emit(LeadEvent event) = 0;
  // The events emitted since the last seal are durable once the store's
  // record with this ticket is (0: already durable, or nothing to wait for).
  virtual void seal(std::uint64_t ticket) = 0;
};

}  // namespace callgate::events
