// Keeps a reactor's connections to the hosts it will call open ahead of the
// calls (http_client.warm_connections): a call placed after a start or a
// quiet spell then finds a connection ready instead of waiting for a TCP
// and TLS handshake. Runs until the plan asks for no warm connections.
#pragma once

#include "core/duration.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

namespace callgate::http {

struct WarmTarget {
  std::string label;     // for the logs: whose host it is ("twilio")
  std::string base_url;  // scheme, host and port
};

struct WarmPlan {
  unsigned connections = 0;      // per target; 0 ends the warming
  Milliseconds idle_timeout{0};  // connections are looked at every half of it; 0 (no reuse) ends it
  std::vector<WarmTarget> targets;
};

// plan is asked again before every pass, so a reload's change takes effect.
// A target's failure is logged once per outage, its recovery once.
boost::asio::awaitable<void> keep_connections_warm(HttpClient& client, std::function<WarmPlan()> plan);

}  // namespace callgate::http
