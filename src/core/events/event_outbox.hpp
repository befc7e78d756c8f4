// The durable outbox of lead events: what is owed to each endpoint of
// events.endpoints, in order per lead, retried with backoff until it is
// taken or too old, and kept as failed after that for an operator to
// redeliver.
//
// Nothing is written for an event when it is made. Events are made from
// the changes themselves (lead_events.hpp), as the store applies them, and
// a journal replay applies the same changes again and so makes the same
// events with the same ids: the change's own record is the event's record.
// What the outbox writes are its own facts, as guest records of the lead
// journal (journal_guest.hpp), in the same order as the leads':
//
//   {"op":"event_endpoint","name"}         the endpoint gets events of changes after this point
//   {"op":"event_done","endpoint","leadId","id"}   delivered
//   {"op":"event_failed","endpoint","event":{…},"reason","at"}   given up (kept to redeliver)
//   {"op":"event_redeliver","endpoint","leadId","id","at"}   an operator asked again
//   {"op":"lead_event","event":{…}[,"endpoint","since"]}   an event of a change not in a lead record (the
//                                                  dialer's decisions), or one still owed when a
//                                                  snapshot replaced the file
//
// So a crash loses nothing: what was owed is owed again after the replay,
// and what was in flight is sent again (at least once; the id is the same).
// An endpoint added to the config later starts at its marker, and is not
// sent the journal's past.
//
// Thread-safe: changes come from every reactor under the store's lock,
// deliveries from the delivery loop. The outbox never calls out while
// holding its own lock, except to the journal writer's append.
#pragma once

#include "core/events/lead_event.hpp"
#include "core/store/journal_guest.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace callgate::events {

struct OutboxEndpoint {
  std::string name;                // its records' name in the journal: keep it when the URL moves
  std::vector<std::string> types;  // empty: every type
  bool wants(std::string_view type) const;
};

