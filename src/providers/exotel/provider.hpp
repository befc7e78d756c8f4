// Exotel as a Provider: the pieces in this folder behind the one interface.
#pragma once

#include "providers/exotel/settings.hpp"
#include "providers/provider.hpp"

namespace callgate::providers::exotel {

class ExotelProvider final : public providers::Provider {
 public:
  const ProviderConfigSection& config_section() const override { return exotel_section(); }
  std::string api_base(const Config& config) const override { return settings_of(config).api_base; }
  unsigned calls_per_minute(const Config& config) const override { return settings_of(config).calls_per_minute; }
  http::ClientRequest build_place_call_request(const Config& config, const providers::CallOrder& order) const override;
  PlaceCallOutcome classify_place_call_response(const ProviderResponse& response) const override;
  http::ClientRequest build_find_calls_request(const Config& config, const CallLookup& lookup) const override;
  LookupOutcome classify_find_calls_response(const ProviderResponse& response, const CallLookup& lookup) const override;
  std::chrono::seconds lookup_settles_after(const Config& config) const override;
  std::optional<providers::WebhookRejected> authenticate_webhook(
      const Config& config, const providers::InboundRequest& request) const override;
  bool recognizes_webhook(const http::Request& request) const override;
  std::variant<CallEvent, providers::WebhookMalformed> parse_status_callback(
      const providers::InboundRequest& request) const override;
  void register_call_flow_endpoints(http::HttpRouter& router, providers::CallFlowServices services) const override;
  std::vector<StartWarning> start_warnings(const Config& config) const override;
};

}  // namespace callgate::providers::exotel
