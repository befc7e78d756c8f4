#include "providers/exotel/settings.hpp"

namespace callgate::providers::exotel {

const ExotelSection& exotel_section() {
  static const ExotelSection section;
  return section;
}

std::vector<std::string_view> ExotelSection::environment_variables() const {
  return {"EXOTEL_ACCOUNT_SID",   "EXOTEL_API_KEY", "EXOTEL_API_TOKEN",     "EXOTEL_EXOPHONE_NUMBER",
          "EXOTEL_CALL_FLOW_URL", "EXOTEL_FLOW_ID", "EXOTEL_WEBHOOK_SECRET"};
}

void ExotelSection::read_section(SectionReader& section, ExotelSettings& e) const {
  section.text("account_sid", e.account_sid);
  section.text("api_key", e.api_key);
  section.text("api_token", e.api_token);
  section.text("exophone_number", e.exophone_number);
  section.text("call_flow_url", e.call_flow_url);
  section.text("flow_id", e.flow_id);
  section.text("webhook_secret", e.webhook_secret);
  section.choice<std::string>("region", e.region, {{"singapore", "singapore"}, {"mumbai", "mumbai"}});
  section.text("api_base", e.api_base);
  section.boolean("record_calls", e.record_calls);
  section.number<unsigned>("ring_timeout", e.ring_timeout_seconds, 0, 600);
  section.number<unsigned>("time_limit", e.time_limit_seconds, 0, 14'400);
  section.number<unsigned>("calls_per_minute", e.calls_per_minute, 0, 1'000'000);
  auto auth = section.section("webhook_auth");
  auto& a = e.webhook_auth;
  auth.text("callback_token", a.callback_token);
  auth.text("basic_username", a.basic_username);
  auth.text("basic_password", a.basic_password);
  auth.network_ranges("allowed_sources", a.allowed_sources);
  auth.boolean("allow_unauthenticated", a.allow_unauthenticated);
  auth.finish();
}

void ExotelSection::apply_environment_to(const EnvironmentLookup& environment, ExotelSettings& e,
                                         ConfigDiagnostics& diagnostics) const {
  apply_environment_bindings(environment,
                             {{"EXOTEL_ACCOUNT_SID", key("account_sid"), &e.account_sid},
                              {"EXOTEL_API_KEY", key("api_key"), &e.api_key},
                              {"EXOTEL_API_TOKEN", key("api_token"), &e.api_token},
                              {"EXOTEL_EXOPHONE_NUMBER", key("exophone_number"), &e.exophone_number},
                              {"EXOTEL_CALL_FLOW_URL", key("call_flow_url"), &e.call_flow_url},
                              {"EXOTEL_FLOW_ID", key("flow_id"), &e.flow_id},
                              {"EXOTEL_WEBHOOK_SECRET", key("webhook_secret"), &e.webhook_secret}},
                             diagnostics);
}

void ExotelSection::validate_section(ExotelSettings& e, bool in_use, ConfigDiagnostics& diagnostics) const {
  if (e.api_base.empty()) e.api_base = e.region == "mumbai" ? "https://api.in.exotel.com" : "https://api.exotel.com";
  while (e.api_base.size() > 1 && e.api_base.back() == '/') e.api_base.pop_back();
  diagnostics.check(is_http_url(e.api_base, false), key("api_base"), "expected an http(s) URL with no path");
  diagnostics.check(e.call_flow_url.empty() || is_http_url(e.call_flow_url, true), key("call_flow_url"),
                    "expected an absolute http(s) URL");
  const auto& auth = e.webhook_auth;
  diagnostics.check(auth.basic_username.find_first_of(":@/") == std::string::npos, key("webhook_auth.basic_username"),
                    "must not contain ':', '@' or '/'");
  diagnostics.check(auth.basic_username.empty() == auth.basic_password.empty(), key("webhook_auth.basic_password"),
                    "basic_username and basic_password go together");
  if (!in_use) return;
  const bool any_check = !e.webhook_secret.empty() || !auth.callback_token.empty() || !auth.basic_username.empty() ||
                         !auth.allowed_sources.empty();
  if (!any_check && !auth.allow_unauthenticated)
    diagnostics.error(diagnostics.origin_of("telephony.provider"),
                      "Exotel signs nothing: set at least one of telephony.exotel.webhook_secret, "
                      "webhook_auth.callback_token, webhook_auth.basic_username or webhook_auth.allowed_sources "
                      "(or webhook_auth.allow_unauthenticated for development)");
  require(diagnostics, "Exotel", "account_sid", "EXOTEL_ACCOUNT_SID", e.account_sid);
  require(diagnostics, "Exotel", "api_key", "EXOTEL_API_KEY", e.api_key);
  require(diagnostics, "Exotel", "api_token", "EXOTEL_API_TOKEN", e.api_token);
  require(diagnostics, "Exotel", "exophone_number", "EXOTEL_EXOPHONE_NUMBER", e.exophone_number);
}

void ExotelSection::reload_section(const ExotelSettings& a, const ExotelSettings& b, ExotelSettings& effective,
                                   ReloadKeys& keys) const {
  // Each reactor's connections to the API were opened (and are kept warm) at start.
  keys.fixed(key("api_base"), a.api_base != b.api_base);
  effective.api_base = a.api_base;
  // The rest is read from the config snapshot at each call and each webhook.
  keys.live(key("account_sid"), a.account_sid != b.account_sid);
  keys.live(key("api_key"), a.api_key != b.api_key);
  keys.live(key("api_token"), a.api_token != b.api_token);
  keys.live(key("exophone_number"), a.exophone_number != b.exophone_number);
  keys.live(key("call_flow_url"), a.call_flow_url != b.call_flow_url);
  keys.live(key("flow_id"), a.flow_id != b.flow_id);
  keys.live(key("webhook_secret"), a.webhook_secret != b.webhook_secret);
  keys.live(key("record_calls"), a.record_calls != b.record_calls);
  keys.live(key("ring_timeout"), a.ring_timeout_seconds != b.ring_timeout_seconds);
  keys.live(key("time_limit"), a.time_limit_seconds != b.time_limit_seconds);
  keys.live(key("calls_per_minute"), a.calls_per_minute != b.calls_per_minute);
  keys.live(key("webhook_auth"), a.webhook_auth != b.webhook_auth);
}

}  // namespace callgate::providers::exotel
