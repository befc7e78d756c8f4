#include "http/client/connection_warmer.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>

namespace callgate::http {

using namespace std::chrono_literals;

boost::asio::awaitable<void> keep_connections_warm(HttpClient& client, std::function<WarmPlan()> plan) {
  std::map<std::string, std::string> failures;  // by base URL: the failure logged last, once per outage
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    const auto current = plan();
    // Without reuse (idle_timeout 0) a connection opened ahead is never used.
    if (current.connections == 0 || current.idle_timeout == Milliseconds::zero()) co_return;
    for (const auto& target : current.targets) {
      if (target.base_url.empty()) continue;
      const auto warmed = co_await client.keep_warm(target.base_url, current.connections);
      auto& logged = failures[target.base_url];
      if (!warmed.failure.empty() && warmed.failure != logged)
        LogLine(LogLevel::warn, "provider_connections_not_opened")
            .trusted_text("provider", target.label)
            .text("reason", warmed.failure)
            .trusted_text("detail", "calls will open their own connections; tried again every half idle_timeout");
      else if (warmed.failure.empty() && !logged.empty())
        LogLine(LogLevel::info, "provider_connections_opened").trusted_text("provider", target.label);
      logged = warmed.failure;
    }
    timer.expires_after(std::max<std::chrono::milliseconds>(current.idle_timeout / 2, 1s));
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

}  // namespace callgate::http
