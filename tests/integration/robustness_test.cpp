// Hostile bytes from the network: whatever arrives, the daemon answers what
// it can, closes what it must, and stays up for everyone else.
#include "daemon_process.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace callgate::testing;

BOOST_AUTO_TEST_SUITE(robustness)

BOOST_AUTO_TEST_CASE(random_and_mangled_requests_never_take_the_daemon_down) {
  DaemonProcess daemon(test_config("  read_timeout: 300ms\n  max_header_bytes: 2048\n  max_body_bytes: 4096\n"));
  std::mt19937 random(20261125);  // fixed seed: a failure reproduces
  const std::string valid =
      "POST /healthz?x=%2B1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Transfer-Encoding: chunked\r\n\r\nb\r\nCallSid=CA1\r\n0\r\n\r\n";
  int answered = 0;
  for (int round = 0; round < 300; ++round) {
    std::string bytes;
    switch (round % 3) {
      case 0: {  // pure noise
        bytes.resize(random() % 3000);
        for (auto& c : bytes) c = static_cast<char>(random());
        break;
      }
      case 1: {  // a valid request with bytes flipped, dropped or repeated
        bytes = valid;
        for (int edits = 1 + random() % 6; edits > 0; --edits) {
          const std::size_t at = random() % bytes.size();
          switch (random() % 3) {
            case 0:
              bytes[at] = static_cast<char>(random());
              break;
            case 1:
              bytes.erase(at, 1 + random() % 8);
              break;
            default:
              bytes.insert(at, std::string(1 + random() % 64, bytes[at]));
              break;
          }
          if (bytes.empty()) bytes = valid;
        }
        break;
      }
      default:  // a valid request cut anywhere
        bytes = valid.substr(0, random() % valid.size());
    }
    try {
      Connection connection(daemon.port());
      connection.send(bytes);
      connection.finish_sending();  // so a cut request ends now, not at the read deadline
      const auto answer = connection.read_until_closed(2s);
      if (!answer.empty()) {
        BOOST_TEST_REQUIRE(answer.starts_with("HTTP/1.1 "), "round " << round);
        ++answered;
      }
    } catch (const std::runtime_error&) {
      // The daemon may close before the whole noise is sent; that is fine.
    }
  }
  BOOST_TEST_MESSAGE(answered << " of 300 mangled requests got an answer");
  BOOST_TEST(answered > 150, answered << " of 300 got an answer");  // noise gets its 400
  BOOST_TEST(http_get(daemon.port(), "/healthz").status == 200);
  const auto metrics = http_get(daemon.port(), "/metrics").body;
  BOOST_TEST(metrics.find("callgate_http_request_errors_total{reason=\"malformed\"}") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
