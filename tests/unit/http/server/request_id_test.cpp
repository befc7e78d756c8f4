#include "http/server/request_id.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace callgate::http;

BOOST_AUTO_TEST_SUITE(request_id)

BOOST_AUTO_TEST_CASE(keeps_ids_that_are_safe_to_echo_and_log) {
  for (const char* good : {"a", "0f8fad5b-d9cb-469f-a165-70867728950e", "01HZX3K9Q2ABCDEFGHJKMNPQRS", "trace:span.1_2"})
    BOOST_TEST(is_acceptable_request_id(good), good);
  BOOST_TEST(is_acceptable_request_id(std::string(128, 'x')));
}

BOOST_AUTO_TEST_CASE(replaces_ids_that_could_break_a_header_or_a_log) {
  for (const char* bad : {"", "has space", "quote\"", "new\nline", "semi;colon", "slash/y", "caf\xc3\xa9", "{json}"})
    BOOST_TEST(!is_acceptable_request_id(bad), bad);
  BOOST_TEST(!is_acceptable_request_id(std::string(129, 'x')));
}

BOOST_AUTO_TEST_CASE(generated_ids_are_32_hex_digits_and_distinct) {
  RequestIdGenerator generator(42);
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    auto id = generator.next();
    BOOST_TEST_REQUIRE(id.size() == 32u);
    BOOST_TEST_REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos, id);
    BOOST_TEST_REQUIRE(is_acceptable_request_id(id));
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 10'000u);
}

BOOST_AUTO_TEST_CASE(seeds_give_different_streams) {
  RequestIdGenerator a(1), b(2), c(1);
  BOOST_TEST(a.next() != b.next());
  BOOST_TEST(RequestIdGenerator(1).next() == c.next());
  BOOST_TEST(RequestIdGenerator::seeded_from_os().next() != RequestIdGenerator::seeded_from_os().next());
}

BOOST_AUTO_TEST_SUITE_END()
