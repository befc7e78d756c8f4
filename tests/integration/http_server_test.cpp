// The HTTP server as a client sees it: the real binary on a loopback port.
#include "daemon_process.hpp"

// Boost.JSON and Beast use std::ostream without including it.
#include <ostream>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <regex>
#include <sstream>
#include <thread>

using namespace callgate::testing;

namespace {

std::string get_request(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

boost::json::object json_body(const ParsedResponse& response) {
  BOOST_TEST(response.headers.at("content-type") == "application/json");
  return boost::json::parse(response.body).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(builtin_endpoints_answer_with_standard_headers) {
  DaemonProcess daemon(test_config());
  auto health = http_get(daemon.port(), "/healthz");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(json_body(health).at("status").as_string() == "ok");
  BOOST_TEST(health.headers.at("server").starts_with("callgated/"));
  BOOST_TEST(std::regex_match(health.headers.at("date"),
                              std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)")));
  BOOST_TEST(std::regex_match(health.headers.at("x-request-id"), std::regex("[0-9a-f]{32}")));
  BOOST_TEST(health.headers.at("connection") == "close");

  auto ready = http_get(daemon.port(), "/readyz");
  BOOST_TEST(ready.status == 200);
  const auto ready_body = json_body(ready);
  BOOST_TEST(ready_body.at("status").as_string() == "ready");
  BOOST_TEST(ready_body.at("checks").as_object().at("server").as_string() == "ok");
}

BOOST_AUTO_TEST_CASE(request_ids_are_kept_when_sane_and_replaced_otherwise) {
  DaemonProcess daemon(test_config());
  auto kept = http_get(daemon.port(), "/healthz", "X-Request-Id: trace-01HZX3K9Q2\r\n");
  BOOST_TEST(kept.headers.at("x-request-id") == "trace-01HZX3K9Q2");
  auto replaced = http_get(daemon.port(), "/healthz", "X-Request-Id: bad id; with junk\r\n");
  BOOST_TEST(std::regex_match(replaced.headers.at("x-request-id"), std::regex("[0-9a-f]{32}")));
  auto access = daemon.wait_for_event("http_request");
  BOOST_REQUIRE(access);
  BOOST_TEST(access->at("request_id").as_string() == "trace-01HZX3K9Q2");
}

BOOST_AUTO_TEST_CASE(unknown_routes_and_methods_get_json_errors) {
  DaemonProcess daemon(test_config());
  auto missing = http_get(daemon.port(), "/nowhere?x=1");
  BOOST_TEST(missing.status == 404);
  const auto missing_body = json_body(missing);
  BOOST_TEST(missing_body.at("error").as_string() == "no route for GET /nowhere");
  BOOST_TEST(missing_body.at("requestId").as_string() == missing.headers.at("x-request-id"));

  auto wrong_method = http_get(daemon.port(), "/healthz", "Content-Length: 0\r\n", "POST");
  BOOST_TEST(wrong_method.status == 405);
  BOOST_TEST(wrong_method.headers.at("allow") == "GET, HEAD");
  BOOST_TEST(std::string(json_body(wrong_method).at("error").as_string()).find("POST") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(head_gets_the_headers_of_get_without_a_body) {
  DaemonProcess daemon(test_config());
  Connection connection(daemon.port());
  connection.send("HEAD /healthz HTTP/1.1\r\nHost: test\r\n\r\n" + get_request("/healthz"));
  auto head = connection.read_response();
  BOOST_REQUIRE(head);
  const auto parsed = parse_response(*head);
  BOOST_TEST(parsed.status == 200);
  BOOST_TEST(parsed.headers.at("content-length") == "15");
  // read_response took Content-Length bytes after the HEAD headers; had a body
  // been sent, they would have been the body. They must be the next response.
  BOOST_TEST(parsed.body.starts_with("HTTP/1.1 200"), parsed.body);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_many_requests_on_one_connection) {
  DaemonProcess daemon(test_config());
  Connection connection(daemon.port());
  for (int i = 0; i < 5; ++i) {
    connection.send(get_request("/healthz"));
    auto raw = connection.read_response();
    BOOST_REQUIRE_MESSAGE(raw, "no response to request " << i);
    const auto parsed = parse_response(*raw);
    BOOST_TEST(parsed.status == 200);
    BOOST_TEST(parsed.headers.count("connection") == 0u);  // HTTP/1.1 default: keep-alive
  }
  // HTTP/1.0 without keep-alive: answered, then closed.
  connection.send("GET /healthz HTTP/1.0\r\n\r\n");
  const auto last = connection.read_until_closed();
  BOOST_TEST(last.starts_with("HTTP/1.1 200"), last);
}

BOOST_AUTO_TEST_CASE(the_connection_header_decides_either_way_in_any_case) {
  DaemonProcess daemon(test_config());
  {
    // HTTP/1.1 asking to close: answered with "Connection: close", then closed.
    Connection connection(daemon.port());
    connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\nconnection: Close\r\n\r\n");
    const auto last = connection.read_until_closed();
    BOOST_TEST(last.starts_with("HTTP/1.1 200"), last);
    BOOST_TEST(last.find("Connection: close\r\n") != std::string::npos, last);
  }
  {
    // HTTP/1.0 asking to stay open: it does, for a second request.
    Connection connection(daemon.port());
    for (int i = 0; i < 2; ++i) {
      connection.send("GET /healthz HTTP/1.0\r\nCONNECTION: keep-alive\r\n\r\n");
      auto raw = connection.read_response();
      BOOST_REQUIRE_MESSAGE(raw, "no response to request " << i << " on a kept-alive HTTP/1.0 connection");
      BOOST_TEST(parse_response(*raw).status == 200);
    }
  }
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
  DaemonProcess daemon(test_config());
  Connection connection(daemon.port());
  const std::vector<std::pair<std::string, int>> sequence = {
      {"/healthz", 200}, {"/missing-1", 404}, {"/readyz", 200}, {"/missing-2", 404}, {"/healthz", 200}};
  std::string batch;
  for (std::size_t i = 0; i < sequence.size(); ++i)
    batch += get_request(sequence[i].first, "X-Request-Id: pipelined-" + std::to_string(i) + "\r\n");
  connection.send(batch);  // one write: the requests arrive together
  for (std::size_t i = 0; i < sequence.size(); ++i) {
    auto raw = connection.read_response();
    BOOST_REQUIRE_MESSAGE(raw, "missing response " << i);
    const auto parsed = parse_response(*raw);
    BOOST_TEST(parsed.status == sequence[i].second);
    BOOST_TEST(parsed.headers.at("x-request-id") == "pipelined-" + std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(a_long_pipelined_burst_is_answered_whole_and_in_order) {
  // Far more than the read buffer holds at once: the server takes the
  // burst a buffer at a time, and nothing is dropped or reordered.
  DaemonProcess daemon(test_config("  max_header_bytes: 1024\n"));
  Connection connection(daemon.port());
  std::string burst;
  for (int i = 0; i < 500; ++i) burst += get_request("/healthz", "X-Request-Id: burst-" + std::to_string(i) + "\r\n");
  BOOST_REQUIRE(burst.size() > 20'000u);
  connection.send(burst);
  for (int i = 0; i < 500; ++i) {
    auto raw = connection.read_response();
    BOOST_REQUIRE_MESSAGE(raw, "missing response " << i);
    BOOST_TEST_REQUIRE(parse_response(*raw).headers.at("x-request-id") == "burst-" + std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(oversize_header_gets_431_and_the_connection_closes) {
  DaemonProcess daemon(test_config("  max_header_bytes: 2048\n"));
  Connection connection(daemon.port());
  connection.send("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Padding: " + std::string(4096, 'a') + "\r\n\r\n");
  const auto raw = connection.read_until_closed();
  const auto parsed = parse_response(raw);
  BOOST_TEST(parsed.status == 431);
  BOOST_TEST(std::string(json_body(parsed).at("error").as_string()).find("max_header_bytes") != std::string::npos);
  BOOST_TEST(parsed.headers.at("connection") == "close");
}

BOOST_AUTO_TEST_CASE(oversize_body_gets_413_before_it_is_read) {
  DaemonProcess daemon(test_config("  max_body_bytes: 1024\n"));
  Connection connection(daemon.port());
  // Declared larger than the limit: refused from the header alone.
  connection.send("GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n" + std::string(100, 'x'));
  const auto parsed = parse_response(connection.read_until_closed());
  BOOST_TEST(parsed.status == 413);
  BOOST_TEST(std::string(json_body(parsed).at("error").as_string()).find("max_body_bytes") != std::string::npos);

  // Chunked, so the size shows only as it arrives.
  Connection chunked(daemon.port());
  chunked.send("GET /healthz HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
               std::string(2048, 'y') + "\r\n0\r\n\r\n");
  BOOST_TEST(parse_response(chunked.read_until_closed()).status == 413);

  // Within the limit: served.
  auto fine = http_get(daemon.port(), "/healthz", "Content-Length: 10\r\n\r\n0123456789");
  BOOST_TEST(fine.status == 200);
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_400) {
  DaemonProcess daemon(test_config());
  for (const std::string bad :
       {"GARBAGE\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n", "GET /healthz HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    Connection connection(daemon.port());
    connection.send(bad);
    const auto raw = connection.read_until_closed();
    BOOST_TEST_REQUIRE(!raw.empty(), "no answer to " << bad);
    const auto parsed = parse_response(raw);
    BOOST_TEST(parsed.status == 400, bad);
    BOOST_TEST(json_body(parsed).at("error").as_string() == "malformed HTTP request");
  }
  // The daemon is still well.
  BOOST_TEST(http_get(daemon.port(), "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(ambiguous_body_framing_is_refused_and_the_connection_closed) {
  DaemonProcess daemon(test_config());
  const std::pair<std::string, int> cases[] = {
      // Both framings at once, or two lengths: Beast's parser refuses them.
      {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef", 400},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      // Codings callgate does not decode, or chunked not last: refused here.
      {"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"Transfer-Encoding: chunked, gzip\r\n\r\n", 501},
  };
  for (const auto& [headers, status] : cases) {
    Connection connection(daemon.port());
    // A second request rides behind: it must never be answered.
    connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n" + headers + "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto raw = connection.read_until_closed();
    BOOST_TEST(parse_response(raw).status == status, headers);
    BOOST_TEST(raw.find("ready") == std::string::npos, headers);
  }
  auto chunked = http_get(daemon.port(), "/healthz", "Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  BOOST_TEST(chunked.status == 200);
}

BOOST_AUTO_TEST_CASE(a_slow_client_is_cut_off_at_the_read_deadline) {
  DaemonProcess daemon(test_config("  read_timeout: 300ms\n"));
  Connection connection(daemon.port());
  const auto started = std::chrono::steady_clock::now();
  connection.send("GET /healthz HTTP/1.1\r\nHost: te");  // and then nothing more
  const auto raw = connection.read_until_closed(5s);
  const auto waited = std::chrono::steady_clock::now() - started;
  BOOST_TEST(parse_response(raw).status == 408);
  BOOST_TEST((waited >= 250ms));
  BOOST_TEST((waited < 3s));

  // Trickling bytes does not extend the deadline.
  Connection trickle(daemon.port());
  const auto trickle_started = std::chrono::steady_clock::now();
  bool cut_off = false;
  for (int i = 0; i < 40 && !cut_off; ++i) {
    try {
      trickle.send(i == 0 ? "GET /healthz HTTP/1.1\r\n" : "X-A: b\r\n");
    } catch (const std::exception&) {
      cut_off = true;
    }
    if (!cut_off) cut_off = trickle.closed_by_peer(50ms);
  }
  BOOST_TEST(cut_off);
  BOOST_TEST((std::chrono::steady_clock::now() - trickle_started < 1500ms));
}

BOOST_AUTO_TEST_CASE(an_idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
  DaemonProcess daemon(test_config("  idle_timeout: 300ms\n"));
  Connection connection(daemon.port());
  connection.send(get_request("/healthz"));
  BOOST_REQUIRE(connection.read_response());
  BOOST_TEST(connection.closed_by_peer(3s));
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_honoured) {
  DaemonProcess daemon(test_config());
  Connection connection(daemon.port());
  connection.send("GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  auto interim = connection.read_response();
  BOOST_REQUIRE(interim);
  BOOST_TEST(interim->starts_with("HTTP/1.1 100 Continue"));
  connection.send("body");
  auto final_response = connection.read_response();
  BOOST_REQUIRE(final_response);
  BOOST_TEST(parse_response(*final_response).status == 200);
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_refused_with_503) {
  DaemonProcess daemon(test_config("  max_connections: 2\n"));
  Connection first(daemon.port());
  Connection second(daemon.port());
  // Make sure both are accepted and counted before the third arrives.
  first.send(get_request("/healthz"));
  second.send(get_request("/healthz"));
  BOOST_REQUIRE(first.read_response());
  BOOST_REQUIRE(second.read_response());
  Connection third(daemon.port());
  const auto refused = parse_response(third.read_until_closed());
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(refused.headers.at("retry-after") == "1");
  BOOST_TEST(json_body(refused).at("error").as_string() == "too many connections, retry later");
  // What every answer carries, refusals included (the README says so).
  BOOST_TEST(refused.headers.count("date") == 1u);
  BOOST_TEST(refused.headers.count("server") == 1u);
  BOOST_TEST_REQUIRE(refused.headers.count("x-request-id") == 1u);
  BOOST_TEST(json_body(refused).at("requestId").as_string() == refused.headers.at("x-request-id"));
}

BOOST_AUTO_TEST_CASE(metrics_are_valid_prometheus_text_and_count_requests) {
  DaemonProcess daemon(test_config("", "info", 2));
  for (int i = 0; i < 3; ++i) http_get(daemon.port(), "/healthz");
  http_get(daemon.port(), "/missing");
  auto metrics = http_get(daemon.port(), "/metrics");
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(metrics.headers.at("content-type") == "text/plain; version=0.0.4; charset=utf-8");

  // Every line is a comment (HELP/TYPE) or a sample: name{labels} number.
  const std::regex sample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+|.* \+Inf)");
  const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  std::istringstream lines(metrics.body);
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#"))
      BOOST_TEST(std::regex_match(line, comment), line);
    else {
      BOOST_TEST(std::regex_match(line, sample), line);
      ++samples;
    }
  }
  BOOST_TEST(samples > 10);
  const auto& text = metrics.body;
  BOOST_TEST(text.find("callgate_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 3\n") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("callgate_http_requests_total{route=\"(unmatched)\",method=\"-\",status=\"404\"} 1\n") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("callgate_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 3\n") !=
                 std::string::npos,
             text);
  // The earlier connections close on the server's side a moment after the
  // client has its answers; the scrape's own connection stays open.
  bool only_the_scrape_open = text.find("callgate_http_connections_open 1\n") != std::string::npos;
  for (int i = 0; i < 40 && !only_the_scrape_open; ++i) {
    std::this_thread::sleep_for(50ms);
    only_the_scrape_open =
        http_get(daemon.port(), "/metrics").body.find("callgate_http_connections_open 1\n") != std::string::npos;
  }
  BOOST_TEST(only_the_scrape_open, text);
  BOOST_TEST(text.find("callgate_reactors 2\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(access_log_lines_are_json_with_phone_numbers_masked) {
  DaemonProcess daemon(test_config());
  http_get(daemon.port(), "/missing?To=%2B919876543210&From=+14155550100");
  auto line = daemon.wait_for_event("http_request");
  BOOST_REQUIRE(line);
  BOOST_TEST(line->at("status").as_int64() == 404);
  BOOST_TEST(line->at("method").as_string() == "GET");
  BOOST_TEST(line->at("route").as_string() == "(unmatched)");
  BOOST_TEST(line->at("peer").as_string() == "127.0.0.1");
  BOOST_TEST(line->at("duration_us").as_int64() >= 0);
  const auto output = daemon.all_output();
  BOOST_TEST(output.find("9876543210") == std::string::npos, output);
  BOOST_TEST(output.find("4155550100") == std::string::npos, output);
  BOOST_TEST(std::string(line->at("target").as_string()).find("%2B*********210") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(listens_on_ipv6_loopback) {
  int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool has_ipv6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  if (probe >= 0) ::close(probe);
  if (!has_ipv6) {
    BOOST_TEST_MESSAGE("SKIPPED: no IPv6 loopback on this machine");
    return;
  }
  DaemonProcess daemon("server:\n  listen: \"[::1]:0\"\n  threads: 2\nstore:\n  backend: memory\n");
  Connection connection(daemon.port(), "::1");
  connection.send(get_request("/healthz"));
  auto raw = connection.read_response();
  BOOST_REQUIRE(raw);
  BOOST_TEST(parse_response(*raw).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
