// What the end-to-end lead and dialer tests share: the daemon's config
// around a fake Twilio, enquiries, signed callbacks, reading leads back,
// and waiting (with a bound) for what the daemon does in the background.
#pragma once

#include "daemon_process.hpp"
#include "dynamodb_local.hpp"
#include "fake_provider_server.hpp"
#include "http/form/form_codec.hpp"
#include "providers/twilio/signature.hpp"
#include "redis_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace callgate::lead_flow {

using testing::DaemonProcess;
using testing::FakeProviderServer;
using testing::ParsedResponse;
using testing::TemporaryDirectory;
using namespace std::chrono_literals;

constexpr const char* kPublicBase = "https://gw.example.test";
constexpr const char* kAuthToken = "twilio-auth-token";
constexpr const char* kAdmin = "Authorization: Bearer admin-secret\r\n";

constexpr const char* kGenerousRate = "  rate_per_minute: 1000\n  rate_burst: 1000\n";

inline std::string lead_config(unsigned short twilio_port, const std::string& store, const std::string& intake = "",
                               const std::string& rate = kGenerousRate) {
  return "server:\n"
         "  listen: \"127.0.0.1:0\"\n"
         "  threads: 2\n"
         "  public_base_url: \"" +
         std::string(kPublicBase) +
         "\"\n"
         "log:\n"
         "  level: info\n"
         "  access_log: false\n"
         "admin:\n"
         "  token: admin-secret\n" +
         store +
         "telephony:\n"
         "  provider: twilio\n"
         "  http_client:\n"
         "    ca_file: \"" +
         testing::test_certificates().ca_file +
         "\"\n"
         "  twilio:\n"
         "    account_sid: \"AC0123456789abcdef0123456789abcdef\"\n"
         "    auth_token: \"" +
         kAuthToken +
         "\"\n"
         "    phone_number: \"+14155550100\"\n"
         "    api_base: \"https://localhost:" +
         std::to_string(twilio_port) +
         "\"\n"
         "intake:\n"
         "  default_country_code: \"91\"\n" +
         rate + intake;
}

// A file's bytes, whole.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline const std::string kMemoryStore = "store:\n  backend: memory\n";

inline std::string journal_store(const TemporaryDirectory& directory) {
  return "store:\n  backend: journal\n  journal:\n    path: \"" + directory.file("journal") + "\"\n";
}

