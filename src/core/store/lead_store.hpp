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
#include "core/lead/lead_update.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace callgate::store {

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

struct UpdateResult {
  Lead lead;  // as it is after the update (or was, when nothing changed)
  UpdateDecision decision;
};

struct CreateRequest {
  // Its id is a lead id (lead_id.hpp) whose time is not before lead.created:
  // ids sort by creation, and a store may find "created since" by id.
  Lead lead;
  // The same key again returns the lead it created, and nothing is stored.
  std::string idempotency_key;
  // When set: a lead for the same phone created at or after this time is
  // returned instead of storing a new one (one call per person per window).
  std::optional<WallTime> same_phone_since;
};

struct LeadQuery {
  std::optional<LeadStatus> status;
  std::optional<WallTime> created_since;
  std::size_t limit = 50;
  std::string after_id;  // the cursor: leads with ids after this one (ids sort by creation)
};

struct LeadPage {
  std::vector<Lead> leads;
  std::string next_cursor;  // empty when there are no more
};

class LeadStore {
 public:
  virtual ~LeadStore() = default;

  // Stores a new lead, unless the idempotency key or the same-phone window
  // finds an existing one, which is returned instead (created = false).
  // Atomic: two requests racing for one key or phone store one lead.
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<CreateResult>> create(CreateRequest request) = 0;

  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) = 0;

  // Adds a call attempt to a lead and sets the lead's status (dialing, or
  // failed when the provider refused). Orphan events already received for
  // its call sid are then applied to it, in the order they arrived.
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt,
                                                                              LeadStatus lead_status) = 0;

  // Finds the lead by the event's call sid and applies the event through the
  // state machine, atomically. A call sid no attempt has yet is adopted by
  // the lead the event names (event.lead_id) when that lead's latest attempt
  // has no call sid (the provider's answer was lost: an ambiguous
  // placement); otherwise the event is kept as an orphan (unknown_call).
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event,
                                                                                     WallTime received) = 0;

  // Adds a call-flow input, recording, transcript line or media stream to
  // the lead, as apply_lead_update decides, atomically. A refused update
  // (a stream claimed twice) changes nothing and says why; so does one
  // that repeats what the lead has.
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<UpdateResult>> update_lead(std::string lead_id,
                                                                                      LeadUpdate update) = 0;

  [[nodiscard]] boost::asio::awaitable<StoreResult<Lead>> record_call_flow_input(std::string lead_id,
                                                                                 CallFlowInput input) {
    auto result = co_await update_lead(std::move(lead_id), LeadUpdate(std::move(input)));
    if (auto* error = std::get_if<StoreError>(&result)) co_return *error;
    co_return std::move(std::get<UpdateResult>(result).lead);
  }

  // The id of the lead with an attempt for this call sid, if any.
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(
      std::string call_sid) = 0;

  // Called once the reactors exist, before they run: a networked backend
  // starts connecting here.
  virtual void start() {}

  // Why the store cannot take writes right now, for /readyz; nothing when it can.
  virtual std::optional<std::string> problem() const { return std::nullopt; }

  // Leads by creation time, oldest first, filtered, a page at a time.
  [[nodiscard]] virtual boost::asio::awaitable<StoreResult<LeadPage>> list(LeadQuery query) = 0;
};

}  // namespace callgate::store
