#include "core/store/memory_lead_store.hpp"

namespace callgate::store {

using boost::asio::awaitable;

std::string_view to_string(StoreFailure failure) {
  switch (failure) {
    case StoreFailure::unavailable:
      return "unavailable";
    case StoreFailure::not_found:
      return "not_found";
    case StoreFailure::conflict:
      return "conflict";
  }
  return "?";
}

awaitable<StoreResult<CreateResult>> MemoryLeadStore::create(CreateRequest request) {
  std::lock_guard lock(mutex_);
  co_return sealed(table_.create(request));
}

awaitable<StoreResult<Lead>> MemoryLeadStore::get(std::string lead_id) {
  std::lock_guard lock(mutex_);
  co_return table_.get(lead_id);
}

awaitable<StoreResult<Lead>> MemoryLeadStore::add_attempt(std::string lead_id, Attempt attempt,
                                                          LeadStatus lead_status) {
  std::lock_guard lock(mutex_);
  co_return sealed(table_.add_attempt(lead_id, attempt, lead_status));
}

awaitable<StoreResult<ApplyResult>> MemoryLeadStore::apply_event(CallEvent event, WallTime received) {
  std::lock_guard lock(mutex_);
  co_return sealed(table_.apply_event(event, received));
}

awaitable<StoreResult<UpdateResult>> MemoryLeadStore::update_lead(std::string lead_id, LeadUpdate update) {
  std::lock_guard lock(mutex_);
  co_return sealed(table_.update_lead(lead_id, update));
}

awaitable<StoreResult<std::optional<std::string>>> MemoryLeadStore::find_lead_by_call_sid(std::string call_sid) {
  std::lock_guard lock(mutex_);
  co_return table_.find_lead_by_call_sid(call_sid);
}

awaitable<StoreResult<LeadPage>> MemoryLeadStore::list(LeadQuery query) {
  std::lock_guard lock(mutex_);
  co_return table_.list(query);
}

}  // namespace callgate::store
