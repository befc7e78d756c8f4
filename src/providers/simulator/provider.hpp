// The simulator as a Provider: a provider account that callgated plays
// itself (account.hpp), so the whole path of a call (placement over HTTP,
// the call flow, signed status callbacks in Twilio's or Exotel's format)
// runs with no credentials and never rings a phone.
#pragma once

#include "providers/provider.hpp"
#include "providers/simulator/settings.hpp"

namespace callgate::providers::simulator {

class SimulatorProvider final : public providers::Provider {
 public:
  const ProviderConfigSection& config_section() const override { return simulator_section(); }
  http::ClientRequest build_place_call_request(const Config& config, const providers::CallOrder& order) const override;
  PlaceCallOutcome classify_place_call_response(const ProviderResponse& response) const override;
  http::ClientRequest build_find_calls_request(const Config& config, const CallLookup& lookup) const override;
  LookupOutcome classify_find_calls_response(const ProviderResponse& response, const CallLookup& lookup) const override;
  std::chrono::seconds lookup_settles_after(const Config& config) const override;
  std::optional<providers::WebhookRejected> authenticate_webhook(
      const Config& config, const providers::InboundRequest& request) const override;
  // Never: its callbacks go to /webhook/simulator, not the shared /webhook.
  bool recognizes_webhook(const http::Request& request) const override;
  std::variant<CallEvent, providers::WebhookMalformed> parse_status_callback(
      const providers::InboundRequest& request) const override;
  // None of its own: it fetches Twilio's.
  void register_call_flow_endpoints(http::HttpRouter& router, providers::CallFlowServices services) const override;
  std::optional<ProviderName> imitates(const Config& config) const override;
  bool callbacks_only_while_in_use() const override { return true; }
  // A random auth_token when the file leaves it empty.
  void prepare_for_start(Config& config) const override;
};

}  // namespace callgate::providers::simulator
