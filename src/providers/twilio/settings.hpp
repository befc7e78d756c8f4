// telephony.twilio: Twilio's section of the config, read, checked and
// reloaded here (core carries it as a ProviderSettings).
#pragma once

#include "core/config.hpp"

#include <string>

namespace callgate::providers::twilio {

struct TwilioSettings {
  std::string account_sid;
  std::string auth_token;
  // During a rotation: the token Twilio calls secondary. Requests signed
  // with either are taken, so a reload with the new primary loses none
  // signed a moment before; empty once the rotation is done.
  std::string auth_token_secondary;
  std::string phone_number;
  std::string call_flow_url;  // empty: {public_base_url}/twiml
  bool record_calls = false;
  std::string api_base = "https://api.twilio.com";
  bool verify_signatures = true;      // false only for local experiments; logged loudly
  unsigned ring_timeout_seconds = 0;  // Timeout; 0 leaves Twilio's default (60)
  unsigned time_limit_seconds = 0;    // TimeLimit; 0 leaves Twilio's default
  std::string machine_detection;      // "", "Enable" or "DetectMessageEnd"
  unsigned calls_per_minute = 0;      // the account's pace for new calls (Twilio's CPS x 60); 0: unpaced

  bool operator==(const TwilioSettings&) const = default;
};

class TwilioSection final : public TypedProviderSection<TwilioSettings> {
 public:
  TwilioSection() : TypedProviderSection("twilio") {}
  std::vector<std::string_view> environment_variables() const override;

 protected:
  void read_section(SectionReader& section, TwilioSettings& settings) const override;
  void apply_environment_to(const EnvironmentLookup& environment, TwilioSettings& settings,
                            ConfigDiagnostics& diagnostics) const override;
  void validate_section(TwilioSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const override;
  void reload_section(const TwilioSettings& running, const TwilioSettings& reloaded, TwilioSettings& effective,
                      ReloadKeys& keys) const override;
};

const TwilioSection& twilio_section();

// Twilio's settings in a config (the defaults when it has none).
inline const TwilioSettings& settings_of(const Config& config) {
  return settings_in(config.telephony, twilio_section());
}
inline TwilioSettings& settings_of(Config& config) { return settings_in(config.telephony, twilio_section()); }

}  // namespace callgate::providers::twilio
