// Every lead and its indexes in memory, and the operations of the
// LeadStore interface on them, with no locking and no I/O. The memory and
// journal backends wrap one of these (the journal replays its records into
// it at start-up); a Redis or DynamoDB backend implements the same
// semantics in the database, and the conformance suite holds them all to it.
//
// Two things keep it cheap to run for a long time:
// - Leads are shared and copied on write, so a snapshot of the whole table
//   (picture()) is a list of pointers taken in microseconds under the
//   owner's lock, and written out by another thread while the table goes on
//   changing.
// - Events for calls the table does not know (orphans) wait in memory for
//   their call sid to show up, but only so many and only for so long
//   (OrphanLimits, orphan_events.hpp): a flood of foreign callbacks cannot
//   grow memory without bound, nor slow the table down. The journal keeps
//   evicted ones on disk.
#pragma once

#include "core/events/lead_event.hpp"
#include "core/store/lead_store.hpp"
#include "core/store/orphan_events.hpp"

#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace callgate::store {

class LeadTable {
 public:
  explicit LeadTable(OrphanLimits limits = {}) : orphans_(limits) {}

  // Told of every change as it is made (lead_events.hpp), restores excepted:
  // a snapshot's leads were told of when they changed. None: nobody listens.
  void set_event_sink(events::LeadEventSink* sink) { events_ = sink; }

  CreateResult create(const CreateRequest& request);
  StoreResult<Lead> get(const std::string& lead_id) const;
  StoreResult<Lead> add_attempt(const std::string& lead_id, const Attempt& attempt, LeadStatus lead_status);
  ApplyResult apply_event(CallEvent event, WallTime received);
  // The same, for a caller that has the event's append_json() text already
  // (the journal, which writes it): an orphan is kept as that text.
  ApplyResult apply_event(CallEvent event, WallTime received, std::string_view event_json);
  StoreResult<UpdateResult> update_lead(const std::string& lead_id, const LeadUpdate& update);
  std::optional<std::string> find_lead_by_call_sid(const std::string& call_sid) const;
  LeadPage list(const LeadQuery& query) const;

  // Puts a whole lead back: as it was (a snapshot being replayed; nobody is
  // told), or as an enquiry created it (its creation replayed: told as
  // lead.created, as when it was made).
  enum class Restored { as_it_was, created };
  void restore(Lead lead, const std::string& idempotency_key, Restored how = Restored::as_it_was);
  using Orphan = OrphanEvent;
  void restore_orphan(const Orphan& orphan);

  // Everything the table holds, shared: nothing in it changes afterwards.
  struct Picture {
    struct LeadEntry {
      std::shared_ptr<const Lead> lead;
      std::string idempotency_key;
    };
    std::vector<LeadEntry> leads;
    OrphanEvents::Picture orphans;  // oldest first
  };
  Picture picture() const;

  std::size_t orphans_in_memory() const { return orphans_.size(); }
  std::uint64_t orphans_let_go() const { return orphans_.let_go(); }

 private:
  struct Entry {
    std::shared_ptr<Lead> lead;
    std::string idempotency_key;
  };
  void index(const Entry& entry);
  // The entry's lead, copied first if a picture still shares it.
  static Lead& writable(Entry& entry);
  void adopt_orphans(Entry& entry, const std::string& call_sid);
  ApplyResult apply_event_with(CallEvent&& event, WallTime received, const std::string_view* event_json);
  void keep_orphan(const CallEvent& event, WallTime received);  // encodes it first
  // The events of one applied call event (its status, and the lead's completion).
  void tell_applied(const Lead& lead, const RecordedEvent& recorded);

  std::map<std::string, Entry> leads_;  // by id: ids sort by creation time
  std::unordered_map<std::string, std::string> by_idempotency_key_;
  std::unordered_map<std::string, std::string> by_call_sid_;
  std::unordered_map<std::string, std::string> latest_by_phone_;
  OrphanEvents orphans_;
  std::string orphan_json_;  // reused to encode orphans for callers without the text
  events::LeadEventSink* events_ = nullptr;
};

}  // namespace callgate::store
