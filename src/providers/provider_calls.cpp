#include "providers/provider_calls.hpp"

#include "http/client/http_client.hpp"

namespace callgate::providers {

boost::asio::awaitable<PlaceCallOutcome> ProviderCallsOverHttp::place_call(const Provider& provider,
                                                                           const Config& config, CallOrder order) {
  return providers::place_call(provider, config, client_, std::move(order));
}

boost::asio::awaitable<LookupOutcome> ProviderCallsOverHttp::find_calls(const Provider& provider, const Config& config,
                                                                        CallLookup lookup) {
  return providers::find_calls(provider, config, client_, std::move(lookup));
}

}  // namespace callgate::providers
