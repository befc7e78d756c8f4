#include "core/log.hpp"

// Boost.JSON and Beast use std::ostream without including it.
#include <ostream>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>

#include <string>
#include <vector>

using namespace callgate;

namespace {

std::vector<std::string> captured;
void capture(std::string_view line) { captured.emplace_back(line); }

struct CapturedLog {
  CapturedLog() {
    captured.clear();
    set_log_sink(&capture);
    set_log_level(LogLevel::info);
  }
  ~CapturedLog() {
    set_log_sink(nullptr);
    set_log_level(LogLevel::info);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(log_lines, CapturedLog)

BOOST_AUTO_TEST_CASE(each_line_is_one_json_object) {
  LogLine(LogLevel::warn, "something_happened").text("path", "/a\"b\\c\n").number("count", 42).boolean("ok", false);
  BOOST_TEST_REQUIRE(captured.size() == 1u);
  const auto& line = captured[0];
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(line.find('\n') == line.size() - 1);  // exactly one line, even with a newline in a value
  const auto object = boost::json::parse(line).as_object();
  BOOST_TEST(object.at("level").as_string() == "warn");
  BOOST_TEST(object.at("event").as_string() == "something_happened");
  BOOST_TEST(object.at("path").as_string() == "/a\"b\\c\n");
  BOOST_TEST(object.at("count").as_int64() == 42);
  BOOST_TEST(object.at("ok").as_bool() == false);
  BOOST_TEST(object.at("ts").as_string().size() == 24u);  // 2026-11-25T11:06:12.123Z
}

BOOST_AUTO_TEST_CASE(phone_numbers_are_masked_in_text_but_not_in_trusted_text) {
  LogLine(LogLevel::info, "http_request").text("target", "/x?To=%2B919876543210").trusted_text("peer", "192.168.10.20");
  BOOST_TEST_REQUIRE(captured.size() == 1u);
  BOOST_TEST(captured[0].find("9876543210") == std::string::npos, captured[0]);
  BOOST_TEST(captured[0].find("%2B*********210") != std::string::npos, captured[0]);
  BOOST_TEST(captured[0].find("192.168.10.20") != std::string::npos, captured[0]);
}

BOOST_AUTO_TEST_CASE(control_characters_are_escaped) {
  LogLine(LogLevel::info, "e")
      .text("v", std::string("a\x01"
                             "b\x7f",
                             4));
  BOOST_TEST_REQUIRE(captured.size() == 1u);
  BOOST_TEST(captured[0].find("a\\u0001b\\u007f") != std::string::npos, captured[0]);
}

BOOST_AUTO_TEST_CASE(lines_below_the_level_are_not_written) {
  set_log_level(LogLevel::warn);
  LogLine(LogLevel::info, "quiet");
  LogLine(LogLevel::debug, "quieter");
  LogLine(LogLevel::error, "loud");
  BOOST_TEST_REQUIRE(captured.size() == 1u);
  BOOST_TEST(captured[0].find("\"loud\"") != std::string::npos);
  set_log_level(LogLevel::debug);
  LogLine(LogLevel::debug, "now_heard");
  BOOST_TEST(captured.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_batching)

namespace {
int flushes_scheduled = 0;
void count_schedule(void*) { ++flushes_scheduled; }
}  // namespace

BOOST_FIXTURE_TEST_CASE(a_batch_is_one_write_scheduled_once, CapturedLog) {
  flushes_scheduled = 0;
  begin_log_batching(&count_schedule, nullptr);
  LogLine(LogLevel::info, "one");
  LogLine(LogLevel::info, "two");
  LogLine(LogLevel::info, "three");
  BOOST_TEST(captured.empty());
  BOOST_TEST(flushes_scheduled == 1);
  flush_log_batch();
  BOOST_TEST_REQUIRE(captured.size() == 1u);
  BOOST_TEST(captured[0].find("\"one\"") < captured[0].find("\"two\""));
  BOOST_TEST(std::count(captured[0].begin(), captured[0].end(), '\n') == 3);

  LogLine(LogLevel::info, "four");  // a new batch schedules a new flush
  BOOST_TEST(flushes_scheduled == 2);
  end_log_batching();
  BOOST_TEST(captured.size() == 2u);
  LogLine(LogLevel::info, "unbatched");
  BOOST_TEST(captured.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(warnings_and_errors_are_written_at_once, CapturedLog) {
  flushes_scheduled = 0;
  begin_log_batching(&count_schedule, nullptr);
  LogLine(LogLevel::info, "context");
  LogLine(LogLevel::error, "trouble");
  BOOST_TEST_REQUIRE(captured.size() == 1u);  // the info line went out with it, in order
  BOOST_TEST(captured[0].find("\"context\"") < captured[0].find("\"trouble\""));
  end_log_batching();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_writing)

BOOST_AUTO_TEST_CASE(a_full_socket_drops_and_counts_lines_instead_of_blocking) {
  int pair[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  const int small = 4096;
  ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string lines;
  for (int i = 0; i < 20'000; ++i) lines += "{\"event\":\"line\"}\n";  // far more than the buffers hold

  const auto started = std::chrono::steady_clock::now();
  const auto dropped = write_log_lines(pair[0], lines, true);
  BOOST_TEST(dropped > 0);
  BOOST_TEST(dropped < 20'000);  // what fit went out
  BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(1)));

  BOOST_TEST(write_log_lines(pair[0], "{\"event\":\"more\"}\n", true) == 1);  // still full: dropped at once
  ::close(pair[1]);
  BOOST_TEST(write_log_lines(pair[0], "a\nb\n", true) == 2);  // reader gone (EPIPE): dropped, no signal
  ::close(pair[0]);
}

BOOST_AUTO_TEST_CASE(without_never_block_everything_is_written) {
  int pair[2];
  BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  BOOST_TEST(write_log_lines(pair[0], "one\ntwo\n", false) == 0);
  char buffer[16] = {};
  BOOST_TEST(::read(pair[1], buffer, sizeof buffer) == 8);
  BOOST_TEST(std::string(buffer) == "one\ntwo\n");
  ::close(pair[0]);
  ::close(pair[1]);
}

BOOST_AUTO_TEST_SUITE_END()
