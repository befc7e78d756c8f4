#include "providers/routing.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers;
using providers::providers_for_number;

BOOST_AUTO_TEST_SUITE(provider_routing)

BOOST_AUTO_TEST_CASE(without_routes_the_configured_provider_dials_everything) {
  TelephonyConfig telephony;
  telephony.provider = ProviderName("twilio");
  const auto chosen = providers_for_number(telephony, "+919876543210");
  BOOST_TEST_REQUIRE(chosen.size() == 1u);
  BOOST_TEST((chosen[0] == ProviderName("twilio")));
}

BOOST_AUTO_TEST_CASE(the_longest_matching_prefix_wins_with_its_failover_order) {
  TelephonyConfig telephony;
  telephony.provider = ProviderName("simulator");
  telephony.routes = {{"+", {ProviderName("twilio")}},
                      {"+91", {ProviderName("exotel"), ProviderName("twilio")}},
                      {"+9180", {ProviderName("twilio")}}};
  const auto india = providers_for_number(telephony, "+919876543210");
  BOOST_TEST_REQUIRE(india.size() == 2u);
  BOOST_TEST((india[0] == ProviderName("exotel")));
  BOOST_TEST((india[1] == ProviderName("twilio")));
  const auto bangalore = providers_for_number(telephony, "+918012345678");
  BOOST_TEST_REQUIRE(bangalore.size() == 1u);
  BOOST_TEST((bangalore[0] == ProviderName("twilio")));
  const auto us = providers_for_number(telephony, "+14155550100");
  BOOST_TEST_REQUIRE(us.size() == 1u);
  BOOST_TEST((us[0] == ProviderName("twilio")));
}

BOOST_AUTO_TEST_CASE(a_number_no_route_covers_falls_back_to_the_provider) {
  TelephonyConfig telephony;
  telephony.provider = ProviderName("exotel");
  telephony.routes = {{"+1", {ProviderName("twilio")}}};
  const auto chosen = providers_for_number(telephony, "+447700900123");
  BOOST_TEST_REQUIRE(chosen.size() == 1u);
  BOOST_TEST((chosen[0] == ProviderName("exotel")));
}

BOOST_AUTO_TEST_SUITE_END()
