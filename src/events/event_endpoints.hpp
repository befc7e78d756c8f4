// The operator's view of lead events, behind the admin token:
//   GET  /events             each endpoint: owed, oldest owed, failed, delivered, resting
//   GET  /events/failed      events given up on (?endpoint=name, ?limit=N), newest first
//   POST /events/redeliver   {"endpoint": name, "id": event id}: a failed event owed again
#pragma once

#include "core/clock.hpp"
#include "core/events/event_outbox.hpp"
#include "http/server/server_shard.hpp"

namespace callgate::events {

// outbox (none when events.endpoints is empty: empty lists) and clock must outlive the router.
void register_event_endpoints(http::HttpRouter& router, EventOutbox* outbox, const Clock& clock);

}  // namespace callgate::events
