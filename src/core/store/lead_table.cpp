#include "core/store/lead_table.hpp"

#include "core/events/lead_events.hpp"
#include "core/lead/lead_json.hpp"
#include "core/lead/lead_state_machine.hpp"

#include <algorithm>
#include <atomic>

namespace callgate::store {

namespace {
StoreError no_such_lead(const std::string& lead_id) { return {StoreFailure::not_found, "no lead " + lead_id}; }
}  // namespace

Lead& LeadTable::writable(Entry& entry) {
  // Only pictures share a lead beyond the table, and they only drop their
  // references (on another thread): a count of one means no picture holds
  // it, and the fence orders their last reads before this change.
  if (entry.lead.use_count() > 1) entry.lead = std::make_shared<Lead>(*entry.lead);
  std::atomic_thread_fence(std::memory_order_acquire);
  return *entry.lead;
}

void LeadTable::index(const Entry& entry) {
  const auto& lead = *entry.lead;
  if (!entry.idempotency_key.empty()) by_idempotency_key_[entry.idempotency_key] = lead.id;
  for (const auto& attempt : lead.attempts)
    if (!attempt.call_sid.empty()) by_call_sid_[attempt.call_sid] = lead.id;
  auto& latest = latest_by_phone_[lead.phone];
  if (latest < lead.id) latest = lead.id;
}

CreateResult LeadTable::create(const CreateRequest& request) {
  if (!request.idempotency_key.empty()) {
    if (auto seen = by_idempotency_key_.find(request.idempotency_key); seen != by_idempotency_key_.end())
      return {*leads_.at(seen->second).lead, false};
  }
  if (request.same_phone_since) {
    if (auto latest = latest_by_phone_.find(request.lead.phone); latest != latest_by_phone_.end()) {
      const auto& existing = *leads_.at(latest->second).lead;
      if (existing.created >= *request.same_phone_since) return {existing, false};
    }
  }
  auto [position, inserted] = leads_.try_emplace(request.lead.id);
  auto& entry = position->second;
  if (!inserted) return {*entry.lead, false};  // the same id twice: a replayed record
  entry = Entry{std::make_shared<Lead>(request.lead), request.idempotency_key};
  index(entry);
  if (events_) events_->emit(events::lead_created_event(*entry.lead));
  return {*entry.lead, true};
}

StoreResult<Lead> LeadTable::get(const std::string& lead_id) const {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  return *found->second.lead;
}

void LeadTable::adopt_orphans(Entry& entry, const std::string& call_sid) {
  auto waiting = orphans_.take(call_sid);
  if (waiting.empty()) return;
  auto& lead = writable(entry);
  for (const auto& orphan : waiting)
    if (apply_call_event(lead, orphan.event, orphan.received) == EventOutcome::applied && events_)
      tell_applied(lead, lead.events.back());
}

void LeadTable::tell_applied(const Lead& lead, const RecordedEvent& recorded) {
  const auto attempt = std::find_if(lead.attempts.begin(), lead.attempts.end(),
                                    [&](const Attempt& each) { return each.call_sid == recorded.event.call_sid; });
  if (attempt == lead.attempts.end()) return;
  const auto index = static_cast<std::size_t>(attempt - lead.attempts.begin());
  events_->emit(events::call_status_event(lead, index, recorded));
  if (recorded.event.status == CallStatus::completed && lead.status == LeadStatus::completed)
    events_->emit(events::lead_completed_event(lead, recorded.received));
}

StoreResult<Lead> LeadTable::add_attempt(const std::string& lead_id, const Attempt& attempt, LeadStatus lead_status) {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  auto& entry = found->second;
  auto& lead = writable(entry);
  lead.attempts.push_back(attempt);
  lead.status = lead_status;
  lead.updated = std::max(lead.updated, attempt.created);
  if (events_) events_->emit(events::call_attempt_event(lead, lead.attempts.size() - 1));
  if (!attempt.call_sid.empty()) {
    by_call_sid_[attempt.call_sid] = lead_id;
    adopt_orphans(entry, attempt.call_sid);
  }
  return *entry.lead;
}

ApplyResult LeadTable::apply_event(CallEvent event, WallTime received) {
  return apply_event_with(std::move(event), received, nullptr);
}

ApplyResult LeadTable::apply_event(CallEvent event, WallTime received, std::string_view event_json) {
  return apply_event_with(std::move(event), received, &event_json);
}

ApplyResult LeadTable::apply_event_with(CallEvent&& event, WallTime received, const std::string_view* event_json) {
  auto owner = by_call_sid_.find(event.call_sid);
  if (owner == by_call_sid_.end() && !event.lead_id.empty()) {
    // A placement whose answer was lost: the provider's callback names the
    // lead, and its latest attempt is still waiting for a call sid.
    if (auto named = leads_.find(event.lead_id); named != leads_.end()) {
      const auto& attempts = named->second.lead->attempts;
      if (!attempts.empty() && attempts.back().call_sid.empty() && attempts.back().provider == event.provider) {
        writable(named->second).attempts.back().call_sid = event.call_sid;
        owner = by_call_sid_.emplace(event.call_sid, named->first).first;
      }
    }
  }
  if (owner == by_call_sid_.end()) {
    if (event_json)
      orphans_.keep(event.call_sid, *event_json, received);
    else
      keep_orphan(event, received);
    return {EventOutcome::unknown_call, {}};
  }
  auto& entry = leads_.at(owner->second);
  auto& lead = writable(entry);
  const auto outcome = apply_call_event(lead, event, received);
  if (outcome == EventOutcome::applied && events_) tell_applied(lead, lead.events.back());
  return {outcome, lead.id};
}

StoreResult<UpdateResult> LeadTable::update_lead(const std::string& lead_id, const LeadUpdate& update) {
  auto found = leads_.find(lead_id);
  if (found == leads_.end()) return no_such_lead(lead_id);
  // Decided on a copy: a refused or empty update must not cost the lead's
  // shared snapshot (writable) a copy-on-write.
  Lead after = *found->second.lead;
  auto decision = apply_lead_update(after, update);
  if (decision.outcome == UpdateOutcome::changed) {
    writable(found->second) = after;
    if (events_)
      if (auto event = events::lead_update_event(after, update)) events_->emit(std::move(*event));
  }
  return UpdateResult{std::move(after), std::move(decision)};
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
    const auto& lead = *position->second.lead;
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

void LeadTable::restore(Lead lead, const std::string& idempotency_key, Restored how) {
  auto& entry = leads_[lead.id];
  entry = Entry{std::make_shared<Lead>(std::move(lead)), idempotency_key};
  index(entry);
  if (how == Restored::created && events_) events_->emit(events::lead_created_event(*entry.lead));
}

void LeadTable::restore_orphan(const Orphan& orphan) { keep_orphan(orphan.event, orphan.received); }

void LeadTable::keep_orphan(const CallEvent& event, WallTime received) {
  orphan_json_.clear();
  append_json(orphan_json_, event);
  orphans_.keep(event.call_sid, orphan_json_, received);
}

LeadTable::Picture LeadTable::picture() const {
  Picture picture;
  picture.leads.reserve(leads_.size());
  for (const auto& [id, entry] : leads_) picture.leads.push_back({entry.lead, entry.idempotency_key});
  picture.orphans = orphans_.picture();
  return picture;
}

}  // namespace callgate::store
