// The memory backend: everything in one map, gone at exit. For tests and
// experiments. Shared by every reactor, so one mutex guards it; each
// operation is short and never waits on I/O.
#pragma once

#include "core/store/lead_store.hpp"

#include <map>
#include <mutex>
#include <unordered_map>

namespace callgate {

class MemoryLeadStore final : public LeadStore {
 public:
  boost::asio::awaitable<StoreResult<CreateResult>> create(Lead lead, std::string idempotency_key) override;
  boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) override;
  boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt) override;
  boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event, WallTime received) override;
  boost::asio::awaitable<StoreResult<Lead>> record_call_flow_input(std::string lead_id, CallFlowInput input) override;
  boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(std::string call_sid) override;

  std::size_t orphan_count() const;

 private:
  struct Orphan {
    CallEvent event;
    WallTime received;
  };

  mutable std::mutex mutex_;
  std::map<std::string, Lead> leads_;                          // by id
  std::unordered_map<std::string, std::string> by_idempotency_key_;
  std::unordered_map<std::string, std::string> by_call_sid_;
  std::unordered_map<std::string, std::vector<Orphan>> orphans_;  // by call sid
};

}  // namespace callgate
