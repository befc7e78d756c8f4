// The providers callgate knows. Adding one: a folder like twilio/ and a
// line here.
#include "providers/exotel/provider.hpp"
#include "providers/simulator/provider.hpp"
#include "providers/twilio/provider.hpp"

#include "http/client/http_client.hpp"

#include <array>

namespace callgate::providers {
namespace {

const twilio::TwilioProvider kTwilio;
const exotel::ExotelProvider kExotel;
const simulator::SimulatorProvider kSimulator;
// Order matters to POST /webhook: the last one takes whatever no other
// recognizes (the simulator recognizes nothing there).
const std::array<const Provider*, 3> kProviders = {&kTwilio, &kSimulator, &kExotel};

}  // namespace

const Provider* find_provider(const ProviderName& name) {
  for (const Provider* provider : kProviders)
    if (provider->name() == name) return provider;
  return nullptr;
}

std::span<const Provider* const> all_providers() { return kProviders; }

ProviderSections config_sections() {
  static const auto sections = [] {
    std::vector<const ProviderConfigSection*> list;
    for (const Provider* provider : kProviders) list.push_back(&provider->config_section());
    return list;
  }();
  return sections;
}

boost::asio::awaitable<PlaceCallOutcome> place_call(const Provider& provider, const Config& config,
                                                    http::HttpClient& client, CallOrder order) {
  auto response = co_await client.send(provider.build_place_call_request(config, order));
  co_return provider.classify_place_call_response(response);
}

boost::asio::awaitable<LookupOutcome> find_calls(const Provider& provider, const Config& config,
                                                 http::HttpClient& client, CallLookup lookup) {
  auto response = co_await client.send(provider.build_find_calls_request(config, lookup));
  co_return provider.classify_find_calls_response(response, lookup);
}

}  // namespace callgate::providers
