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
//   (OrphanLimits): a flood of foreign callbacks cannot grow memory without
//   bound. The journal keeps evicted ones on disk.
#pragma once

#include "core/store/lead_store.hpp"

#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

namespace callgate {

struct OrphanLimits {
  std::size_t max_in_memory = 100000;
  std::chrono::seconds max_wait{3600};  // an orphan older than this (by receive time) is let go
};

class LeadTable {
 public:
  explicit LeadTable(OrphanLimits limits = {}) : limits_(limits) {}

  CreateResult create(const CreateRequest& request);
  StoreResult<Lead> get(const std::string& lead_id) const;
  StoreResult<Lead> add_attempt(const std::string& lead_id, const Attempt& attempt, LeadStatus lead_status);
  ApplyResult apply_event(CallEvent event, WallTime received);
  StoreResult<Lead> record_call_flow_input(const std::string& lead_id, const CallFlowInput& input);
  std::optional<std::string> find_lead_by_call_sid(const std::string& call_sid) const;
  LeadPage list(const LeadQuery& query) const;

  // Puts a whole lead back as it was (a snapshot being replayed).
  void restore(Lead lead, const std::string& idempotency_key);
  struct Orphan {
    CallEvent event;
    WallTime received;
  };
  void restore_orphan(Orphan orphan);

  // Everything the table holds, shared: nothing in it changes afterwards.
  struct Picture {
    struct LeadEntry {
      std::shared_ptr<const Lead> lead;
      std::string idempotency_key;
    };
    std::vector<LeadEntry> leads;
    std::vector<std::shared_ptr<const Orphan>> orphans;  // in no particular order
  };
  Picture picture() const;

  std::size_t orphans_in_memory() const { return orphans_by_sid_size_; }
  std::uint64_t orphans_let_go() const { return orphans_let_go_; }

 private:
  struct Entry {
    std::shared_ptr<Lead> lead;
    std::string idempotency_key;
  };
  void index(const Entry& entry);
  // The entry's lead, copied first if a picture still shares it.
  static Lead& writable(Entry& entry);
  void adopt_orphans(Entry& entry, const std::string& call_sid);
  void keep_orphan(std::shared_ptr<const Orphan> orphan);

  OrphanLimits limits_;
  std::map<std::string, Entry> leads_;  // by id: ids sort by creation time
  std::unordered_map<std::string, std::string> by_idempotency_key_;
  std::unordered_map<std::string, std::string> by_call_sid_;
  std::unordered_map<std::string, std::string> latest_by_phone_;
  // Orphans by call sid, and in arrival order for letting the oldest go.
  // An adopted orphan leaves the first at once and the second when it
  // reaches its front; the second is what max_in_memory bounds.
  std::unordered_map<std::string, std::vector<std::shared_ptr<const Orphan>>> orphans_;
  std::deque<std::shared_ptr<const Orphan>> orphan_arrivals_;
  std::size_t orphans_by_sid_size_ = 0;
  std::uint64_t orphans_let_go_ = 0;
};

}  // namespace callgate
