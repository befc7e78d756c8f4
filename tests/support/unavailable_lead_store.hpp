// A LeadStore that is down: every operation answers "unavailable", as a
// backend that cannot be reached or does not answer in time does.
#pragma once

#include "core/store/lead_store.hpp"

namespace callgate::testing {

// A store that does not answer in time, whatever is asked.
class UnavailableLeadStore final : public store::LeadStore {
 public:
  template <class T>
  using Answer = boost::asio::awaitable<store::StoreResult<T>>;
  template <class T>
  static store::StoreResult<T> down() {
    return store::StoreError{store::StoreFailure::unavailable, "no answer in time"};
  }
  Answer<store::CreateResult> create(store::CreateRequest) override { co_return down<store::CreateResult>(); }
  Answer<Lead> get(std::string) override { co_return down<Lead>(); }
  Answer<Lead> add_attempt(std::string, Attempt, LeadStatus) override { co_return down<Lead>(); }
  Answer<store::ApplyResult> apply_event(CallEvent, WallTime) override { co_return down<store::ApplyResult>(); }
  Answer<store::UpdateResult> update_lead(std::string, LeadUpdate) override { co_return down<store::UpdateResult>(); }
  Answer<std::optional<std::string>> find_lead_by_call_sid(std::string) override {
    co_return down<std::optional<std::string>>();
  }
  Answer<store::LeadPage> list(store::LeadQuery) override { co_return down<store::LeadPage>(); }
};

}  // namespace callgate::testing
