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
  using Probe = std::function<boost::asio::awaitable<std::optional<std::string>>(RequestContext&)>;
  ReadinessCheck(std::string check_name, Probe check_probe, bool only_degrades = false,
                 std::function<bool()> fallback = {})
      : name(std::move(check_name)),
        probe(std::move(check_probe)),
        degrades_only(only_degrades),
        carried_by_fallback(std::move(fallback)) {}

  std::string name;
  Probe probe;
  // A failing check that still lets traffic in (the instance works, worse):
  // /readyz answers 200 with "status":"degraded" instead of 503.
  bool degrades_only = false;
  // When set and true at the time of the check, a failure degrades only:
  // something else carries the load meanwhile (the spool acknowledges
  // webhooks while the store is away), so a load balancer keeps the host.
  std::function<bool()> carried_by_fallback;
};

void register_builtin_endpoints(HttpRouter& router, const MetricsRegistry& metrics,
                                const std::vector<ReadinessCheck>& readiness_checks);

}  // namespace callgate::http
