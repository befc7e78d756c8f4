// telephony.twilio: what a reload may change and what waits for a restart.
#include "providers/twilio/settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers::twilio;

BOOST_AUTO_TEST_SUITE(twilio_settings)

BOOST_AUTO_TEST_CASE(credentials_apply_live_and_the_api_host_waits_for_a_restart) {
  Config running;
  Config reloaded;
  settings_of(reloaded).auth_token = "rotated";
  settings_of(reloaded).auth_token_secondary = "previous";
  settings_of(reloaded).calls_per_minute = 60;
  settings_of(reloaded).api_base = "https://elsewhere.example.com";
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(plan.applied ==
             (std::vector<std::string>{"telephony.twilio.auth_token", "telephony.twilio.auth_token_secondary",
                                       "telephony.twilio.calls_per_minute"}));
  BOOST_TEST(plan.needs_restart == (std::vector<std::string>{"telephony.twilio.api_base"}));
  BOOST_TEST(settings_of(plan.effective).auth_token == "rotated");
  BOOST_TEST(settings_of(plan.effective).api_base == "https://api.twilio.com");
}

BOOST_AUTO_TEST_CASE(an_unchanged_section_is_equal_and_plans_nothing) {
  Config running;
  settings_of(running).account_sid = "AC0123456789abcdef0123456789abcdef";
  Config reloaded = running;
  BOOST_TEST((reloaded.telephony.sections == running.telephony.sections));
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(plan.applied.empty());
  BOOST_TEST(plan.needs_restart.empty());
}

BOOST_AUTO_TEST_SUITE_END()
