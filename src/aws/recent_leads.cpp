#include "aws/recent_leads.hpp"

namespace callgate::aws {

RecentLeads::RecentLeads(std::size_t capacity, std::size_t max_events) : capacity_(capacity), max_events_(max_events) {}

std::optional<StoredLead> RecentLeads::find(const std::string& lead_id) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(lead_id);
  if (found == entries_.end()) return std::nullopt;
  by_use_.splice(by_use_.begin(), by_use_, found->second.place);
  return found->second.stored;
}

void RecentLeads::keep(const StoredLead& stored) {
  if (capacity_ == 0) return;
  if (stored.lead.events.size() > max_events_) {
    forget(stored.lead.id);
    return;
  }
  std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(stored.lead.id); found != entries_.end()) {
    found->second.stored = stored;
    by_use_.splice(by_use_.begin(), by_use_, found->second.place);
    return;
  }
  if (entries_.size() == capacity_) {
    entries_.erase(by_use_.back());
    by_use_.pop_back();
  }
  by_use_.push_front(stored.lead.id);
  entries_.emplace(stored.lead.id, Entry{stored, by_use_.begin()});
}

void RecentLeads::forget(const std::string& lead_id) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(lead_id);
  if (found == entries_.end()) return;
  by_use_.erase(found->second.place);
  entries_.erase(found);
}

std::size_t RecentLeads::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace callgate::aws
