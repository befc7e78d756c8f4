// The Redis backend, for running several callgate hosts on one store.
//
// Key layout (every key starts with store.redis.key_prefix, "callgate:"):
//   lead:{id}        hash: json (the lead, lead_json.hpp), version (counts changes), key (its idempotency key)
//   events:{id}      list: call events appended since the json (lead_json.hpp's event records), oldest
//                    first; the lead is the json with these applied in order, by the same state machine
//   idem:{key}       string: the lead id an Idempotency-Key created
//   phone:{e164}     hash: id and created (ms) of the number's latest lead, for the duplicate window
//   sid:{call sid}   string: the lead id that owns a call
//   orphans:{sid}    list: events for a call sid no lead owns yet, oldest first;
//                    expires store.redis.orphan_wait after its latest event
//   leads            sorted set (all scores 0, so ordered by id = by creation time): every lead
//   status:{status}  sorted set likewise: the leads in that status
//
// Every change is made by a Lua script, so it is one atomic step whichever
// host or reactor runs it. Events go through the same C++ state machine as
// every other backend: the lead is read, the event applied, and the result
// written by a compare-and-set script that only succeeds if the lead's
// version is still the one read (else: read again and retry). One state
// machine, in C++, and no interleaving of two webhooks for one lead.
//
// A callback costs Redis as little as that allows, since one Redis serves a
// fleet: the sid's owner and the lead are read by plain pipelined commands
// (GET; HMGET and LRANGE), not a script, and the compare-and-set does not
// write the lead back: it appends the event to events:{id} (the event's few
// hundred bytes, not the lead's kilobytes) and every read applies that list
// to the json. Writes of the whole lead (a new attempt, an update, a list
// grown past a bound) fold the list into the json and empty it. The
// appends, and the orphans kept for calls nobody owns, go out one script
// call per turn of the reactor's loop.
//
// One connection per reactor (pipelined); a caller on any other loop is
// served by the first reactor's connection.
#pragma once

#include "core/spawn.hpp"

#include "core/redis/redis_connection.hpp"
#include "core/redis/redis_script.hpp"
#include "core/store/lead_store.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

namespace callgate::store {

struct RedisStoreOptions {
  redis::ConnectionOptions connection;
  std::string key_prefix = "callgate:";
  // A call's orphans expire this long after the latest of them.
  std::chrono::milliseconds orphan_wait{3'600'000};
  // Where this host keeps the Redis epoch it has seen (redis_epoch.hpp);
  // empty: the check runs within this process's life only.
  std::string epoch_file;
};

class RedisLeadStore final : public LeadStore {
 public:
  // homes: the io_contexts that will call the store, one connection each.
  RedisLeadStore(std::vector<boost::asio::io_context*> homes, RedisStoreOptions options);
  ~RedisLeadStore() override;

  void start() override;  // connects (posts to each home loop)
  bool connected() const;
  // Every connection has been up at least once: Redis was there since start.
  bool has_connected() const;

  boost::asio::awaitable<StoreResult<CreateResult>> create(CreateRequest request) override;
  boost::asio::awaitable<StoreResult<Lead>> get(std::string lead_id) override;
  boost::asio::awaitable<StoreResult<Lead>> add_attempt(std::string lead_id, Attempt attempt,
                                                        LeadStatus lead_status) override;
  boost::asio::awaitable<StoreResult<ApplyResult>> apply_event(CallEvent event, WallTime received) override;
  boost::asio::awaitable<StoreResult<UpdateResult>> update_lead(std::string lead_id, LeadUpdate update) override;
  boost::asio::awaitable<StoreResult<std::optional<std::string>>> find_lead_by_call_sid(std::string call_sid) override;
  boost::asio::awaitable<StoreResult<LeadPage>> list(LeadQuery query) override;
  std::optional<std::string> problem() const override;

  // Redis was found to have lost its data (redis_epoch.hpp): why, for
  // /readyz (degraded until a restart: someone must look), and how often.
  std::optional<std::string> data_loss() const;
  std::int64_t data_losses_detected() const { return data_losses_.load(std::memory_order_relaxed); }
  // Every connection's commands and bytes together: what this host asks of
  // Redis (per callback: against callgate_webhook_events_total).
  redis::Traffic traffic() const;

