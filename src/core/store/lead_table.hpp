// Every lead and its indexes in memory, and the operations of the
// LeadStore interface on them, with no locking and no I/O. The memory and
// journal backends wrap one of these (the journal replays its records into
// it at start-up); a Redis or DynamoDB backend implements the same
// semantics in the database, and the conformance suite holds them all to it.
#pragma once

#include "core/store/lead_store.hpp"

#include <map>
#include <unordered_map>
#include <vector>

namespace callgate {

class LeadTable {
 public:
  CreateResult create(const CreateRequest& request);
  StoreResult<Lead> get(const std::string& lead_id) const;
  StoreResult<Lead> add_attempt(const std::string& lead_id, const Attempt& attempt, LeadStatus lead_status);
  ApplyResult apply_event(const CallEvent& event, WallTime received);
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

  // For snapshots: every lead with its idempotency key, every orphan.
  template <class Visit>
  void for_each_lead(Visit visit) const {
    for (const auto& [id, entry] : leads_) visit(entry.lead, entry.idempotency_key);
  }
  template <class Visit>
  void for_each_orphan(Visit visit) const {
    for (const auto& [sid, orphans] : orphans_)
      for (const auto& orphan : orphans) visit(orphan);
  }

 private:
  struct Entry {
    Lead lead;
    std::string idempotency_key;
  };
  void index(const Entry& entry);
  void adopt_orphans(Lead& lead, const std::string& call_sid);

  std::map<std::string, Entry> leads_;  // by id: ids sort by creation time
  std::unordered_map<std::string, std::string> by_idempotency_key_;
  std::unordered_map<std::string, std::string> by_call_sid_;
  std::unordered_map<std::string, std::string> latest_by_phone_;
  std::unordered_map<std::string, std::vector<Orphan>> orphans_;  // by call sid
};

}  // namespace callgate
