// The memory backend: a LeadTable behind one mutex, gone at exit. For tests
// and experiments. Each operation is short and never waits on I/O.
#pragma once

#include "core/store/lead_table.hpp"

#include <mutex>

namespace callgate::store {

class MemoryLeadStore final : public LeadStore {
 public:
  // events: told of every change (the event outbox); nothing outlives the process anyway.
  explicit MemoryLeadStore(events::LeadEventSink* events = nullptr) : events_(events) { table_.set_event_sink(events); }

  boost::asio::awaitable<StoreResult<CreateResult>> create(CreateRequest request) override;
  boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) override;
  boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt,
                                                        LeadStatus lead_status) override;
  boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event, WallTime received) override;
  boost::asio::awaitable<StoreResult<UpdateResult>> update_lead(std::string lead_id, LeadUpdate update) override;
  boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(std::string call_sid) override;
  boost::asio::awaitable<StoreResult<LeadPage>> list(LeadQuery query) override;

 private:
  // A change's events are sealed under the lock that ordered it.
  template <class Result>
  Result sealed(Result result) {
    if (events_) events_->seal(0);
    return result;
  }

  mutable std::mutex mutex_;
  LeadTable table_;
  events::LeadEventSink* events_ = nullptr;
};

}  // namespace callgate::store
