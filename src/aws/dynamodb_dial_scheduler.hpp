// The dial scheduler on DynamoDB, in the leads' table (items in
// dynamodb_items.hpp), so a fleet of callgated hosts needs nothing but
// DynamoDB:
//   - a job is one item; the due index keys it by one of eight buckets and
//     the time it is next due (a claimed job: its lease's end), so due jobs
//     are found by a Query per bucket, earliest first, never a Scan;
//   - a claim is a conditional update on the job as it was read (the same
//     due key and claim): of two hosts that read one job, one wins, and a
//     dead host's claim is due again when its lease ends;
//   - a completion, or its replacement by the next job, is conditional on
//     the claim; the daily cap is a conditional counter, pacing a
//     conditional "next free slot" per account: every host shares them.
// The index is eventually consistent: a job written a moment ago may show
// up a moment later (longest_sleep bounds the wait), and a job seen due
// that has moved since fails its condition and is left alone.
//
// One HTTP client on the dialer's reactor; callers on other loops are served
// through it. next_wake() and counts() answer as of the latest claim_due,
// counting at most kCountedPerBucket jobs of each bucket.
#pragma once

#include "aws/dynamodb_lead_store.hpp"
#include "core/dialer/dial_scheduler.hpp"

#include <mutex>
#include <random>

namespace callgate::aws {

class DynamoDialScheduler final : public dialer::DialScheduler {
 public:
  static constexpr std::size_t kCountedPerBucket = 1'000;

  DynamoDialScheduler(boost::asio::io_context& home, DynamoStoreOptions options,
                      DynamoDbClient::CredentialsSource credentials);
  ~DynamoDialScheduler() override;

  boost::asio::awaitable<store::StoreResult<bool>> schedule(dialer::DialJob job) override;
  boost::asio::awaitable<store::StoreResult<std::optional<dialer::ClaimedJob>>> schedule_claimed(
      dialer::DialJob job, WallTime now, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<std::vector<dialer::ClaimedJob>>> claim_due(
      WallTime now, std::size_t limit, std::chrono::milliseconds lease) override;
  boost::asio::awaitable<store::StoreResult<bool>> complete(dialer::ClaimedJob claimed,
                                                            std::optional<dialer::DialJob> next) override;
  boost::asio::awaitable<store::StoreResult<bool>> take_call(std::string number, CivilDate day, int cap) override;
  boost::asio::awaitable<store::StoreResult<bool>> give_back_call(std::string number, CivilDate day) override;
  boost::asio::awaitable<store::StoreResult<WallTime>> reserve_slot(std::string account, WallTime now,
                                                                    unsigned calls_per_minute) override;
  boost::asio::awaitable<store::StoreResult<std::optional<dialer::DialJob>>> job_for(std::string lead_id) override;
  std::optional<WallTime> next_wake() const override;
  std::chrono::milliseconds longest_sleep() const override { return std::chrono::seconds(1); }
  dialer::SchedulerCounts counts(WallTime now) const override;
  std::optional<std::string> problem() const override { return usage_.problem(); }

  const DynamoUsage& usage() const { return usage_; }

  // A new claim's number (random: no shared counter to write per claim).
  std::uint64_t new_claim();
  // A job written beside this scheduler (DynamoLeadsWithFirstJobs) is due then.
  void job_written(WallTime due);

 private:
  // Runs operation on home: the caller's coroutine hops there and back when it is elsewhere.
  boost::asio::awaitable<DynamoAnswer> call(std::string operation, boost::json::object body, bool write);
  boost::asio::awaitable<DynamoAnswer> call_on_home(std::string operation, boost::json::object body, bool write);

  boost::asio::io_context& home_;
  DynamoStoreOptions options_;
  DynamoUsage usage_;
  std::unique_ptr<DynamoCaller> caller_;
  mutable std::mutex mutex_;
  std::mt19937_64 random_;
  std::optional<WallTime> next_wake_;  // as the latest claim_due saw it
  dialer::SchedulerCounts counts_;
};

// A new lead and its first job in the one transaction that creates the
// lead (the job an item beside it): what an enquiry costs is one write.
class DynamoLeadsWithFirstJobs final : public dialer::LeadsWithFirstJobs {
 public:
  DynamoLeadsWithFirstJobs(DynamoLeadStore& leads, DynamoDialScheduler& jobs) : leads_(leads), jobs_(jobs) {}
  boost::asio::awaitable<store::StoreResult<Stored>> create_with_first_job(
      store::CreateRequest request, dialer::DialJob job, WallTime now,
      std::optional<std::chrono::milliseconds> lease) override;

 private:
  DynamoLeadStore& leads_;
  DynamoDialScheduler& jobs_;
};

}  // namespace callgate::aws
