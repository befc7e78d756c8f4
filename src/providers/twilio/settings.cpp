#include "providers/twilio/settings.hpp"

namespace callgate::providers::twilio {

const TwilioSection& twilio_section() {
  static const TwilioSection section;
  return section;
}

std::vector<std::string_view> TwilioSection::environment_variables() const {
  return {"TWILIO_ACCOUNT_SID",  "TWILIO_AUTH_TOKEN",    "TWILIO_AUTH_TOKEN_SECONDARY",
          "TWILIO_PHONE_NUMBER", "TWILIO_CALL_FLOW_URL", "TWILIO_RECORD_CALLS"};
}

void TwilioSection::read_section(SectionReader& section, TwilioSettings& t) const {
  section.text("account_sid", t.account_sid);
  section.text("auth_token", t.auth_token);
  section.text("auth_token_secondary", t.auth_token_secondary);
  section.text("phone_number", t.phone_number);
  section.text("call_flow_url", t.call_flow_url);
  section.boolean("record_calls", t.record_calls);
  section.text("api_base", t.api_base);
  section.boolean("verify_signatures", t.verify_signatures);
  section.number<unsigned>("ring_timeout", t.ring_timeout_seconds, 0, 600);
  section.number<unsigned>("time_limit", t.time_limit_seconds, 0, 14'400);
  section.text("machine_detection", t.machine_detection);
  section.number<unsigned>("calls_per_minute", t.calls_per_minute, 0, 1'000'000);
}

void TwilioSection::apply_environment_to(const EnvironmentLookup& environment, TwilioSettings& t,
                                         ConfigDiagnostics& diagnostics) const {
  apply_environment_bindings(environment,
                             {{"TWILIO_ACCOUNT_SID", key("account_sid"), &t.account_sid},
                              {"TWILIO_AUTH_TOKEN", key("auth_token"), &t.auth_token},
                              {"TWILIO_AUTH_TOKEN_SECONDARY", key("auth_token_secondary"), &t.auth_token_secondary},
                              {"TWILIO_PHONE_NUMBER", key("phone_number"), &t.phone_number},
                              {"TWILIO_CALL_FLOW_URL", key("call_flow_url"), &t.call_flow_url}},
                             diagnostics);
  if (auto value = environment("TWILIO_RECORD_CALLS")) {
    diagnostics.remember(key("record_calls"), "environment TWILIO_RECORD_CALLS");
    if (*value == "true" || *value == "1")
      t.record_calls = true;
    else if (*value == "false" || *value == "0")
      t.record_calls = false;
    else
      diagnostics.error("environment TWILIO_RECORD_CALLS", "expected true or false, got '" + *value + "'");
  }
}

void TwilioSection::validate_section(TwilioSettings& t, bool in_use, ConfigDiagnostics& diagnostics) const {
  diagnostics.check(is_http_url(t.api_base, false), key("api_base"), "expected an http(s) URL with no path");
  diagnostics.check(t.account_sid.empty() || has_hex_tail(t.account_sid, "AC", 32), key("account_sid"),
                    "a Twilio Account SID is AC followed by 32 hexadecimal digits");
  diagnostics.check(t.call_flow_url.empty() || is_http_url(t.call_flow_url, true), key("call_flow_url"),
                    "expected an absolute http(s) URL");
  diagnostics.check(
      t.machine_detection.empty() || t.machine_detection == "Enable" || t.machine_detection == "DetectMessageEnd",
      key("machine_detection"), "expected Enable, DetectMessageEnd or nothing");
  if (!in_use) return;
  require(diagnostics, "Twilio", "account_sid", "TWILIO_ACCOUNT_SID", t.account_sid);
  require(diagnostics, "Twilio", "auth_token", "TWILIO_AUTH_TOKEN", t.auth_token);
  require(diagnostics, "Twilio", "phone_number", "TWILIO_PHONE_NUMBER", t.phone_number);
}

void TwilioSection::reload_section(const TwilioSettings& a, const TwilioSettings& b, TwilioSettings& effective,
                                   ReloadKeys& keys) const {
  // Each reactor's connections to the API were opened (and are kept warm) at start.
  keys.fixed(key("api_base"), a.api_base != b.api_base);
  effective.api_base = a.api_base;
  // The rest is read from the config snapshot at each call and each webhook.
  keys.live(key("account_sid"), a.account_sid != b.account_sid);
  keys.live(key("auth_token"), a.auth_token != b.auth_token);
  keys.live(key("auth_token_secondary"), a.auth_token_secondary != b.auth_token_secondary);
  keys.live(key("phone_number"), a.phone_number != b.phone_number);
  keys.live(key("call_flow_url"), a.call_flow_url != b.call_flow_url);
  keys.live(key("record_calls"), a.record_calls != b.record_calls);
  keys.live(key("verify_signatures"), a.verify_signatures != b.verify_signatures);
  keys.live(key("ring_timeout"), a.ring_timeout_seconds != b.ring_timeout_seconds);
  keys.live(key("time_limit"), a.time_limit_seconds != b.time_limit_seconds);
  keys.live(key("machine_detection"), a.machine_detection != b.machine_detection);
  keys.live(key("calls_per_minute"), a.calls_per_minute != b.calls_per_minute);
}

}  // namespace callgate::providers::twilio
