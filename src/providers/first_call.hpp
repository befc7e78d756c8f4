// Placing a new lead's first call straight away, with the provider routing
// picks for its number, and recording how it went on the lead. This is the
// dialer's job once the scheduler exists (retries, calling hours, pacing);
// until then a lead gets exactly one attempt.
#pragma once

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/store/lead_store.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace callgate::providers {

struct FirstCallMetrics {
  MetricsShard& shard;
  MetricId calls_placed;  // callgate_calls_placed_total{provider, outcome}
};

// Never throws. The attempt is stored with the provider's call sid (placed),
// without one (ambiguous: a callback may still name it), or with the error.
boost::asio::awaitable<void> place_first_call(std::shared_ptr<const Config> config, LeadStore& store,
                                              http::HttpClient& client, std::string lead_id, std::string phone,
                                              FirstCallMetrics metrics);

}  // namespace callgate::providers