struct RetryPolicy {
  std::chrono::milliseconds first{1'000};                         // after the first failure
  std::chrono::milliseconds longest{600'000};                     // doubling stops here
  std::chrono::milliseconds give_up_after{3LL * 24 * 3'600'000};  // counted from the change
  // After this many failures in a row across leads the endpoint itself
  // rests (the same doubling): a receiver that is down is asked once in a
  // while, not once for every lead that owes it something.
  unsigned endpoint_rest_after = 3;
  std::size_t failed_kept = 100'000;  // per endpoint, in memory; older ones stay in the journal only
};

struct Delivery {
  std::size_t endpoint = 0;
  std::shared_ptr<const LeadEvent> event;
  std::uint64_t ticket = 0;  // send only once the store's record with this ticket is durable
  unsigned attempt = 1;
};

struct FailedEvent {
  std::shared_ptr<const LeadEvent> event;
  std::string reason;
  WallTime at;
};

struct OutboxEndpointState {
  std::size_t owed = 0;   // events not yet delivered (in flight included)
  std::size_t leads = 0;  // leads that owe something
  std::optional<WallTime> oldest_owed;
  std::size_t failed = 0;  // given up, in memory
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t gave_up = 0;
  std::optional<WallTime> resting_until;
};

class EventOutbox final : public LeadEventSink, public store::JournalGuest {
 public:
  EventOutbox(std::vector<OutboxEndpoint> endpoints, RetryPolicy retry);

  // Where the outbox's own records go: the lead journal's writer (its
  // append, which returns the record's ticket). Not set (the memory store):
  // nowhere, and nothing outlives the process.
  void keep_records_with(std::function<std::uint64_t(std::string_view payload)> append);
  // Called, with no lock held by the outbox, when an endpoint may have
  // something to send that it did not: the delivery loop's wake-up.
  void on_ready(std::function<void()> wake);
  // After the replay: an endpoint the journal has no start for starts here.
  void start_endpoints();

  void emit(LeadEvent event) override;
  void seal(std::uint64_t ticket) override;
  // An event of a change that is in no lead record (the dialer's
  // decisions): written as a record of its own.
  void emit_recorded(LeadEvent event);

  // The next event endpoint may send now: the oldest owed of a lead with
  // nothing in flight whose wait is over. Marked in flight until delivered()
  // or not_delivered().
  std::optional<Delivery> next_due(std::size_t endpoint, WallTime now);
  // When something of endpoint's that waits becomes due; nothing when nothing waits.
  std::optional<WallTime> next_wait_end(std::size_t endpoint) const;
  void delivered(const Delivery& delivery);
  // Tried again later, or given up and kept as failed once the change is
  // older than give_up_after (then true).
  bool not_delivered(const Delivery& delivery, std::string_view reason, WallTime now);

  std::vector<FailedEvent> failed_events(std::size_t endpoint) const;
  // A failed event owed again (after what its lead owes now) for another
  // give_up_after from now; false when no failed event of endpoint has the id.
  bool redeliver(std::size_t endpoint, std::string_view event_id, WallTime now);

  OutboxEndpointState state(std::size_t endpoint, WallTime now) const;
  const std::vector<OutboxEndpoint>& endpoints() const { return endpoints_; }
  std::optional<std::size_t> endpoint_named(std::string_view name) const;

  // Notes the deliveries the journal holds, so that replaying a change
  // whose event was delivered later owes nothing, rather than owing it
  // until its event_done record comes: memory at start-up stays with what
  // is really owed, not every change since the last snapshot.
  void look_ahead(std::string_view payload) override;
  // The most events owed at once during the replay (for tests: with every
  // event delivered, none should ever be).
  std::size_t replay_peak_owed() const;
  bool owns_op(std::string_view op) const override;
  // Every kind of record the outbox writes: passed over by a journal
  // opened without an outbox (JournalStoreOptions::passed_over_kinds).
  static std::vector<std::string_view> record_kinds();
  void replay_record(std::string_view payload) override;
  void hold_for_snapshot(const std::function<void(std::vector<std::string> payloads)>& queue_snapshot) override;

 private:
  struct Owed {
    std::shared_ptr<const LeadEvent> event;
    std::uint64_t ticket = 0;
    WallTime since;  // give_up_after counts from here: the change, or an operator's redelivery
  };
  struct Line {  // what one lead owes one endpoint, oldest first
    std::deque<Owed> owed;
    bool in_flight = false;
    unsigned failures = 0;
  };
  struct EndpointQueue {
    bool started = false;
    std::unordered_map<std::string, Line> lines;   // by lead id
    std::deque<std::string> ready;                 // lines that may send now, each once
    std::multimap<WallTime, std::string> waiting;  // lines resting after a failure
    std::deque<FailedEvent> failed;
    std::size_t owed = 0;
    unsigned failures_in_a_row = 0;
    std::optional<WallTime> resting_until;
    std::uint64_t delivered = 0;
    std::uint64_t retried = 0;
    std::uint64_t gave_up = 0;
  };

  // Under mutex_. True when the line became ready (it owed nothing before).
  bool owe(std::size_t endpoint, std::shared_ptr<const LeadEvent> event, std::uint64_t ticket,
           std::optional<WallTime> since = std::nullopt);
  void owe_everywhere(const std::shared_ptr<const LeadEvent>& event, std::uint64_t ticket, bool& woke);
  void finish_head(EndpointQueue& queue, const std::string& lead_id);
  static bool in_flight(const EndpointQueue& queue, const Delivery& delivery);
  void keep_failed(EndpointQueue& queue, FailedEvent failed);
  bool remove_owed(EndpointQueue& queue, const std::string& lead_id, std::string_view event_id);
  std::uint64_t write(const std::string& payload);
  std::chrono::milliseconds backoff(unsigned failures) const;
  void wake();

  std::vector<OutboxEndpoint> endpoints_;
  RetryPolicy retry_;
  mutable std::mutex mutex_;
  std::vector<EndpointQueue> queues_;
  std::vector<LeadEvent> staged_;
  std::function<std::uint64_t(std::string_view)> append_;
  std::function<void()> wake_;
  // Until the replay is over: "<endpoint index> <event id>" of each
  // event_done the journal holds ahead, taken out as each is replayed.
  std::unordered_set<std::string> delivered_ahead_;
  std::size_t replay_peak_owed_ = 0;
};

// An event as its records hold it, and back.
void append_event_json(std::string& out, const LeadEvent& event);
std::optional<LeadEvent> lead_event_from_json(const boost::json::value& value);

}  // namespace callgate::events
