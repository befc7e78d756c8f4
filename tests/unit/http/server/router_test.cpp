#include "http/server/router.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::http;
using Table = Router<std::string>;

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(matches_literal_paths_and_ignores_the_query) {
  Table table;
  table.add(Verb::get, "/healthz", "health");
  auto match = table.match(Verb::get, "/healthz?verbose=1");
  BOOST_TEST_REQUIRE((match.outcome == Table::Outcome::found));
  BOOST_TEST(match.route->target == "health");
  BOOST_TEST((table.match(Verb::get, "/healthz/").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "/health").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "healthz").outcome == Table::Outcome::not_found));
}

BOOST_AUTO_TEST_CASE(captures_and_decodes_path_parameters) {
  Table table;
  table.add(Verb::get, "/leads/{id}", "lead");
  table.add(Verb::get, "/leads/{id}/attempts/{n}", "attempt");
  auto lead = table.match(Verb::get, "/leads/01HZX%2D9");
  BOOST_TEST_REQUIRE((lead.outcome == Table::Outcome::found));
  BOOST_TEST(*lead.parameters.get("id") == "01HZX-9");
  BOOST_TEST(!lead.parameters.get("n").has_value());

  auto attempt = table.match(Verb::get, "/leads/abc/attempts/2");
  BOOST_TEST_REQUIRE((attempt.outcome == Table::Outcome::found));
  BOOST_TEST(attempt.route->target == "attempt");
  BOOST_TEST(*attempt.parameters.get("id") == "abc");
  BOOST_TEST(*attempt.parameters.get("n") == "2");

  BOOST_TEST((table.match(Verb::get, "/leads/").outcome == Table::Outcome::not_found));  // empty id
  BOOST_TEST((table.match(Verb::get, "/leads").outcome == Table::Outcome::not_found));
}

BOOST_AUTO_TEST_CASE(a_parameter_cannot_smuggle_a_slash_or_bad_escape) {
  Table table;
  table.add(Verb::get, "/leads/{id}", "lead");
  BOOST_TEST((table.match(Verb::get, "/leads/a%2Fb").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "/leads/a%00b").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "/leads/a%zz").outcome == Table::Outcome::not_found));
  BOOST_TEST((table.match(Verb::get, "/leads/a%2").outcome == Table::Outcome::not_found));
}

BOOST_AUTO_TEST_CASE(the_most_literal_pattern_wins_whatever_the_order) {
  Table table;
  table.add(Verb::get, "/leads/{id}", "one lead");
  table.add(Verb::get, "/leads/export", "export");
  BOOST_TEST(table.match(Verb::get, "/leads/export").route->target == "export");
  BOOST_TEST(table.match(Verb::get, "/leads/x1").route->target == "one lead");
}

BOOST_AUTO_TEST_CASE(known_path_with_other_method_is_405_with_allow) {
  Table table;
  table.add(Verb::get, "/twiml", "get");
  table.add(Verb::post, "/twiml", "post");
  table.add(Verb::post, "/webhook", "hook");
  auto twiml = table.match(Verb::delete_, "/twiml");
  BOOST_TEST((twiml.outcome == Table::Outcome::method_not_allowed));
  BOOST_TEST(twiml.allowed == "GET, POST, HEAD");
  auto hook = table.match(Verb::get, "/webhook");
  BOOST_TEST((hook.outcome == Table::Outcome::method_not_allowed));
  BOOST_TEST(hook.allowed == "POST");
  BOOST_TEST((table.match(Verb::get, "/nowhere").outcome == Table::Outcome::not_found));
}

BOOST_AUTO_TEST_CASE(head_is_served_by_get) {
  Table table;
  table.add(Verb::get, "/healthz", "health");
  auto match = table.match(Verb::head, "/healthz");
  BOOST_TEST_REQUIRE((match.outcome == Table::Outcome::found));
  BOOST_TEST(match.route->target == "health");
}

BOOST_AUTO_TEST_CASE(a_head_route_of_its_own_beats_the_get_route) {
  Table table;
  table.add(Verb::get, "/healthz", "get");
  table.add(Verb::head, "/healthz", "head");
  BOOST_TEST(table.match(Verb::head, "/healthz").route->target == "head");
  BOOST_TEST(table.match(Verb::get, "/healthz").route->target == "get");
}

BOOST_AUTO_TEST_CASE(a_literal_path_for_another_method_leaves_the_patterns_to_answer) {
  Table table;
  table.add(Verb::post, "/leads/export", "start export");
  table.add(Verb::get, "/leads/{id}", "one lead");
  const auto match = table.match(Verb::get, "/leads/export");
  BOOST_TEST_REQUIRE((match.outcome == Table::Outcome::found));
  BOOST_TEST(match.route->target == "one lead");
  BOOST_TEST(*match.parameters.get("id") == "export");
  const auto refused = table.match(Verb::put, "/leads/export");
  BOOST_TEST_REQUIRE((refused.outcome == Table::Outcome::method_not_allowed));
  BOOST_TEST(refused.allowed == "POST, GET, HEAD");
}

BOOST_AUTO_TEST_CASE(route_indices_are_stable_ids) {
  Table table;
  const auto& first = table.add(Verb::get, "/a", "a");
  for (int i = 0; i < 100; ++i) table.add(Verb::get, "/r" + std::to_string(i), "r");
  BOOST_TEST(first.index == 0u);
  BOOST_TEST(table.match(Verb::get, "/a").route == &first);  // address survived 100 additions
  BOOST_TEST(table.match(Verb::get, "/r99").route->index == 100u);
}

BOOST_AUTO_TEST_CASE(registering_a_route_twice_is_a_bug) {
  Table table;
  table.add(Verb::get, "/a", "a");
  BOOST_CHECK_THROW(table.add(Verb::get, "/a", "again"), std::logic_error);
  BOOST_CHECK_THROW(table.add(Verb::get, "no-slash", "bad"), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
