// telephony.simulator: what a reload may change and what it must keep.
#include "providers/simulator/settings.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers::simulator;

BOOST_AUTO_TEST_SUITE(simulator_settings)

BOOST_AUTO_TEST_CASE(the_token_made_at_start_survives_a_reload_that_leaves_it_empty) {
  Config running;
  settings_of(running).auth_token = "made-at-start";
  Config reloaded;  // the file still says nothing
  settings_of(reloaded).speed = 10;
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(settings_of(plan.effective).auth_token == "made-at-start");
  BOOST_TEST(settings_of(plan.effective).speed == 10u);
  BOOST_TEST(plan.applied == (std::vector<std::string>{"telephony.simulator.speed"}));
  // One set in the file replaces it, and says so.
  settings_of(reloaded).auth_token = "chosen";
  auto chosen = plan_reload(running, reloaded);
  BOOST_TEST(settings_of(chosen.effective).auth_token == "chosen");
  BOOST_TEST(chosen.applied.front() == "telephony.simulator.auth_token");
}

BOOST_AUTO_TEST_CASE(the_seed_waits_for_a_restart) {
  Config running;
  Config reloaded;
  settings_of(reloaded).seed = 7;
  auto plan = plan_reload(running, reloaded);
  BOOST_TEST(plan.needs_restart == (std::vector<std::string>{"telephony.simulator.seed"}));
  BOOST_TEST(settings_of(plan.effective).seed == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
