#include "providers/simulator/provider.hpp"

#include "providers/simulator/client.hpp"
#include "providers/simulator/settings.hpp"
#include "providers/simulator/webhook.hpp"
#include "providers/twilio/client.hpp"
#include "providers/twilio/settings.hpp"

#include "core/crypto.hpp"

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
  if (settings_of(config).format == SimulatorFormat::twilio) return twilio::twilio_section().name();
  return std::nullopt;
}

// No secret has a default anyone could know: when the file leaves the
// token empty one is made here (the simulator is both ends of its calls).
void SimulatorProvider::prepare_for_start(Config& config) const {
  auto& settings = settings_of(config);
  if (settings.auth_token.empty()) settings.auth_token = random_hex(24);
}

}  // namespace callgate::providers::simulator
