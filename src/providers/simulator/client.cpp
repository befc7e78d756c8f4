#include "providers/simulator/client.hpp"

#include "http/form/form_codec.hpp"
#include "providers/public_url.hpp"
#include "providers/simulator/settings.hpp"

namespace callgate::providers::simulator {

http::ClientRequest build_create_call_request(const Config& config, const providers::CallOrder& order) {
  const auto& base = config.server.public_base_url;
  const http::FormFields fields = {
      {"To", order.to},
      {"From", settings_of(config).phone_number},
      {"Url", providers::callback_url(base, "/twiml", order.lead_id)},
      {"StatusCallback", providers::callback_url(base, "/webhook/simulator", order.lead_id)},
  };
  return http::make_form_post(base + std::string(kCallsPath), fields, kAccountUser, settings_of(config).auth_token);
}

http::ClientRequest build_list_calls_request(const Config& config, const CallLookup& lookup) {
  return http::make_get(
      config.server.public_base_url + std::string(kCallsPath) + "?To=" + http::encode_form_component(lookup.to),
      kAccountUser, settings_of(config).auth_token);
}

}  // namespace callgate::providers::simulator
