#include "core/store/lead_table.hpp"

#include "core/lead/lead_state_machine.hpp"

namespace callgate {

namespace {
StoreError no_such_lead(const std::string& lead_id) { return {StoreFailure::not_found, "no lead " + lead_id}; }
}  // namespace

void LeadTable::index(const Entry& entry) {
  const auto& lead = entry.lead;
  if (!entry.idempotency_key.empty()) by_idempotency_key_[entry.idempotency_key] = lead.id;
  for (const auto& attempt : lead.attempts)
    if (!attempt.call_sid.empty()) by_call_sid_[attempt.call_sid] = lead.id;
  auto& latest = latest_by_phone_[lead.phone];
  if (latest < lead.id) latest = lead.id;
}

CreateResult LeadTable::create(const CreateRequest& request) {
  if (!request.idempotency_key.empty()) {
    if (auto seen = by_idempotency_key_.find(request.idempotency_key); seen != by_idempotency_key_.end())
      return {leads_.at(seen->second).lead, false};
  }
  if (request.same_phone_since) {
    if (auto latest = latest_by_phone_.find(request.lead.phone); latest != latest_by_phone_.end()) {
      const auto& existing = leads_.at(latest->second).lead;
      if (existing.created >= *request.same_phone_since) return {existing, false};
    }
  }
  auto& entry = leads_[request.lead.id];
  if (!entry.lead.id.empty()) return {entry.lead, false};  // the same id twice: a replayed record
  entry = Entry{request.lead, request.idempotency_key};
  index(entry);
  return {entry.lead, true};
}

StoreResult<Lead> LeadTable::get(const std::string& lead_id) const {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  return found->second.lead;
}

void LeadTable::adopt_orphans(Lead& lead, const std::string& call_sid) {
  auto waiting = orphans_.find(call_sid);
  if (waiting == orphans_.end()) return;
  for (const auto& orphan : waiting->second) apply_call_event(lead, orphan.event, orphan.received);
  orphans_.erase(waiting);
}

StoreResult<Lead> LeadTable::add_attempt(const std::string& lead_id, const Attempt& attempt, LeadStatus lead_status) {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  auto& lead = found->second.lead;
  lead.attempts.push_back(attempt);
  lead.status = lead_status;
  lead.updated = std::max(lead.updated, attempt.created);
  if (!attempt.call_sid.empty()) {
    by_call_sid_[attempt.call_sid] = lead_id;
    adopt_orphans(lead, attempt.call_sid);
  }
  return lead;
}

ApplyResult LeadTable::apply_event(const CallEvent& event, WallTime received) {
  auto owner = by_call_sid_.find(event.call_sid);
  if (owner == by_call_sid_.end() && !event.lead_id.empty()) {
    // A placement whose answer was lost: the provider's callback names the
    // lead, and its latest attempt is still waiting for a call sid.
    if (auto named = leads_.find(event.lead_id); named != leads_.end()) {
      auto& lead = named->second.lead;
      if (!lead.attempts.empty() && lead.attempts.back().call_sid.empty() &&
          lead.attempts.back().provider == event.provider) {
        lead.attempts.back().call_sid = event.call_sid;
        owner = by_call_sid_.emplace(event.call_sid, lead.id).first;
      }
    }
  }
  if (owner == by_call_sid_.end()) {
    orphans_[event.call_sid].push_back({event, received});
    return {EventOutcome::unknown_call, {}};
  }
  auto& lead = leads_.at(owner->second).lead;
  return {apply_call_event(lead, event, received), lead.id};
}

StoreResult<Lead> LeadTable::record_call_flow_input(const std::string& lead_id, const CallFlowInput& input) {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  auto& lead = found->second.lead;
  lead.updated = std::max(lead.updated, input.received);
  lead.call_flow_inputs.push_back(input);
  return lead;
}

std::optional<std::string> LeadTable::find_lead_by_call_sid(const std::string& call_sid) const {
  auto owner = by_call_sid_.find(call_sid);
  if (owner == by_call_sid_.end()) return std::nullopt;
  return owner->second;
}

LeadPage LeadTable::list(const LeadQuery& query) const {
  LeadPage page;
  auto position = query.after_id.empty() ? leads_.begin() : leads_.upper_bound(query.after_id);
  for (; position != leads_.end(); ++position) {
    const auto& lead = position->second.lead;
    if (query.status && lead.status != *query.status) continue;
    if (query.created_since && lead.created < *query.created_since) continue;
    if (page.leads.size() == query.limit) {
      page.next_cursor = page.leads.back().id;
      break;
    }
    page.leads.push_back(lead);
  }
  return page;
}

void LeadTable::restore(Lead lead, const std::string& idempotency_key) {
  auto& entry = leads_[lead.id];
  entry = Entry{std::move(lead), idempotency_key};
  index(entry);
}

void LeadTable::restore_orphan(Orphan orphan) {
  const auto sid = orphan.event.call_sid;
  orphans_[sid].push_back(std::move(orphan));
}

}  // namespace callgate
