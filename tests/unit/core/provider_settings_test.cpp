// Core's config carries each provider's section without knowing it: a
// provider made up here (acme) is read, seeded from the environment,
// checked and reloaded by its own rules, with nothing in core naming it.
#include "core/provider_settings.hpp"
#include "core/config.hpp"
#include "core/config_loader.hpp"
#include "fake_environment.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <map>

using namespace callgate;

namespace {

struct AcmeSettings {
  std::string api_base = "https://api.acme.test";
  std::string token;
  unsigned pace = 0;
  bool operator==(const AcmeSettings&) const = default;
};

class AcmeSection final : public TypedProviderSection<AcmeSettings> {
 public:
  AcmeSection() : TypedProviderSection("acme") {}
  std::vector<std::string_view> environment_variables() const override { return {"ACME_TOKEN"}; }

 protected:
  void read_section(SectionReader& section, AcmeSettings& settings) const override {
    section.text("api_base", settings.api_base);
    section.text("token", settings.token);
    section.number<unsigned>("pace", settings.pace, 0, 100);
  }
  void apply_environment_to(const EnvironmentLookup& environment, AcmeSettings& settings,
                            ConfigDiagnostics& diagnostics) const override {
    apply_environment_bindings(environment, {{"ACME_TOKEN", key("token"), &settings.token}}, diagnostics);
  }
  void validate_section(AcmeSettings& settings, bool in_use, ConfigDiagnostics& diagnostics) const override {
    diagnostics.check(is_http_url(settings.api_base, false), key("api_base"), "expected an http(s) URL");
    // Pointed at the line that made it needed.
    if (in_use && settings.token.empty())
      diagnostics.error(diagnostics.origin_of("telephony.provider"),
                        key("token") + " is required when acme places calls");
  }
  void reload_section(const AcmeSettings& running, const AcmeSettings& reloaded, AcmeSettings& effective,
                      ReloadKeys& keys) const override {
    keys.fixed(key("api_base"), running.api_base != reloaded.api_base);
    effective.api_base = running.api_base;
    keys.live(key("token"), running.token != reloaded.token);
    keys.live(key("pace"), running.pace != reloaded.pace);
  }
};

const AcmeSection acme;
const std::array<const ProviderConfigSection*, 1> only_acme = {&acme};

ConfigLoadResult load(const std::string& yaml, std::map<std::string, std::string> variables = {}) {
  return load_config_text(yaml, "test.yaml", testing::fake_environment(std::move(variables)), only_acme);
}

std::string describe(const ConfigLoadResult& result) {
  std::string text;
  for (const auto& error : result.errors) text += error.to_string() + "\n";
  return text;
}

bool has_error(const ConfigLoadResult& result, const std::string& expected) {
  return std::any_of(result.errors.begin(), result.errors.end(),
                     [&](const ConfigError& error) { return error.to_string() == expected; });
}

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(provider_settings)

BOOST_AUTO_TEST_CASE(a_providers_section_is_read_by_the_provider) {
  auto result = load("telephony:\n  provider: acme\n  acme:\n    token: t1\n    pace: 7\n");
  BOOST_TEST_REQUIRE(result.ok(), describe(result));
  BOOST_TEST((result.config.telephony.provider == ProviderName("acme")));
  const auto& settings = settings_in(result.config.telephony, acme);
  BOOST_TEST(settings.token == "t1");
  BOOST_TEST(settings.pace == 7u);
  BOOST_TEST(settings.api_base == "https://api.acme.test");
}

BOOST_AUTO_TEST_CASE(its_unknown_keys_and_bad_values_are_errors_with_their_lines) {
  auto result = load("telephony:\n  provider: acme\n  acme:\n    token: t1\n    tokn: t2\n    pace: 300\n");
  BOOST_TEST(has_error(result, "test.yaml:5: unknown key 'telephony.acme.tokn'"), describe(result));
  BOOST_TEST(has_error(result, "test.yaml:6: telephony.acme.pace: expected a whole number from 0 to 100, got '300'"),
             describe(result));
}

BOOST_AUTO_TEST_CASE(only_the_sections_given_are_providers) {
  // With acme the only provider, twilio is no name for one, nor a section.
  auto result = load("telephony:\n  provider: twilio\n  twilio:\n    auth_token: x\n");
  BOOST_TEST(has_error(result, "test.yaml:2: telephony.provider: expected one of acme, got 'twilio'"),
             describe(result));
  BOOST_TEST(has_error(result, "test.yaml:3: unknown key 'telephony.twilio'"), describe(result));
  auto route = load("telephony:\n  routes:\n    - {prefix: \"+91\", providers: [acme, plivo]}\n");
  BOOST_TEST(has_error(route, "test.yaml:3: telephony.routes[0].providers: unknown value 'plivo'"), describe(route));
  auto variable = load("", {{"TELEPHONY_PROVIDER", "exotel"}});
  BOOST_TEST(has_error(variable, "environment TELEPHONY_PROVIDER: expected one of acme, got 'exotel'"),
             describe(variable));
}

BOOST_AUTO_TEST_CASE(its_environment_variables_and_rules_are_its_own) {
  BOOST_TEST(seed_environment_variables(only_acme) ==
             (std::vector<std::string_view>{"TELEPHONY_PROVIDER", "ACME_TOKEN"}));
  auto seeded = load("telephony:\n  provider: acme\n", {{"ACME_TOKEN", "from-env"}});
  BOOST_TEST_REQUIRE(seeded.ok(), describe(seeded));
  BOOST_TEST(settings_in(seeded.config.telephony, acme).token == "from-env");
  // Required only when it places calls; the error points where that was said.
  // The default provider (the simulator) is no provider here.
  BOOST_TEST(has_error(load(""), "test.yaml:1: telephony.provider: expected one of acme, got 'simulator'"));
  auto in_use = load("telephony:\n  provider: acme\n");
  BOOST_TEST(has_error(in_use, "test.yaml:2: telephony.acme.token is required when acme places calls"),
             describe(in_use));
  auto routed = load("telephony:\n  provider: acme\n  acme: {token: t, api_base: \"ftp://x\"}\n");
  BOOST_TEST(has_error(routed, "test.yaml:3: telephony.acme.api_base: expected an http(s) URL"), describe(routed));
}

BOOST_AUTO_TEST_CASE(a_reload_follows_the_providers_rules) {
  Config running;
  settings_in(running.telephony, acme).token = "old";
  Config reloaded = running;
  BOOST_TEST((reloaded.telephony.sections == running.telephony.sections));
  auto& changed = settings_in(reloaded.telephony, acme);
  changed.token = "new";
  changed.api_base = "https://elsewhere.acme.test";
  BOOST_TEST((reloaded.telephony.sections != running.telephony.sections));

  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(contains(plan.applied, "telephony.acme.token"));
  BOOST_TEST(contains(plan.needs_restart, "telephony.acme.api_base"));
  BOOST_TEST(plan.applied.size() == 1u);
  BOOST_TEST(plan.needs_restart.size() == 1u);
  const auto& effective = settings_in(plan.effective.telephony, acme);
  BOOST_TEST(effective.token == "new");
  BOOST_TEST(effective.api_base == "https://api.acme.test");
}

BOOST_AUTO_TEST_CASE(a_section_only_one_side_has_is_compared_with_its_defaults) {
  Config running;
  Config reloaded;
  settings_in(reloaded.telephony, acme).pace = 3;
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(plan.applied == (std::vector<std::string>{"telephony.acme.pace"}));
  BOOST_TEST(settings_in(plan.effective.telephony, acme).pace == 3u);
  // Defaults alone are no change.
  Config with_defaults;
  (void)settings_in(with_defaults.telephony, acme);
  BOOST_TEST(plan_reload(running, with_defaults).applied.empty());
}

BOOST_AUTO_TEST_SUITE_END()
