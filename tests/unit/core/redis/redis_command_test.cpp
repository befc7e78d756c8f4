#include "core/redis/redis_command.hpp"

#include <boost/test/unit_test.hpp>

#include <hiredis/hiredis.h>

#include <array>
#include <cstdlib>
#include <vector>

namespace {

using callgate::redis::append_command;

std::string encoded(const std::vector<std::string_view>& arguments) {
  std::string out;
  append_command(out, arguments);
  return out;
}

// What hiredis itself writes for the same arguments: the format Redis reads.
std::string hiredis_encoded(const std::vector<std::string_view>& arguments) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (const auto argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* command = nullptr;
  const int length =
      redisFormatCommandArgv(&command, static_cast<int>(pointers.size()), pointers.data(), lengths.data());
  BOOST_REQUIRE(length > 0);
  std::string out(command, static_cast<std::size_t>(length));
  std::free(command);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_command)

BOOST_AUTO_TEST_CASE(a_command_is_an_array_of_bulk_strings) {
  BOOST_TEST(encoded({"GET", "callgate:sid:CA1"}) == "*2\r\n$3\r\nGET\r\n$16\r\ncallgate:sid:CA1\r\n");
  BOOST_TEST(encoded({"PING"}) == "*1\r\n$4\r\nPING\r\n");
}

BOOST_AUTO_TEST_CASE(arguments_are_binary_safe_and_may_be_empty) {
  using namespace std::string_view_literals;
  BOOST_TEST(encoded({"SET", "k", ""}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  const auto binary = "a\r\n\0b"sv;
  BOOST_TEST(encoded({"SET", "k", binary}) == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", 31));
}

BOOST_AUTO_TEST_CASE(the_same_bytes_as_hiredis_writes) {
  const std::string long_value(70'000, 'x');
  for (const auto& arguments : std::vector<std::vector<std::string_view>>{
           {"EVALSHA", "0123456789abcdef0123456789abcdef01234567", "2", "callgate:sid:CA1", "callgate:orphans:CA1",
            R"({"event":{"callSid":"CA1"},"receivedAt":"2026-12-02T06:00:00.000Z"})"},
           {"HMGET", "callgate:lead:01J", "json", "version"},
           {"SET", "k", long_value}})
    BOOST_TEST(encoded(arguments) == hiredis_encoded(arguments));
}

BOOST_AUTO_TEST_CASE(appends_after_what_the_buffer_holds) {
  std::string out = "*1\r\n$4\r\nPING\r\n";
  const std::array<std::string_view, 1> ping{"PING"};
  append_command(out, ping);
  BOOST_TEST(out == "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
  BOOST_TEST(out == hiredis_encoded({"PING"}) + hiredis_encoded({"PING"}));
}

BOOST_AUTO_TEST_SUITE_END()
