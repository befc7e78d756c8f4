// telephony.exotel: Exotel's section of the config, read, checked and
// reloaded here (core carries it as a ProviderSettings).
#pragma once

#include "core/config.hpp"
#include "core/network_range.hpp"

#include <string>
#include <vector>

namespace callgate::providers::exotel {

// How callgate knows a request on /webhook/exotel or /exotel/passthru came
// from Exotel, which signs nothing. Every check configured must pass.
struct ExotelWebhookAuth {
  // The HMAC-SHA256 of the raw body with exotel.webhook_secret in
  // X-Exotel-Signature (hex or base64) is checked whenever the secret is set.
  std::string callback_token;  // put in the callback URLs as ?token=, checked in constant time
  std::string basic_username;  // put in the callback URLs as user:password@, checked as Basic auth
  std::string basic_password;
  std::vector<NetworkRange> allowed_sources;  // the peer's address must be in one of these
  bool allow_unauthenticated = false;         // development only: accept with no check at all

  bool operator==(const ExotelWebhookAuth&) const = default;
};

struct ExotelSettings {
  std::string account_sid;
  std::string api_key;
  std::string api_token;
  std::string exophone_number;
  std::string call_flow_url;
  std::string flow_id;
  std::string webhook_secret;
  std::string region = "singapore";  // singapore (api.exotel.com) or mumbai (api.in.exotel.com)
  std::string api_base;              // empty: the region's host (filled in when the config is checked)
  bool record_calls = false;
  unsigned ring_timeout_seconds = 0;  // TimeOut; 0 leaves Exotel's default
  unsigned time_limit_seconds = 0;    // TimeLimit, at most 14400; 0 leaves Exotel's default
  ExotelWebhookAuth webhook_auth;
  unsigned calls_per_minute = 0;  // the account's pace for new calls (Exotel allows 200); 0: unpaced

  bool operator==(const ExotelSettings&) const = default;
};

class ExotelSection final : public TypedProviderSection<ExotelSettings> {
 public:
  ExotelSection() : TypedProviderSection("exotel") {}
  std::vector<std::string_view> environment_variables() const override;

 protected:
  void read_section(SectionReader& section, ExotelSettings& settings) const override;
  void apply_environment_to(const EnvironmentLookup& environment, ExotelSettings& settings,
                            ConfigDiagnostics& diagnostics) const override;
  void validate_section(ExotelSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const override;
  void reload_section(const ExotelSettings& running, const ExotelSettings& reloaded, ExotelSettings& effective,
                      ReloadKeys& keys) const override;
};

const ExotelSection& exotel_section();

// Exotel's settings in a config (the defaults when it has none).
inline const ExotelSettings& settings_of(const Config& config) {
  return settings_in(config.telephony, exotel_section());
}
inline ExotelSettings& settings_of(Config& config) { return settings_in(config.telephony, exotel_section()); }

}  // namespace callgate::providers::exotel
