// The Redis URL the store connects with: what each part becomes, and what is refused.
#include "core/redis/redis_connection.hpp"

#include <boost/test/unit_test.hpp>

using callgate::redis::parse_redis_url;

BOOST_AUTO_TEST_SUITE(redis_url)

BOOST_AUTO_TEST_CASE(host_port_and_database) {
  const auto options = parse_redis_url("redis://10.0.0.5:6380/3");
  BOOST_TEST_REQUIRE(options.has_value());
  BOOST_TEST(options->host == "10.0.0.5");
  BOOST_TEST(options->port == 6380);
  BOOST_TEST(options->database == 3u);
  BOOST_TEST(options->username.empty());
  BOOST_TEST(options->password.empty());
  const auto defaults = parse_redis_url("redis://127.0.0.1");
  BOOST_TEST_REQUIRE(defaults.has_value());
  BOOST_TEST(defaults->port == 6379);
  BOOST_TEST(defaults->database == 0u);
}

BOOST_AUTO_TEST_CASE(a_password_alone_logs_in_as_the_default_user) {
  const auto options = parse_redis_url("redis://:hunter2@127.0.0.1:6379/0");
  BOOST_TEST_REQUIRE(options.has_value());
  BOOST_TEST(options->username.empty());
  BOOST_TEST(options->password == "hunter2");
}

BOOST_AUTO_TEST_CASE(an_acl_user_and_its_password_are_percent_decoded) {
  const auto options = parse_redis_url("redis://callgate%2Dweb:p%40ss%3Aword%2F1@127.0.0.1:6379/0");
  BOOST_TEST_REQUIRE(options.has_value());
  BOOST_TEST(options->username == "callgate-web");
  BOOST_TEST(options->password == "p@ss:word/1");
}

BOOST_AUTO_TEST_CASE(rediss_means_tls) {
  const auto secure = parse_redis_url("rediss://callgate:pw@redis.example.test:6380/1");
  BOOST_TEST_REQUIRE(secure.has_value());
  BOOST_TEST(secure->tls);
  BOOST_TEST(secure->host == "redis.example.test");
  BOOST_TEST(secure->username == "callgate");
  BOOST_TEST(!parse_redis_url("redis://127.0.0.1:6379/0")->tls);
}

BOOST_AUTO_TEST_CASE(malformed_urls_are_refused) {
  BOOST_TEST(!parse_redis_url("redis://callgate@127.0.0.1:6379/0"));  // a user with no password
  BOOST_TEST(!parse_redis_url("redis://127.0.0.1:0/0"));
  BOOST_TEST(!parse_redis_url("redis://127.0.0.1:65536/0"));
  BOOST_TEST(!parse_redis_url("redis://127.0.0.1:6379/x"));
  BOOST_TEST(!parse_redis_url("redis://127.0.0.1:6379/1001"));
  BOOST_TEST(!parse_redis_url("http://127.0.0.1:6379/0"));
  BOOST_TEST(!parse_redis_url("redis+tls://127.0.0.1:6379/0"));
  BOOST_TEST(!parse_redis_url("redis:///0"));
  BOOST_TEST(!parse_redis_url("127.0.0.1:6379"));
}

BOOST_AUTO_TEST_SUITE_END()
