// The two requests the dialer makes of a provider, behind an interface so
// that the dialer's loop can be tested with a provider that answers
// whatever a test says, and no network.
#pragma once

#include "core/config.hpp"
#include "providers/provider.hpp"

#include <boost/asio/awaitable.hpp>

namespace callgate::http {
class HttpClient;
}

namespace callgate::providers {

class ProviderCalls {
 public:
  virtual ~ProviderCalls() = default;
  // Never throws; every failure is classified (place_call, find_calls in provider.hpp).
  virtual boost::asio::awaitable<PlaceCallOutcome> place_call(const Provider& provider, const Config& config,
                                                              CallOrder order) = 0;
  virtual boost::asio::awaitable<LookupOutcome> find_calls(const Provider& provider, const Config& config,
                                                           CallLookup lookup) = 0;
};

// Over a reactor's HTTPS client: what the daemon gives the dialer.
class ProviderCallsOverHttp final : public ProviderCalls {
 public:
  explicit ProviderCallsOverHttp(http::HttpClient& client) : client_(client) {}
  boost::asio::awaitable<PlaceCallOutcome> place_call(const Provider& provider, const Config& config,
                                                      CallOrder order) override;
  boost::asio::awaitable<LookupOutcome> find_calls(const Provider& provider, const Config& config,
                                                   CallLookup lookup) override;

 private:
  http::HttpClient& client_;
};

}  // namespace callgate::providers