inline ParsedResponse send(unsigned short port, const std::string& method, const std::string& target,
                           const std::string& headers, const std::string& body = "") {
  testing::Connection connection(port);
  connection.send(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers +
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto raw = connection.read_response();
  BOOST_REQUIRE_MESSAGE(raw.has_value(), "no response to " << method << " " << target);
  return testing::parse_response(*raw);
}

inline ParsedResponse enquire(unsigned short port, const std::string& json, const std::string& headers = "") {
  return send(port, "POST", "/enquire", "Content-Type: application/json\r\n" + headers, json);
}

inline std::string lead_id_of(const ParsedResponse& response) {
  BOOST_REQUIRE_MESSAGE(response.status == 202, response.status << " " << response.body);
  return std::string(boost::json::parse(response.body).at("leadId").as_string());
}

inline boost::json::object get_lead(unsigned short port, const std::string& id) {
  const auto response = send(port, "GET", "/leads/" + id, kAdmin);
  BOOST_REQUIRE_MESSAGE(response.status == 200, response.status << " " << response.body);
  boost::system::error_code error;
  auto value = boost::json::parse(response.body, error);
  BOOST_REQUIRE_MESSAGE(!error && value.is_object(), "not a lead: " << response.body.substr(0, 300));
  return value.as_object();
}

// Polls until the lead has an attempt (the call is placed in the background).
inline boost::json::object wait_for_attempt(unsigned short port, const std::string& id) {
  for (int tries = 0; tries < 200; ++tries) {
    auto lead = get_lead(port, id);
    if (!lead.at("attempts").as_array().empty()) return lead;
    std::this_thread::sleep_for(20ms);
  }
  BOOST_FAIL("no call attempt was recorded for " + id);
  return {};
}

inline http::FormFields callback(const std::string& call_sid, const std::string& status, int sequence) {
  return {{"AccountSid", "AC0123456789abcdef0123456789abcdef"},
          {"CallSid", call_sid},
          {"CallStatus", status},
          {"SequenceNumber", std::to_string(sequence)},
          {"To", "+919876543210"}};
}

inline int post_callback(testing::Connection& connection, const std::string& lead_id, const http::FormFields& fields) {
  const std::string target = "/webhook/twilio?leadId=" + lead_id;
  const auto body = http::encode_form(fields);
  connection.send("POST " + target +
                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "X-Twilio-Signature: " +
                  providers::twilio::compute_signature(kAuthToken, std::string(kPublicBase) + target, fields) +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  auto raw = connection.read_response();
  return raw ? testing::parse_response(*raw).status : 0;
}

// The sequence numbers of a lead's events, and which acknowledged ones it lacks.
inline std::set<int> sequence_numbers_of(const boost::json::object& lead) {
  std::set<int> stored;
  for (const auto& event : lead.at("events").as_array())
    if (const auto* sequence = event.as_object().if_contains("sequenceNumber"))
      stored.insert(static_cast<int>(sequence->to_number<std::int64_t>()));
  return stored;
}
inline std::vector<int> missing_from(const std::set<int>& acknowledged, const std::set<int>& stored) {
  std::vector<int> missing;
  std::set_difference(acknowledged.begin(), acknowledged.end(), stored.begin(), stored.end(),
                      std::back_inserter(missing));
  return missing;
}

// Until /readyz says 200 (a networked store connects after the daemon
// listens); false if it never does within 5 s.
inline bool wait_until_ready(unsigned short port) {
  for (int tries = 0; tries < 100; ++tries, std::this_thread::sleep_for(50ms))
    if (testing::http_get(port, "/readyz").status == 200) return true;
  return false;
}

inline const std::string kPlaced = R"({"sid":"CA00000000000000000000000000000001","status":"queued"})";

inline std::int64_t metric_value(unsigned short port, const std::string& series) {
  const auto exposition = testing::http_get(port, "/metrics").body;
  const auto at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(exposition.substr(at + series.size() + 2));
}

// A counter's value once it reaches `expected`, or its last value after
// `timeout`. Counters trail what they count: a webhook is counted once its
// store write returns, and a GET /leads resumed by the same journal sync can
// answer first; the simulator counts a callback once it has read the answer.
inline std::int64_t metric_reaching(unsigned short port, const std::string& series, std::int64_t expected,
                                    std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto value = metric_value(port, series);
  while (value < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    value = metric_value(port, series);
  }
  return value;
}

// Short delays so the dialer's retries and redials happen within a test.
inline const std::string kFastDialer =
    "dialer:\n"
    "  retry:\n    base: 50ms\n    cap: 200ms\n    max_tries: 5\n"
    "  redial:\n    delays: [1s]\n    max_calls: 2\n";

inline const std::string kSecondPlaced = R"({"sid":"CA00000000000000000000000000000002","status":"queued"})";

// Waits until the fake has seen `count` requests; the moments each arrived (to ~10 ms).
inline std::vector<std::chrono::steady_clock::time_point> wait_for_requests(const FakeProviderServer& provider,
                                                                            std::size_t count,
                                                                            std::chrono::milliseconds timeout = 10s) {
  std::vector<std::chrono::steady_clock::time_point> seen;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seen.size() < count && std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    while (seen.size() < provider.requests().size()) seen.push_back(now);
    std::this_thread::sleep_for(10ms);
  }
  return seen;
}

inline std::string next_call_reason(unsigned short port, const std::string& id) {
  const auto lead = get_lead(port, id);
  const auto* next = lead.if_contains("nextCall");
  return next ? std::string(next->at("reason").as_string()) : std::string();
}

// The reason of the lead's next call once it starts with `expected` (or the
// last one seen after 2 s). Waiting for the expected one, not for any: the
// job the dialer replaces (the enquiry's, the previous retry's) is visible
// until the dialer has decided.
inline std::string wait_for_next_call(unsigned short port, const std::string& id, const std::string& expected) {
  std::string reason;
  for (int tries = 0; tries < 100; ++tries, std::this_thread::sleep_for(20ms)) {
    reason = next_call_reason(port, id);
    if (reason.starts_with(expected)) break;
  }
  return reason;
}

// The lead once it has this many attempts (or as it is after 2 s).
inline boost::json::object wait_for_attempts(unsigned short port, const std::string& id, std::size_t count) {
  boost::json::object lead;
  for (int tries = 0; tries < 100; ++tries, std::this_thread::sleep_for(20ms)) {
    lead = get_lead(port, id);
    if (lead.at("attempts").as_array().size() >= count) break;
  }
  return lead;
}

// The tests stop Redis with SIGKILL, which fails what is in flight at once:
// the command timeout only has to outlast a test Redis that syncs every
// write (a disk that stalls for a few hundred milliseconds, a sanitizer
// build) without turning an enquiry into a 503.
// The Redis store at url, its spool in directory; extra: more lines of store.redis.
inline std::string redis_store_at(const std::string& url, const TemporaryDirectory& directory,
                                  const std::string& extra = "") {
  return "store:\n  backend: redis\n  redis:\n    url: \"" + url + "\"\n    command_timeout: 2s\n" + extra +
         "  spool:\n    path: \"" + directory.file("spool") + "\"\n";
}

inline std::string redis_store(const testing::RedisServer& server, const TemporaryDirectory& directory) {
  return redis_store_at(server.url(), directory);
}

// count leads, each called by the fake Twilio (its answers scripted here):
// their ids and call sids.
inline std::vector<std::pair<std::string, std::string>> place_leads(unsigned short port, FakeProviderServer& twilio,
                                                                    int count) {
  for (int lead = 0; lead < count; ++lead) {
    char sid[40];
    std::snprintf(sid, sizeof sid, "CA%032d", lead);
    twilio.script({201, std::string(R"({"sid":")") + sid + R"(","status":"queued"})"});
  }
  std::vector<std::pair<std::string, std::string>> leads;
  for (int lead = 0; lead < count; ++lead) {
    const auto id =
        lead_id_of(enquire(port, R"({"phone":"+9198765432)" + std::to_string(10 + lead) + R"(","consent":true})"));
    const auto placed = wait_for_attempt(port, id);
    leads.emplace_back(id, std::string(placed.at("attempts").as_array().at(0).at("callSid").as_string()));
  }
  return leads;
}

// Status callbacks spread over leads (id, call sid), sent by four clients
// until stop(), each one acknowledged (204) remembered: what a store that
// goes away or slows down must not lose.
class CallbacksAcrossLeads {
 public:
  CallbacksAcrossLeads(unsigned short port, std::vector<std::pair<std::string, std::string>> leads)
      : port_(port), leads_(std::move(leads)) {
    for (int sender = 0; sender < 4; ++sender) senders_.emplace_back([this, sender] { send_from(sender); });
  }
  ~CallbacksAcrossLeads() { stop(); }

  int sent() const { return sent_.load(); }
  int refused() const { return refused_.load(); }
  void stop() {
    stopping_ = true;
    for (auto& sender : senders_)
      if (sender.joinable()) sender.join();
  }
  std::size_t acknowledged() {
    std::lock_guard guard(lock_);
    return acknowledged_.size();
  }
  // Acknowledged callbacks (lead index, sequence) the leads do not hold; after stop().
  std::vector<std::pair<std::size_t, int>> missing_from_leads() {
    std::set<std::pair<std::size_t, int>> stored;
    for (std::size_t which = 0; which < leads_.size(); ++which) {
      const auto lead = get_lead(port_, leads_[which].first);
      for (const auto& event : lead.at("events").as_array())
        if (const auto* sequence = event.as_object().if_contains("sequenceNumber"))
          stored.emplace(which, static_cast<int>(sequence->to_number<std::int64_t>()));
    }
    std::lock_guard guard(lock_);
    std::vector<std::pair<std::size_t, int>> missing;
    std::set_difference(acknowledged_.begin(), acknowledged_.end(), stored.begin(), stored.end(),
                        std::back_inserter(missing));
    return missing;
  }

 private:
  void send_from(int sender) {
    testing::Connection connection(port_);
    for (int index = sender; !stopping_; index += 4) {
      const auto which = static_cast<std::size_t>(index) % leads_.size();
      const int sequence = 10 + index;
      const int status =
          post_callback(connection, leads_[which].first, callback(leads_[which].second, "ringing", sequence));
      if (status == 204) {
        std::lock_guard guard(lock_);
        acknowledged_.emplace(which, sequence);
        ++sent_;
      } else {
        ++refused_;
        if (status == 0) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  unsigned short port_;
  std::vector<std::pair<std::string, std::string>> leads_;
  std::mutex lock_;
  std::set<std::pair<std::size_t, int>> acknowledged_;
  std::atomic<int> sent_{0};
  std::atomic<int> refused_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> senders_;  // last: started once the rest is in place
};

// A table of its own in the run's DynamoDB Local, made by the daemon at
// start (create_table), and the spool in directory.
inline std::string dynamodb_store(const TemporaryDirectory& directory,
                                  const std::string& table = testing::fresh_dynamodb_table_name()) {
  return "store:\n  backend: dynamodb\n  dynamodb:\n    region: ap-south-1\n    table: " + table +
         "\n    endpoint: \"" + testing::shared_dynamodb_local().endpoint() +
         "\"\n    create_table: true\n    operation_timeout: 5s\n  spool:\n    path: \"" + directory.file("spool") +
         "\"\n";
}

}  // namespace callgate::lead_flow
