// What the endpoints hand to the dialer: a new lead's first call (POST
// /enquire) and a call's end (a status callback). The endpoints sit below
// the dialer (src/dialer), so they see it through these two interfaces
// only; the dialer implements both.
#pragma once

#include "core/store/lead_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>

namespace callgate::dialer {

class FirstCallQueue {
 public:
  virtual ~FirstCallQueue() = default;
  // A new lead's first call, at the next calling time; true once it is
  // durably in the dialer's hands. Any thread.
  virtual boost::asio::awaitable<store::StoreResult<bool>> enqueue_first_call(const Lead& lead) = 0;
  // Whether the lead's calls are over: its latest call ended and no other
  // will follow (the redial policy's word).
  virtual bool calls_are_over(const Lead& lead) const = 0;
  // Whether create_with_first_call may be used: the dialer's jobs live
  // beside the leads and both go in one write.
  virtual bool stores_first_call_with_lead() const = 0;
  // Stores the new lead as LeadStore::create does and, when it is created,
  // its first call with it (no enqueue_first_call needed then). Any thread.
  virtual boost::asio::awaitable<store::StoreResult<store::CreateResult>> create_with_first_call(
      store::CreateRequest request) = 0;
};

class CallEndings {
 public:
  virtual ~CallEndings() = default;
  // A status callback moved a lead's call to a final status: redial or not. Any thread.
  virtual boost::asio::awaitable<void> call_ended(std::string lead_id, std::string call_sid) = 0;
};

}  // namespace callgate::dialer
