// The lead endpoints: POST /enquire (and its CORS preflight), where a web
// form hands callgate a lead (a browser's plain form post gets a page back),
// GET /enquire/{id}, the status alone for the page that made the enquiry,
// and the admin's GET /leads/{id} and GET /leads behind the bearer token.
#pragma once

#include "core/dialer/dial_scheduler.hpp"
#include "core/dialer/dialer_hand_offs.hpp"

#include "core/metrics.hpp"
#include "core/rate_limiter.hpp"
#include "core/store/lead_store.hpp"
#include "http/client/http_client.hpp"
#include "http/server/server_shard.hpp"

#include <functional>
#include <mutex>

namespace callgate::http {

struct LeadMetricIds {
  MetricId enquiries;     // callgate_enquiries_total{result}
  MetricId calls_placed;  // callgate_calls_placed_total{provider, outcome}
};
LeadMetricIds declare_lead_metrics(MetricsRegistry& registry);

// One rate limiter for all reactors: a client spreading its connections
// over reactors must not get a bucket on each. The rate is passed on every
// take, so a reload changes it at once.
class SharedRateLimiter {
 public:
  SharedRateLimiter(unsigned per_minute, unsigned burst);
  std::optional<std::chrono::milliseconds> take(const std::string& client, unsigned per_minute, unsigned burst);

 private:
  std::mutex mutex_;
  RateLimiter limiter_;
};

struct LeadServices {
  store::LeadStore& store;
  SharedRateLimiter& rate_limiter;         // POST /enquire
  SharedRateLimiter& status_rate_limiter;  // GET /enquire/{id}: ids must not be worth guessing at speed
  const LeadMetricIds& ids;
  dialer::FirstCallQueue& dialer;    // takes new leads' first calls
  dialer::DialScheduler& scheduler;  // what GET /leads/{id} shows as the next call
};

// services must outlive the router.
void register_lead_endpoints(HttpRouter& router, LeadServices& services);

// The client's address for rate limits and consent records: the peer, or,
// when the peer is a trusted proxy, the last address it put in X-Forwarded-For.
std::string client_address(const RequestContext& context);

// Nothing when the request carries admin.token as its bearer token; else the 401 to answer.
std::optional<Response> require_admin(const RequestContext& context);

}  // namespace callgate::http
