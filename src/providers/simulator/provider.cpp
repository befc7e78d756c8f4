#include "providers/simulator/provider.hpp"

#include "providers/simulator/client.hpp"
#include "providers/simulator/webhook.hpp"
#include "providers/twilio/client.hpp"

namespace callgate::providers::simulator {

http::ClientRequest SimulatorProvider::build_place_call_request(const Config& config,
                                                                const providers::CallOrder& order) const {
  return build_create_call_request(config, order);
}

// The simulated account answers in Twilio's shapes.
PlaceCallOutcome SimulatorProvider::classify_place_call_response(const ProviderResponse& response) const {
  return twilio::classify_create_call_response(response);
}

http::ClientRequest SimulatorProvider::build_find_calls_request(const Config& config, const CallLookup& lookup) const {
  return build_list_calls_request(config, lookup);
}

LookupOutcome SimulatorProvider::classify_find_calls_response(const ProviderResponse& response,
                                                              const CallLookup& lookup) const {
  return twilio::classify_list_calls_response(response, lookup);
}

// The account lists a call from the moment it takes it.
std::chrono::seconds SimulatorProvider::lookup_settles_after(const Config&) const { return std::chrono::seconds(0); }

std::optional<providers::WebhookRejected> SimulatorProvider::authenticate_webhook(
    const Config& config, const providers::InboundRequest& request) const {
  return authenticate_callback(config, request);
}

bool SimulatorProvider::recognizes_webhook(const http::Request&) const { return false; }

std::variant<CallEvent, providers::WebhookMalformed> SimulatorProvider::parse_status_callback(
    const providers::InboundRequest& request) const {
  return parse_callback(request);
}

void SimulatorProvider::register_call_flow_endpoints(http::HttpRouter&, providers::CallFlowServices) const {}

std::optional<ProviderName> SimulatorProvider::imitates(const Config& config) const {
  if (config.telephony.simulator.format == SimulatorFormat::twilio) return ProviderName::twilio;
  return std::nullopt;
}

}  // namespace callgate::providers::simulator