 private:
  struct PendingScript;
  struct ScriptBatch;  // the events of one turn of a home's loop, sent in one script call
  struct Home {
    boost::asio::io_context* io;
    std::unique_ptr<redis::Connection> connection;
    std::unique_ptr<ScriptBatch> orphans;
    std::unique_ptr<ScriptBatch> appends;
  };
  enum class BatchKind { keep_orphans, append };
  struct Stored;  // a lead as read, with its version

  // After each connect: the epoch compared (and set on first use); once per
  // process, whether Redis persists what it is told.
  boost::asio::awaitable<bool> check_redis(redis::Connection& connection);

  template <class Result, class... Parameters, class... Arguments>
  boost::asio::awaitable<Result> route(boost::asio::awaitable<Result> (RedisLeadStore::*operation)(redis::Connection&,
                                                                                                   Parameters...),
                                       Arguments&&... arguments);

  boost::asio::awaitable<StoreResult<CreateResult>> do_create(redis::Connection& redis, CreateRequest request);
  boost::asio::awaitable<StoreResult<Lead>> do_get(redis::Connection& redis, std::string lead_id);
  boost::asio::awaitable<StoreResult<Lead>> do_add_attempt(redis::Connection& redis, std::string lead_id,
                                                           Attempt attempt, LeadStatus lead_status);
  boost::asio::awaitable<StoreResult<ApplyResult>> do_apply_event(redis::Connection& redis, CallEvent event,
                                                                  WallTime received);
  boost::asio::awaitable<StoreResult<UpdateResult>> do_update(redis::Connection& redis, std::string lead_id,
                                                              LeadUpdate update);
  boost::asio::awaitable<StoreResult<std::optional<std::string>>> do_find(redis::Connection& redis,
                                                                          std::string call_sid);
  boost::asio::awaitable<StoreResult<LeadPage>> do_list(redis::Connection& redis, LeadQuery query);

  boost::asio::awaitable<std::variant<redis::Reply, StoreError>> run(redis::Connection& redis,
                                                                     std::vector<std::string> arguments);
  boost::asio::awaitable<std::variant<redis::Reply, StoreError>> script(redis::Connection& redis,
                                                                        const redis::Script& which,
                                                                        std::vector<std::string> keys,
                                                                        std::vector<std::string> arguments);
  boost::asio::awaitable<std::variant<redis::Reply, StoreError>> script(redis::Connection& redis,
                                                                        const redis::Script& which,
                                                                        std::span<const std::string_view> keys,
                                                                        std::span<const std::string_view> arguments);
  boost::asio::awaitable<StoreResult<Stored>> read(redis::Connection& redis, const std::string& lead_id);
  Home& home_of(redis::Connection& redis);
  // An event's orphan or append script, batched with the others of this
  // turn of the loop; the views must outlive the co_await.
  boost::asio::awaitable<std::variant<redis::Reply, StoreError>> batched(redis::Connection& redis, BatchKind kind,
                                                                         PendingScript pending);
  boost::asio::awaitable<void> send_batch(redis::Connection& redis, BatchKind kind, std::vector<PendingScript> events);
  // A lead from its hash's json and version fields (as HMGET answers them)
  // and the events appended to it since.
  static StoreResult<Stored> stored_lead(const std::string& lead_id, const redis::Reply& json_field,
                                         const redis::Reply& version_field, const redis::Reply& events);
  // Applies the events waiting for call_sid to lead; returns how many the
  // list held, which the write then consumes (and checks none came since).
  boost::asio::awaitable<std::variant<std::int64_t, StoreError>> apply_orphans(redis::Connection& redis,
                                                                               const std::string& call_sid, Lead& lead);
  // The compare-and-set write: 1 written, 0 lost the race, -1 the call sid belongs to another lead.
  boost::asio::awaitable<std::variant<std::int64_t, StoreError>> write(redis::Connection& redis, const Stored& before,
                                                                       const Lead& after, const std::string& claim_sid,
                                                                       std::int64_t orphans_consumed);

  std::string key(std::string_view kind, std::string_view name) const;

  RedisStoreOptions options_;
  std::vector<Home> homes_;
  mutable std::mutex epoch_mutex_;  // homes connect on their own reactors
  std::string known_epoch_;         // the epoch file's, then what Redis said
  std::string data_loss_;           // why /readyz is degraded; empty while nothing was lost
  bool persistence_checked_ = false;
  std::atomic<std::int64_t> data_losses_{0};
  // Stopped when destroyed: a posted send, or a connection's check resumed
  // later, must not run (they hold its token).
  StopSignal gone_;
};

}  // namespace callgate::store
