// The DynamoDB backend: leads in one table (layout in dynamodb_items.hpp)
// that any number of callgated hosts share, with nothing else to run.
//
// Every change is a conditional write on the lead's version: the lead is
// read (one consistent Query of its partition: the lead item and its event
// items), changed by the same C++ state machine as every other backend, and
// written only if its version is still the one read; a lost race reads
// again. The lead as this process last wrote or read it is remembered
// (recent_leads.hpp), so the read is skipped while no one else has written
// it since. A lead item holds its latest events while it stays within
// kLeadItemBudget: a status callback is then one PutItem (at most 2 WCU) and
// nothing else. What must change together changes in one TransactWriteItems:
// the lead item, its events moved to event items, a call sid's owner item,
// the orphans it adopts. A duplicate costs no write.
//
// A callback whose call nobody owns yet is kept in the call's orphan item,
// in the same transaction that checks the call still has no owner; the
// transaction that gives the call its lead takes the orphans, conditional
// on their number, so none is lost between the two.
//
// One HTTP client per reactor (keep-alive connections of its own); a caller
// on any other loop is served by the first reactor's.
#pragma once

#include "aws/dynamodb_client.hpp"
#include "aws/dynamodb_items.hpp"
#include "aws/recent_leads.hpp"
#include "core/config.hpp"
#include "core/store/lead_store.hpp"

#include <boost/asio/io_context.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace callgate::aws {

struct DynamoStoreOptions {
  DynamoEndpoint endpoint;
  std::string table = "callgate";
  // How long one operation may take, retries of throttled requests
  // included; past it the caller hears "unavailable" (a webhook's event
  // then goes to the spool).
  std::chrono::milliseconds operation_timeout{2'000};
  std::chrono::milliseconds orphan_wait{3'600'000};  // an orphan item expires this long after its latest event
  std::size_t max_orphans_per_call = 20;             // more for one call sid are not kept (a flood of forgeries)
  // Idempotency-Key and duplicate-window items expire this long after the
  // lead they name was created.
  std::chrono::milliseconds marker_lifetime{std::chrono::hours(24 * 7)};
  HttpClientConfig http;
  DynamoRetryPolicy retry;
  // Leads remembered as last written (RecentLeads), and the most events one may have to be.
  std::size_t recent_leads = 4096;
  std::size_t recent_lead_max_events = 32;
};

// What DynamoDB's requests were made for: each kind of work's are counted
// apart, so an operator (and the bench) sees what a status callback or an
// enquiry costs.
// voice: recordings, transcript lines and media streams kept on the lead.
enum class DynamoWork { enquiry, status_callback, call_placed, call_flow_input, lead_read, dial_jobs, voice };
inline constexpr std::size_t kDynamoWorks = 7;
std::string_view to_string(DynamoWork work);

struct DynamoWorkUsage {
  std::atomic<std::int64_t> requests{0};
  std::atomic<std::int64_t> write_requests{0};
  std::atomic<std::int64_t> estimated_write_milli{0};  // by AWS's rules (estimated_write_units)
  std::atomic<std::int64_t> write_capacity_milli{0};   // as DynamoDB reported it
};

// What the store has cost, as DynamoDB reported it (ReturnConsumedCapacity):
// what a user pays for.
// And whether DynamoDB answers at all, for /readyz.
class DynamoUsage {
 public:
  std::array<DynamoWorkUsage, kDynamoWorks> by_work;  // indexed by DynamoWork
  std::atomic<std::int64_t> requests{0};              // sent by callgate, each counted once however often it was tried
  std::atomic<std::int64_t> write_requests{0};
  std::atomic<std::int64_t> write_capacity_milli{0};   // thousandths of a WCU, as DynamoDB reported them
  std::atomic<std::int64_t> estimated_write_milli{0};  // by AWS's rules (estimated_write_units)
  std::atomic<std::int64_t> read_capacity_milli{0};
  std::atomic<std::int64_t> retries{0};   // tries beyond the first (throttled, 5xx, no answer)
  std::atomic<std::int64_t> failures{0};  // requests that got no usable answer in time

  void answered();
  void failed(std::string why);
  // Why the latest request got no answer; nothing once one is answered again.
  std::optional<std::string> problem() const;

 private:
  mutable std::mutex mutex_;
  std::string problem_;
};

// "DynamoDB <operation><context>: <error type>: <message>", as a store's
// "unavailable" error.
store::StoreError dynamo_error(std::string_view operation, const DynamoAnswer& answer, std::string_view context = "");

// Adds an answer's ConsumedCapacity (one object, or one per table for a transaction) to usage.
void count_usage(DynamoUsage& usage, const DynamoAnswer& answer, bool write, DynamoWork work);

// Sends one operation, counting it and its capacity; never throws.
class DynamoCaller {
 public:
  DynamoCaller(boost::asio::io_context& io, const DynamoStoreOptions& options,
               DynamoDbClient::CredentialsSource credentials, DynamoUsage& usage);
  boost::asio::awaitable<DynamoAnswer> call(std::string operation, const boost::json::object& body, bool write,
                                            DynamoWork work);
  http::HttpClient& http() { return *http_; }

 private:
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<DynamoDbClient> client_;
  std::chrono::milliseconds timeout_;
  DynamoUsage& usage_;
};

// A caller as one kind of work uses it: its requests counted as that work's.
struct DynamoWorkCaller {
  DynamoCaller& caller;
  DynamoWork work;
  boost::asio::awaitable<DynamoAnswer> call(std::string operation, const boost::json::object& body, bool write) {
    return caller.call(std::move(operation), body, write, work);
  }
};

class DynamoLeadStore final : public store::LeadStore {
 public:
  DynamoLeadStore(std::vector<boost::asio::io_context*> homes, DynamoStoreOptions options,
                  DynamoDbClient::CredentialsSource credentials);
  ~DynamoLeadStore() override;

