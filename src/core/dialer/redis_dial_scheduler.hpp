// The scheduler shared by every callgated on one Redis: a job is claimed by
// exactly one host (the claim is one Lua script), a host that dies leaves
// its claims to run out and be taken by the others, and pacing and the
// per-number daily cap count every host's calls.
//
// Key layout (every key starts with store.redis.key_prefix, "callgate:"):
//   dial:job:{lead}          hash: job (dial_job_json.hpp), claim (0: waiting), lease (ms)
//   dial:due                 sorted set: waiting jobs' leads, scored by due time (ms)
//   dial:flight              sorted set: claimed jobs' leads, scored by lease end (ms)
//   dial:claims              counter: the last claim number handed out
//   dial:calls:{e164}:{date} counter of the number's calls that day (expires after 3 days)
//   dial:pace:{account}      the account's next free call slot (µs since 1970)
//
// The claim script reads job hashes it builds the names of (not all of its
// keys are passed as KEYS): fine for one Redis or a primary with replicas,
// not for Redis Cluster. Times come from the hosts' clocks (keep them in
// NTP sync): a host whose clock runs ahead takes a claimed job back early.
//
// One connection, on the dialer's reactor; callers on other loops are served
// through it. next_wake() and counts() answer as of the latest claim_due.
#pragma once

#include "core/dialer/dial_scheduler.hpp"
#include "core/redis/redis_connection.hpp"

#include <memory>
#include <mutex>

namespace callgate::dialer {

struct RedisSchedulerOptions {
  redis::ConnectionOptions connection;
  std::string key_prefix = "callgate:";
};

class RedisDialScheduler final : public DialScheduler {
 public:
  RedisDialScheduler(boost::asio::io_context& home, RedisSchedulerOptions options);
  ~RedisDialScheduler() override;

  void start();  // connects (posted to home)
  bool connected() const;

  boost::asio::awaitable<store::StoreResult<bool>> schedule(DialJob job) override;
  boost::asio::awaitable<store::StoreResult<std::optional<ClaimedJob>>> schedule_claimed(
      DialJob job, WallTime now, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<std::vector<ClaimedJob>>> claim_due(
      WallTime now, std::size_t limit, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<bool>> complete(ClaimedJob claimed, std::optional<DialJob> next) override;
  boost::asio::awaitable<store::StoreResult<bool>> take_call(std::string number, CivilDate day, int cap) override;
  boost::asio::awaitable<store::StoreResult<bool>> give_back_call(std::string number, CivilDate day) override;
  boost::asio::awaitable<store::StoreResult<WallTime>> reserve_slot(std::string account, WallTime now,
                                                                    unsigned calls_per_minute) override;
  boost::asio::awaitable<store::StoreResult<std::optional<DialJob>>> job_for(std::string lead_id) override;
  std::optional<WallTime> next_wake() const override;
  std::chrono::milliseconds longest_sleep() const override {
    return std::chrono::seconds(1);
  }  // other hosts write jobs too
  SchedulerCounts counts(WallTime now) const override;
  std::optional<std::string> problem() const override;

 private:
  // Runs on home: the caller's coroutine hops there and back when it is elsewhere.
  boost::asio::awaitable<std::variant<redis::Reply, store::StoreError>> script(int which, std::vector<std::string> keys,
                                                                               std::vector<std::string> arguments);
  boost::asio::awaitable<std::variant<redis::Reply, store::StoreError>> on_home(int which,
                                                                                std::vector<std::string> keys,
                                                                                std::vector<std::string> arguments);
  std::string key(std::string_view name) const;

  boost::asio::io_context& home_;
  RedisSchedulerOptions options_;
  std::unique_ptr<redis::Connection> connection_;
  mutable std::mutex seen_mutex_;
  std::optional<WallTime> next_wake_;  // as the latest claim_due saw it
  SchedulerCounts counts_;
};

}  // namespace callgate::dialer
