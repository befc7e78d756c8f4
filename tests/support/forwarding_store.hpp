// A LeadStore that forwards to a shared one: the conformance cases hold a
// unique_ptr of their own, while a networked backend's test keeps the store
// (and tears it down on its own loop).
#pragma once

#include "core/store/lead_store.hpp"

#include <memory>

namespace callgate::testing {

class ForwardingStore final : public callgate::store::LeadStore {
 public:
  explicit ForwardingStore(std::shared_ptr<callgate::store::LeadStore> target) : target_(std::move(target)) {}
  boost::asio::awaitable<callgate::store::StoreResult<callgate::store::CreateResult>> create(
      callgate::store::CreateRequest request) override {
    return target_->create(std::move(request));
  }
  boost::asio::awaitable<callgate::store::StoreResult<callgate::Lead>> get(std::string id) override {
    return target_->get(std::move(id));
  }
  boost::asio::awaitable<callgate::store::StoreResult<callgate::Lead>> add_attempt(
      std::string id, callgate::Attempt attempt, callgate::LeadStatus status) override {
    return target_->add_attempt(std::move(id), std::move(attempt), status);
  }
  boost::asio::awaitable<callgate::store::StoreResult<callgate::store::ApplyResult>> apply_event(
      callgate::CallEvent event, callgate::WallTime received) override {
    return target_->apply_event(std::move(event), received);
  }
  boost::asio::awaitable<callgate::store::StoreResult<callgate::store::UpdateResult>> update_lead(
      std::string id, callgate::LeadUpdate update) override {
    return target_->update_lead(std::move(id), std::move(update));
  }
  boost::asio::awaitable<callgate::store::StoreResult<std::optional<std::string>>> find_lead_by_call_sid(
      std::string sid) override {
    return target_->find_lead_by_call_sid(std::move(sid));
  }
  boost::asio::awaitable<callgate::store::StoreResult<callgate::store::LeadPage>> list(
      callgate::store::LeadQuery query) override {
    return target_->list(std::move(query));
  }

 private:
  std::shared_ptr<callgate::store::LeadStore> target_;
};

}  // namespace callgate::testing
