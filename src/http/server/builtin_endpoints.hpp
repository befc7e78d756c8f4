// The endpoints every callgated answers whatever else is configured:
// GET /healthz (the process is alive), GET /readyz (it can take traffic) and
// GET /metrics (Prometheus text format).
#pragma once

#include "core/metrics.hpp"
#include "http/server/server_shard.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace callgate::http {

// A dependency /readyz asks about: nothing when it is fine, else the reason.
struct ReadinessCheck {
  std::string name;
  std::function<boost::asio::awaitable<std::optional<std::string>>(RequestContext&)> probe;
  // A failing check that still lets traffic in (the instance works, worse):
  // /readyz answers 200 with "status":"degraded" instead of 503.
  bool degrades_only = false;
};

void register_builtin_endpoints(HttpRouter& router, const MetricsRegistry& metrics,
                                const std::vector<ReadinessCheck>& readiness_checks);

}  // namespace callgate::http
