#include "http/server/connections_by_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

using namespace callgate::http;
using boost::asio::ip::make_address;

BOOST_AUTO_TEST_SUITE(connections_by_address)

BOOST_AUTO_TEST_CASE(an_address_is_held_to_its_limit_and_others_are_not_touched) {
  ConnectionsByAddress connections;
  const auto one = make_address("203.0.113.9");
  const auto other = make_address("2001:db8::1");
  BOOST_TEST(connections.try_add(one, 2));
  BOOST_TEST(connections.try_add(one, 2));
  BOOST_TEST(!connections.try_add(one, 2));  // refused, and not counted
  BOOST_TEST(connections.count(one) == 2u);
  BOOST_TEST(connections.try_add(other, 2));
  connections.remove(one);
  BOOST_TEST(connections.count(one) == 1u);
  BOOST_TEST(connections.try_add(one, 2));
  // 0: no limit.
  for (int extra = 0; extra < 100; ++extra) BOOST_TEST_REQUIRE(connections.try_add(other, 0));
  BOOST_TEST(connections.count(other) == 101u);
}

BOOST_AUTO_TEST_CASE(counts_stay_exact_under_many_threads_adding_and_removing) {
  ConnectionsByAddress connections;
  const auto address = make_address("198.51.100.7");
  std::vector<std::thread> threads;
  for (int thread = 0; thread < 4; ++thread)
    threads.emplace_back([&] {
      for (int round = 0; round < 10'000; ++round) {
        if (connections.try_add(address, 0)) connections.remove(address);
      }
    });
  for (auto& thread : threads) thread.join();
  BOOST_TEST(connections.count(address) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
