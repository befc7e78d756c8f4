#include "core/store/memory_lead_store.hpp"

#include "core/lead/lead_state_machine.hpp"

namespace callgate {

using boost::asio::awaitable;

std::string_view to_string(StoreFailure failure) {
  switch (failure) {
    case StoreFailure::unavailable: return "unavailable";
    case StoreFailure::not_found: return "not_found";
    case StoreFailure::conflict: return "conflict";
  }
  return "?";
}

namespace {
StoreError no_such_lead(const std::string& lead_id) { return {StoreFailure::not_found, "no lead " + lead_id}; }
}  // namespace

awaitable<StoreResult<CreateResult>> MemoryLeadStore::create(Lead lead, std::string idempotency_key) {
  std::lock_guard lock(mutex_);
  if (!idempotency_key.empty()) {
    if (auto seen = by_idempotency_key_.find(idempotency_key); seen != by_idempotency_key_.end())
      co_return CreateResult{leads_.at(seen->second), false};
  }
  if (leads_.contains(lead.id)) co_return StoreError{StoreFailure::conflict, "lead " + lead.id + " exists"};
  if (!idempotency_key.empty()) by_idempotency_key_[idempotency_key] = lead.id;
  auto& stored = leads_[lead.id] = std::move(lead);
  co_return CreateResult{stored, true};
}

awaitable<StoreResult<Lead>> MemoryLeadStore::get(std::string lead_id) {
  std::lock_guard lock(mutex_);
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) co_return no_such_lead(lead_id);
  co_return found->second;
}

awaitable<StoreResult<Lead>> MemoryLeadStore::add_attempt(std::string lead_id, Attempt attempt) {
  std::lock_guard lock(mutex_);
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) co_return no_such_lead(lead_id);
  auto& lead = found->second;
  const auto call_sid = attempt.call_sid;
  lead.attempts.push_back(std::move(attempt));
  if (!call_sid.empty()) {
    by_call_sid_[call_sid] = lead_id;
    if (auto waiting = orphans_.find(call_sid); waiting != orphans_.end()) {
      for (const auto& orphan : waiting->second) apply_call_event(lead, orphan.event, orphan.received);
      orphans_.erase(waiting);
    }
  }
  co_return lead;
}

awaitable<StoreResult<ApplyResult>> MemoryLeadStore::apply_event(CallEvent event, WallTime received) {
  std::lock_guard lock(mutex_);
  auto owner = by_call_sid_.find(event.call_sid);
  if (owner == by_call_sid_.end()) {
    orphans_[event.call_sid].push_back({std::move(event), received});
    co_return ApplyResult{EventOutcome::unknown_call, {}};
  }
  auto& lead = leads_.at(owner->second);
  co_return ApplyResult{apply_call_event(lead, event, received), lead.id};
}

awaitable<StoreResult<Lead>> MemoryLeadStore::record_call_flow_input(std::string lead_id, CallFlowInput input) {
  std::lock_guard lock(mutex_);
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) co_return no_such_lead(lead_id);
  found->second.updated = input.received;
  found->second.call_flow_inputs.push_back(std::move(input));
  co_return found->second;
}

awaitable<StoreResult<std::optional<std::string>>> MemoryLeadStore::find_lead_by_call_sid(std::string call_sid) {
  std::lock_guard lock(mutex_);
  auto owner = by_call_sid_.find(call_sid);
  if (owner == by_call_sid_.end()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{owner->second};
}

std::size_t MemoryLeadStore::orphan_count() const {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [sid, events] : orphans_) count += events.size();
  return count;
}

}  // namespace callgate
