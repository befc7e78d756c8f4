// telephony.exotel: what a reload may change and what waits for a restart.
#include "providers/exotel/settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers::exotel;

BOOST_AUTO_TEST_SUITE(exotel_settings)

BOOST_AUTO_TEST_CASE(webhook_checks_apply_live_and_the_api_host_waits_for_a_restart) {
  Config running;
  settings_of(running).api_base = "https://api.exotel.com";
  Config reloaded = running;
  settings_of(reloaded).webhook_auth.callback_token = "new";
  settings_of(reloaded).flow_id = "42";
  settings_of(reloaded).api_base = "https://api.in.exotel.com";
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(plan.applied == (std::vector<std::string>{"telephony.exotel.flow_id", "telephony.exotel.webhook_auth"}));
  BOOST_TEST(plan.needs_restart == (std::vector<std::string>{"telephony.exotel.api_base"}));
  BOOST_TEST(settings_of(plan.effective).webhook_auth.callback_token == "new");
  BOOST_TEST(settings_of(plan.effective).api_base == "https://api.exotel.com");
}

BOOST_AUTO_TEST_SUITE_END()