  boost::asio::awaitable<store::StoreResult<store::CreateResult>> create(store::CreateRequest request) override;
  boost::asio::awaitable<store::StoreResult<Lead>> get(std::string lead_id) override;
  boost::asio::awaitable<store::StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt,
                                                               LeadStatus lead_status) override;
  boost::asio::awaitable<store::StoreResult<store::ApplyResult>> apply_event(CallEvent event,
                                                                             WallTime received) override;
  boost::asio::awaitable<store::StoreResult<store::UpdateResult>> update_lead(std::string lead_id,
                                                                              LeadUpdate update) override;
  boost::asio::awaitable<store::StoreResult<std::optional<std::string>>> find_lead_by_call_sid(
      std::string call_sid) override;
  boost::asio::awaitable<store::StoreResult<store::LeadPage>> list(store::LeadQuery query) override;
  std::optional<std::string> problem() const override;

  // create, with companion (another item of the table, such as the lead's
  // first dial job) put in the same transaction when the lead is created;
  // nothing of it written when an existing lead is returned.
  boost::asio::awaitable<store::StoreResult<store::CreateResult>> create_with(store::CreateRequest request,
                                                                              boost::json::object companion);

  const DynamoUsage& usage() const { return usage_; }
  DynamoUsage& usage() { return usage_; }
  // Each reactor's HTTP client to DynamoDB, for keeping its connections warm there.
  std::vector<std::pair<boost::asio::io_context*, http::HttpClient*>> clients() const;

 private:
  struct Home {
    boost::asio::io_context* io;
    std::unique_ptr<DynamoCaller> caller;
  };
  struct Orphans;  // a call's orphan item as read

  template <class Result, class... Parameters, class... Arguments>
  boost::asio::awaitable<Result> route(DynamoWork work,
                                       boost::asio::awaitable<Result> (DynamoLeadStore::*operation)(DynamoWorkCaller,
                                                                                                    Parameters...),
                                       Arguments&&... arguments);

  boost::asio::awaitable<store::StoreResult<store::CreateResult>> do_create(
      DynamoWorkCaller dynamo, store::CreateRequest request, std::optional<boost::json::object> companion);
  boost::asio::awaitable<store::StoreResult<Lead>> do_get(DynamoWorkCaller dynamo, std::string lead_id);
  boost::asio::awaitable<store::StoreResult<Lead>> do_add_attempt(DynamoWorkCaller dynamo, std::string lead_id,
                                                                  Attempt attempt, LeadStatus lead_status);
  boost::asio::awaitable<store::StoreResult<store::ApplyResult>> do_apply_event(DynamoWorkCaller dynamo,
                                                                                CallEvent event, WallTime received);
  boost::asio::awaitable<store::StoreResult<store::UpdateResult>> do_update(DynamoWorkCaller dynamo,
                                                                            std::string lead_id, LeadUpdate update);
  boost::asio::awaitable<store::StoreResult<std::optional<std::string>>> do_find(DynamoWorkCaller dynamo,
                                                                                 std::string call_sid);
  boost::asio::awaitable<store::StoreResult<store::LeadPage>> do_list(DynamoWorkCaller dynamo, store::LeadQuery query);

  // The lead with its events (a consistent Query of its partition).
  boost::asio::awaitable<store::StoreResult<StoredLead>> read(DynamoWorkCaller dynamo, const std::string& lead_id);
  // The lead to change: as this process last wrote it when it remembers
  // it (the write finds out if someone wrote since), else read.
  boost::asio::awaitable<store::StoreResult<StoredLead>> read_for_change(DynamoWorkCaller dynamo,
                                                                         const std::string& lead_id);
  boost::asio::awaitable<store::StoreResult<std::optional<std::string>>> owner_of(DynamoWorkCaller dynamo,
                                                                                  const std::string& call_sid);
  boost::asio::awaitable<store::StoreResult<Orphans>> read_orphans(DynamoWorkCaller dynamo,
                                                                   const std::string& call_sid);
  // Keeps event as an orphan unless its call has an owner by then: true
  // when kept (or dropped, the call having too many), false when the call
  // has an owner now (apply it instead).
  boost::asio::awaitable<store::StoreResult<bool>> keep_orphan(DynamoWorkCaller dynamo, const CallEvent& event,
                                                               WallTime received);

  enum class Written {
    yes,
    lost_race,     // the lead changed since before (or a conflict): again, from the lead as it is
    call_taken,    // the call sid it claims is another lead's
    orphans_came,  // callbacks for the call it claims are waiting as orphans: adopt them
  };
  // The write of a changed lead: the lead item alone when it stays within
  // kLeadItemBudget and nothing else changes; otherwise one transaction
  // that moves its events to event items, claims claim_sid and takes the
  // orphans adopted (none: on condition that there are none).
  boost::asio::awaitable<std::variant<Written, store::StoreError>> write(DynamoWorkCaller dynamo,
                                                                         const StoredLead& before, const Lead& after,
                                                                         const std::string& claim_sid,
                                                                         const Orphans* adopted);

  DynamoStoreOptions options_;
  std::vector<Home> homes_;
  DynamoUsage usage_;
  RecentLeads recent_;
};

}  // namespace callgate::aws
