// Where leads live. One asynchronous interface, used from reactor threads
// (no call may block), with backends chosen by store.backend: memory (tests),
// journal (embedded, the default) and redis; a DynamoDB backend must fit too,
// so nothing here assumes more than keyed items with conditional writes.
//
// Every change to a lead's calls goes through apply_call_event (the pure
// state machine); a backend's job is to make its read-check-write one
// atomic step, whatever reactor or host the event arrives on.
#pragma once

#include "core/lead/lead.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <variant>

namespace callgate {

enum class StoreFailure {
  unavailable,  // the backend cannot be reached or did not answer in time: try later
  not_found,    // no lead with that id
  conflict,     // a conditional write lost (the id already exists)
};
std::string_view to_string(StoreFailure failure);

struct StoreError {
  StoreFailure failure = StoreFailure::unavailable;
  std::string message;
};

template <class Value>
using StoreResult = std::variant<Value, StoreError>;

struct CreateResult {
  Lead lead;
  bool created = true;  // false: the idempotency key was seen and this is the lead it made
};

struct ApplyResult {
  EventOutcome outcome = EventOutcome::applied;
  std::string lead_id;  // empty for an orphan (no attempt has the call sid yet)
};

class LeadStore {
 public:
  virtual ~LeadStore() = default;

  // Stores a new lead. With an idempotency key already used, stores nothing
  // and returns the lead that key created.
  virtual boost::asio::awaitable<StoreResult<CreateResult>> create(Lead lead, std::string idempotency_key) = 0;

  virtual boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) = 0;

  // Adds a call attempt to a lead. Orphan events already received for its
  // call sid are then applied to it, in the order they arrived.
  virtual boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt) = 0;

  // Finds the lead by the event's call sid and applies the event through the
  // state machine, atomically. An unknown call sid keeps the event as an
  // orphan (outcome unknown_call).
  virtual boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event, WallTime received) = 0;

  virtual boost::asio::awaitable<StoreResult<Lead>> record_call_flow_input(std::string lead_id,
                                                                             CallFlowInput input) = 0;

  // The id of the lead with an attempt for this call sid, if any.
  virtual boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(
      std::string call_sid) = 0;
};

}  // namespace callgate
