#include "providers/first_call.hpp"

#include "core/log.hpp"
#include "providers/provider.hpp"
#include "providers/routing.hpp"

namespace callgate::providers {

using boost::asio::awaitable;

namespace {

std::string_view outcome_name(const PlaceCallOutcome& outcome) {
  if (std::holds_alternative<Placed>(outcome)) return "placed";
  if (std::holds_alternative<Retryable>(outcome)) return "retryable";
  if (std::holds_alternative<Ambiguous>(outcome)) return "ambiguous";
  return "rejected";
}

}  // namespace

awaitable<void> place_first_call(std::shared_ptr<const Config> config, LeadStore& store, http::HttpClient& client,
                                 std::string lead_id, std::string phone, FirstCallMetrics metrics) {
  const auto chosen = providers_for_number(config->telephony, phone);
  const Provider* provider = chosen.empty() ? nullptr : find_provider(chosen.front());
  const auto provider_name = chosen.empty() ? std::string_view("none") : to_string(chosen.front());
  if (provider == nullptr) {
    LogLine(LogLevel::warn, "call_not_placed")
        .trusted_text("lead_id", lead_id)
        .trusted_text("provider", provider_name)
        .trusted_text("reason", "this provider is not built yet; the lead stays pending");
    metrics.shard.counter(metrics.calls_placed, {{"provider", provider_name}, {"outcome", "not_built"}}).increment();
    co_return;
  }

  Attempt attempt;
  attempt.provider = std::string(provider_name);
  attempt.created = WallClock::now();
  CallOrder order{lead_id, phone};
  const auto outcome = co_await place_call(*provider, *config, client, std::move(order));
  LeadStatus lead_status = LeadStatus::dialing;
  if (const auto* placed = std::get_if<Placed>(&outcome)) {
    attempt.call_sid = placed->call_sid;
  } else if (const auto* ambiguous = std::get_if<Ambiguous>(&outcome)) {
    // The call may be ringing: its first callback will name the lead.
    attempt.error = "ambiguous: " + ambiguous->reason;
  } else if (const auto* retryable = std::get_if<Retryable>(&outcome)) {
    attempt.error = "not placed (retries come with the dialer): " + retryable->reason;
    lead_status = LeadStatus::failed;
  } else {
    const auto& rejected = std::get<Rejected>(outcome);
    attempt.error = "rejected " + std::to_string(rejected.code) + ": " + rejected.message;
    lead_status = LeadStatus::failed;
  }
  metrics.shard.counter(metrics.calls_placed, {{"provider", provider_name}, {"outcome", outcome_name(outcome)}})
      .increment();
  LogLine(attempt.error.empty() ? LogLevel::info : LogLevel::warn, "call_placement")
      .trusted_text("lead_id", lead_id)
      .trusted_text("provider", provider_name)
      .trusted_text("outcome", outcome_name(outcome))
      .text("call_sid", attempt.call_sid)
      .text("error", attempt.error);
  auto stored = co_await store.add_attempt(lead_id, std::move(attempt), lead_status);
  if (const auto* error = std::get_if<StoreError>(&stored))
    LogLine(LogLevel::error, "call_attempt_not_stored").trusted_text("lead_id", lead_id).text("reason", error->message);
}

}  // namespace callgate::providers
