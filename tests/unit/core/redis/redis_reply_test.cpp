#include "core/redis/redis_reply.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate::redis;

BOOST_AUTO_TEST_SUITE(redis_reply)

BOOST_AUTO_TEST_CASE(every_kind_of_reply_is_read_and_copied) {
  const auto replies = read_replies("+OK\r\n:42\r\n$3\r\nabc\r\n$-1\r\n-ERR nope\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n");
  BOOST_TEST_REQUIRE(replies.has_value());
  BOOST_TEST_REQUIRE(replies->size() == 6u);
  BOOST_TEST(((*replies)[0].type == Reply::Type::status && (*replies)[0].text == "OK"));
  BOOST_TEST((*replies)[1].integer == 42);
  BOOST_TEST((*replies)[2].text == "abc");
  BOOST_TEST(((*replies)[3].type == Reply::Type::nil));
  BOOST_TEST((*replies)[4].is_error());
  BOOST_TEST_REQUIRE((*replies)[5].elements.size() == 2u);
  BOOST_TEST((*replies)[5].elements[1].elements[0].integer == 7);
}

BOOST_AUTO_TEST_CASE(a_reply_cut_short_is_left_out_and_bytes_that_are_not_resp_are_refused) {
  const auto cut = read_replies(":1\r\n$5\r\nab");
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(cut->size() == 1u);
  BOOST_TEST(!read_replies("?what\r\n").has_value());
}

// Found by the redis_replies fuzzer: hiredis 0.14 allocated 6 GB for this
// array's elements before reading any of them.
BOOST_AUTO_TEST_CASE(counts_and_lengths_past_the_limits_are_refused_before_hiredis_allocates) {
  BOOST_TEST(!read_replies("*1\r\n*777677777\r\n").has_value());
  BOOST_TEST(!reply_sizes_are_bounded("$999999999999\r\n"));
  BOOST_TEST(reply_sizes_are_bounded("*3\r\n$3\r\n*99999999\r\n:1\r\n"));  // inside a bulk string: only data
  BOOST_TEST(reply_sizes_are_bounded("*1048576\r\n"));
  BOOST_TEST(!reply_sizes_are_bounded("*1048577\r\n"));
}

BOOST_AUTO_TEST_SUITE_END()
