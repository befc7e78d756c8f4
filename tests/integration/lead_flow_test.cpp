// Leads end to end with the real daemon: an enquiry becomes a lead, the
// first call is placed with a fake Twilio over real TLS, signed status
// callbacks (shuffled, duplicated) move it to its final status, and the
// journal keeps everything acknowledged across restarts and kill -9.
#include "eventually.hpp"
#include "lead_flow_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace callgate {

using namespace lead_flow;

BOOST_AUTO_TEST_SUITE(lead_flow)

BOOST_AUTO_TEST_CASE(an_enquiry_is_called_and_its_callbacks_bring_it_to_its_final_status) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore));
  const auto id = lead_id_of(enquire(daemon.port(),
                                     R"({"phone":"098765 43210","consent":true,"name":"Asha",)"
                                     R"("source":"pricing-page","metadata":{"utm":"diwali"}})",
                                     "User-Agent: test-browser/1.0\r\n"));
  auto lead = wait_for_attempt(daemon.port(), id);
  BOOST_TEST(lead.at("phone").as_string() == "+919876543210");
  BOOST_TEST(lead.at("status").as_string() == "dialing");
  BOOST_TEST(lead.at("consent").at("userAgent").as_string() == "test-browser/1.0");
  BOOST_TEST(lead.at("consent").at("clientAddress").as_string() == "127.0.0.1");
  BOOST_TEST(lead.at("metadata").at("utm").as_string() == "diwali");
  const auto& attempt = lead.at("attempts").as_array().at(0);
  BOOST_TEST(attempt.at("provider").as_string() == "twilio");
  BOOST_TEST(attempt.at("callSid").as_string() == "CA00000000000000000000000000000001");
  // What the fake Twilio was asked, byte for byte where it matters.
  const auto requests = twilio.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].body.starts_with(
      "To=%2B919876543210&From=%2B14155550100&Url=https%3A%2F%2Fgw.example.test%2Ftwiml%3FleadId%3D" + id));

  // Real callbacks, shuffled and with Twilio's retries (duplicates) mixed in.
  std::vector<http::FormFields> callbacks = {callback("CA00000000000000000000000000000001", "initiated", 0),
                                             callback("CA00000000000000000000000000000001", "ringing", 1),
                                             callback("CA00000000000000000000000000000001", "in-progress", 2),
                                             callback("CA00000000000000000000000000000001", "completed", 3)};
  callbacks.push_back(callbacks[1]);
  callbacks.push_back(callbacks[3]);
  std::shuffle(callbacks.begin(), callbacks.end(), std::mt19937(20261125));
  testing::Connection connection(daemon.port());
  for (const auto& fields : callbacks) BOOST_TEST(post_callback(connection, id, fields) == 204);

  lead = get_lead(daemon.port(), id);
  BOOST_TEST(lead.at("status").as_string() == "completed");
  BOOST_TEST(lead.at("attempts").as_array().at(0).at("status").as_string() == "completed");
  BOOST_TEST(lead.at("events").as_array().size() == 4u);  // duplicates recorded once
}

BOOST_AUTO_TEST_CASE(bad_enquiries_get_field_by_field_answers) {
  FakeProviderServer twilio(&testing::test_certificates());
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore));
  const auto invalid = enquire(daemon.port(), R"({"phone":"12ab","consent":false,"email":"not-an-email","name":7})");
  BOOST_TEST(invalid.status == 422);
  const auto body = boost::json::parse(invalid.body).as_object();
  const auto& fields = body.at("fields").as_object();
  BOOST_TEST(fields.contains("phone"));
  BOOST_TEST(fields.contains("consent"));
  BOOST_TEST(fields.contains("email"));
  BOOST_TEST(fields.at("name").as_string() == "must be a string");
  BOOST_TEST(enquire(daemon.port(), R"({"phone":"+919876543210"})").status == 422);  // consent missing
  BOOST_TEST(enquire(daemon.port(), "{not json").status == 400);
  BOOST_TEST(send(daemon.port(), "POST", "/enquire", "Content-Type: text/plain\r\n", "phone=1").status == 415);
  // A plain HTML form works too.
  const auto form = send(daemon.port(), "POST", "/enquire", "Content-Type: application/x-www-form-urlencoded\r\n",
                         "phone=%2B44+7700+900123&consent=on&name=Sam&metadata%5Bpage%5D=home");
  BOOST_TEST(form.status == 202, form.body);
  // The full number is never logged.
  BOOST_TEST(daemon.all_output().find("7700900123") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_key_or_one_number_in_the_window_makes_one_lead_and_one_call) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, R"({"sid":"CA00000000000000000000000000000002","status":"queued"})"});
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore, "  duplicate_window: 10m\n"));
  const auto first =
      lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})", "Idempotency-Key: form-42\r\n"));
  const auto again =
      enquire(daemon.port(), R"({"phone":"+14155550123","consent":true})", "Idempotency-Key: form-42\r\n");
  BOOST_TEST(lead_id_of(again) == first);
  BOOST_TEST(again.body.find("\"existing\":true") != std::string::npos);
  // The same number again without a key, inside the window, from the same client.
  BOOST_TEST(lead_id_of(enquire(daemon.port(), R"({"phone":"+91 98765-43210","consent":true})")) == first);
  wait_for_attempt(daemon.port(), first);
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(twilio.requests().size() == 1u);  // rung once
}

BOOST_AUTO_TEST_CASE(abuse_is_limited_and_browsers_are_told_who_may_post) {
  FakeProviderServer twilio(&testing::test_certificates());
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore,
                                   "  cors_allowed_origins: [\"https://www.example.com\"]\n",
                                   "  rate_per_minute: 1\n  rate_burst: 2\n"));
  const std::string origin = "Origin: https://www.example.com\r\n";
  const auto preflight = send(daemon.port(), "OPTIONS", "/enquire", origin + "Access-Control-Request-Method: POST\r\n");
  BOOST_TEST(preflight.status == 204);
  BOOST_TEST(preflight.headers.at("access-control-allow-origin") == "https://www.example.com");
  BOOST_TEST(preflight.headers.at("access-control-allow-methods") == "POST");
  BOOST_TEST(send(daemon.port(), "OPTIONS", "/enquire", "Origin: https://evil.example\r\n").status == 403);

  const auto allowed = enquire(daemon.port(), R"({"phone":"bad","consent":true})", origin);
  BOOST_TEST(allowed.status == 422);
  BOOST_TEST(allowed.headers.at("access-control-allow-origin") == "https://www.example.com");
  const auto foreign = enquire(daemon.port(), R"({"phone":"bad","consent":true})", "Origin: https://evil.example\r\n");
  BOOST_TEST(foreign.status == 403);  // a page of another origin may not post
  BOOST_TEST(!foreign.headers.contains("access-control-allow-origin"));
  // The burst of 2 is spent; the third is refused with when to come back.
  const auto limited = enquire(daemon.port(), R"({"phone":"bad","consent":true})");
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(std::stoi(limited.headers.at("retry-after")) >= 1);

  BOOST_TEST(send(daemon.port(), "GET", "/leads", "").status == 401);
  BOOST_TEST(send(daemon.port(), "GET", "/leads", "Authorization: Bearer admin-secreT\r\n").status == 401);
  BOOST_TEST(send(daemon.port(), "GET", "/leads?status=bogus", kAdmin).status == 400);
  BOOST_TEST(send(daemon.port(), "GET", "/leads/01M89GEGBQXW57F1EKQXC07AED", kAdmin).status == 404);
}

BOOST_AUTO_TEST_CASE(the_journal_keeps_every_lead_and_event_across_a_restart) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  TemporaryDirectory directory;
  std::string id;
  {
    DaemonProcess daemon(lead_config(twilio.port(), journal_store(directory)));
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
    testing::Connection connection(daemon.port());
    BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "ringing", 1)) == 204);
    BOOST_TEST(post_callback(connection, id, callback("CA00000000000000000000000000000001", "busy", 2)) == 204);
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for_exit(10s).value_or(-1) == 0);
  }
  DaemonProcess restarted(lead_config(twilio.port(), journal_store(directory)));
  const auto lead = get_lead(restarted.port(), id);
  BOOST_TEST(lead.at("status").as_string() == "busy");
  BOOST_TEST(lead.at("events").as_array().size() == 2u);
  const auto page = boost::json::parse(send(restarted.port(), "GET", "/leads?status=busy", kAdmin).body);
  BOOST_TEST(page.at("leads").as_array().size() == 1u);
}

namespace {

// Four connections send callbacks for one lead (distinct sequence numbers,
// so each is an event of its own) until the daemon is killed with SIGKILL
// once ready_to_kill says so; then a restart on the same journal must hold
// every callback that got a 204.
void check_kill_minus_nine(const std::string& store_yaml, const std::function<bool(DaemonProcess&)>& ready_to_kill) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  std::string id;
  std::mutex lock;
  std::set<int> acknowledged;
  {
    DaemonProcess daemon(lead_config(twilio.port(), store_yaml));
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int sender = 0; sender < 4; ++sender)
      senders.emplace_back([&, sender] {
        try {
          testing::Connection connection(daemon.port());
          for (int index = sender; !stop; index += 4) {
            const int status =
                post_callback(connection, id, callback("CA00000000000000000000000000000001", "ringing", 10 + index));
            if (status != 204) return;
            std::lock_guard guard(lock);
            acknowledged.insert(10 + index);
          }
        } catch (const std::exception&) {
          // The daemon died under us: what was acknowledged is what counts.
        }
      });
    const bool ready = ready_to_kill(daemon);
    daemon.signal(SIGKILL);
    stop = true;
    for (auto& sender : senders) sender.join();
    daemon.wait_for_exit(5s);
    BOOST_TEST_REQUIRE(ready);
  }
  BOOST_TEST_REQUIRE(acknowledged.size() > 100u, "too few callbacks before the kill: " << acknowledged.size());
  DaemonProcess restarted(lead_config(twilio.port(), store_yaml));
  const auto stored = sequence_numbers_of(get_lead(restarted.port(), id));
  const auto missing = missing_from(acknowledged, stored);
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged callbacks are missing of " << acknowledged.size());
  BOOST_TEST_MESSAGE("acknowledged before kill -9: " << acknowledged.size() << ", stored: " << stored.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_acknowledged_callback_survives_kill_minus_nine) {
  TemporaryDirectory directory;
  check_kill_minus_nine(journal_store(directory), [](DaemonProcess&) {
    std::this_thread::sleep_for(700ms);
    return true;
  });
}

BOOST_AUTO_TEST_CASE(every_acknowledged_callback_survives_kill_minus_nine_while_snapshots_are_written) {
  // A small compact_bytes: the journal is rewritten again and again under
  // the flood, each snapshot written in the background while callbacks go
  // on being acknowledged into the old file. Killed once a few snapshots
  // are in place (and likely while the next is being written).
  TemporaryDirectory directory;
  check_kill_minus_nine(journal_store(directory) + "    compact_bytes: 65536\n", [](DaemonProcess& daemon) {
    for (int wait = 0; wait < 100; ++wait) {
      if (metric_value(daemon.port(), "callgate_journal_compactions") >= 3) return true;
      std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST_MESSAGE("compactions before the kill: " << metric_value(daemon.port(), "callgate_journal_compactions"));
    return false;
  });
}

BOOST_AUTO_TEST_CASE(a_journal_that_cannot_be_written_acknowledges_nothing_more_and_says_so) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  TemporaryDirectory directory;
  const std::string sid = "CA00000000000000000000000000000001";
  std::string id;
  std::set<int> acknowledged;
  {
    // No file of the daemon may grow past 48 KiB: the journal soon meets
    // what a full disk looks like (EFBIG instead of ENOSPC).
    DaemonProcess daemon(lead_config(twilio.port(), journal_store(directory)), {},
                         {"/usr/bin/prlimit", "--fsize=49152"});
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
    testing::Connection connection(daemon.port());
    // A callback for a call nobody knows waits in memory as an orphan.
    BOOST_TEST(post_callback(connection, "", callback("CA0000000000000000000000000000beef", "ringing", 1)) == 204);
    int status = 204;
    for (int index = 0; index < 5000 && status == 204; ++index) {
      status = post_callback(connection, id, callback(sid, "ringing", 10 + index));
      if (status == 204) acknowledged.insert(10 + index);
    }
    BOOST_TEST(status == 503, "the last callback before giving up got " << status);
    BOOST_TEST(acknowledged.size() > 20u);
    // Group commit and the file size, as /metrics shows them.
    BOOST_TEST(metric_value(daemon.port(), "callgate_journal_syncs") > 0);
    // How long the syncs took: the slowest is part of the total, and none
    // counts as slow that is not among the syncs.
    const auto longest = metric_value(daemon.port(), "callgate_journal_longest_sync_microseconds");
    BOOST_TEST(longest >= 0);
    BOOST_TEST(metric_value(daemon.port(), "callgate_journal_sync_microseconds_total") >= longest);
    const auto slow = metric_value(daemon.port(), "callgate_journal_slow_syncs");
    BOOST_TEST(slow >= 0);
    BOOST_TEST(slow <= metric_value(daemon.port(), "callgate_journal_syncs"));
    // Every sync is in the histogram of sync times too.
    BOOST_TEST(metric_value(daemon.port(), "callgate_journal_sync_seconds_count") ==
               metric_value(daemon.port(), "callgate_journal_syncs"));
    BOOST_TEST(metric_value(daemon.port(), "callgate_journal_bytes") > 40'000);
    BOOST_TEST(metric_value(daemon.port(), "callgate_orphan_events_in_memory") == 1);
    BOOST_TEST(daemon.wait_for_event("journal_write_failed").has_value());

    // Nothing is acknowledged on top of a journal that missed a write: not
    // later callbacks, not new enquiries. The daemon lives and says why.
    testing::Connection again(daemon.port());
    BOOST_TEST(post_callback(again, id, callback(sid, "ringing", 100'000)) == 503);
    const auto refused = enquire(daemon.port(), R"({"phone":"+919876543211","consent":true})");
    BOOST_TEST(refused.status == 503, refused.status << " " << refused.body);
    const auto ready = testing::http_get(daemon.port(), "/readyz");
    BOOST_TEST(ready.status == 503);
    BOOST_TEST(ready.body.find("journal cannot be written") != std::string::npos, ready.body);
    BOOST_TEST(testing::http_get(daemon.port(), "/healthz").status == 200);
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for_exit(10s).has_value());
  }
  // With room again: every acknowledged callback is there (the write cut
  // short by the limit is dropped as a torn tail).
  DaemonProcess restarted(lead_config(twilio.port(), journal_store(directory)));
  const auto stored = sequence_numbers_of(get_lead(restarted.port(), id));
  const auto missing = missing_from(acknowledged, stored);
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged callbacks are missing of " << acknowledged.size());
  BOOST_TEST(stored.count(100'000) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lead_flow_on_redis)

BOOST_AUTO_TEST_CASE(a_host_that_never_reached_redis_is_not_ready) {
  if (!testing::redis_server_available()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)");
    BOOST_TEST(!testing::redis_server_available());
    return;
  }
  FakeProviderServer twilio(&testing::test_certificates());
  TemporaryDirectory directory;
  testing::RedisServer redis(directory.path());
  redis.stop();  // its port, with nobody on it
  DaemonProcess daemon(lead_config(twilio.port(), redis_store(redis, directory)));
  // Up (it answers /healthz) but not ready: a spool does not make up for a
  // store it has never reached (enquiries would all fail).
  BOOST_TEST_REQUIRE(testing::eventually([&] { return testing::http_get(daemon.port(), "/healthz").status == 200; }));
  const auto ready = testing::http_get(daemon.port(), "/readyz");
  BOOST_TEST(ready.status == 503, ready.body);
  BOOST_TEST(ready.body.find("\"reason\":\"store: Redis is not connected\"") != std::string::npos, ready.body);
  // Redis arrives: ready.
  redis.start();
  BOOST_TEST(wait_until_ready(daemon.port()));
}

BOOST_AUTO_TEST_CASE(nothing_acknowledged_is_lost_while_redis_is_down) {
  if (!testing::redis_server_available()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)");
    BOOST_TEST(!testing::redis_server_available());
    return;
  }
  // Callbacks spread over many leads, as real traffic is (a lead's history
  // lives in its hash, written whole on each event).
  FakeProviderServer twilio(&testing::test_certificates());
  TemporaryDirectory directory;
  testing::RedisServer redis(directory.path());
  DaemonProcess daemon(lead_config(twilio.port(), redis_store(redis, directory)));
  BOOST_TEST(wait_until_ready(daemon.port()));
  CallbacksAcrossLeads flood(daemon.port(), place_leads(daemon.port(), twilio, 40));
  // Callbacks flowing, then Redis gone (as abruptly as a crash) until the
  // spool holds some, then back until the flow is stored again.
  BOOST_REQUIRE(testing::eventually([&] { return flood.sent() > 50; }));
  redis.stop();
  testing::eventually([&] { return metric_value(daemon.port(), "callgate_spool_events") >= 20; });
  const auto spooled = metric_value(daemon.port(), "callgate_spool_events");
  const auto ready_while_down = testing::http_get(daemon.port(), "/readyz");
  redis.start();
  const auto sent_when_back = flood.sent();
  testing::eventually([&] { return flood.sent() > sent_when_back + 50; });
  flood.stop();

  BOOST_TEST(spooled > 0, "nothing was spooled while Redis was down");
  // The store is away, but the spool acknowledges every callback: the host
  // is degraded, not out of service (a load balancer keeps it).
  BOOST_TEST(ready_while_down.status == 200, ready_while_down.body);
  BOOST_TEST(ready_while_down.body.find("\"status\":\"degraded\",\"reason\":\"store: ") != std::string::npos,
             ready_while_down.body);
  BOOST_TEST(flood.refused() == 0, flood.refused() << " callbacks were not acknowledged");
  // The spool drains once Redis is back.
  for (int tries = 0; tries < 300 && metric_value(daemon.port(), "callgate_spool_events") != 0; ++tries)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(metric_value(daemon.port(), "callgate_spool_events") == 0);
  const auto ready = testing::http_get(daemon.port(), "/readyz");
  BOOST_TEST(ready.body.find("\"status\":\"ready\"") != std::string::npos, ready.body);
  const auto missing = flood.missing_from_leads();
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged callbacks are missing of " << flood.acknowledged());
  BOOST_TEST_MESSAGE("acknowledged: " << flood.acknowledged() << ", spooled while Redis was down: " << spooled);
}

BOOST_AUTO_TEST_CASE(a_spool_that_cannot_be_written_acknowledges_nothing_more) {
  if (!testing::redis_server_available()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)");
    BOOST_TEST(!testing::redis_server_available());
    return;
  }
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  TemporaryDirectory directory;
  std::filesystem::create_directories(directory.file("redis"));
  testing::RedisServer redis(directory.file("redis"));
  const std::string sid = "CA00000000000000000000000000000001";
  std::string id;
  std::set<int> acknowledged;
  {
    DaemonProcess daemon(lead_config(twilio.port(), redis_store(redis, directory)), {},
                         {"/usr/bin/prlimit", "--fsize=16384"});
    BOOST_TEST_REQUIRE(wait_until_ready(daemon.port()));
    id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
    wait_for_attempt(daemon.port(), id);
    redis.stop();  // every callback now goes to the spool, until it cannot grow
    testing::Connection connection(daemon.port());
    int status = 204;
    for (int index = 0; index < 2000 && status == 204; ++index) {
      status = post_callback(connection, id, callback(sid, "ringing", 10 + index));
      if (status == 204) acknowledged.insert(10 + index);
    }
    BOOST_TEST(status == 503, "the last callback before giving up got " << status);
    BOOST_TEST(acknowledged.size() > 10u);
    BOOST_TEST(metric_value(daemon.port(), "callgate_spool_events") == static_cast<std::int64_t>(acknowledged.size()));
    testing::Connection again(daemon.port());
    BOOST_TEST(post_callback(again, id, callback(sid, "ringing", 100'000)) == 503);
    const auto unready = testing::http_get(daemon.port(), "/readyz");
    BOOST_TEST(unready.status == 503);
    BOOST_TEST(unready.body.find("\"spool_writes\":\"the spool cannot be written: ") != std::string::npos,
               unready.body);
    daemon.signal(SIGTERM);
    BOOST_TEST(daemon.wait_for_exit(10s).has_value());
  }
  // Redis back, the daemon restarted without the limit: the spool drains
  // into Redis and every acknowledged callback is in the lead.
  redis.start();
  DaemonProcess restarted(lead_config(twilio.port(), redis_store(redis, directory)));
  for (int tries = 0; tries < 300 && metric_value(restarted.port(), "callgate_spool_events") != 0; ++tries)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(metric_value(restarted.port(), "callgate_spool_events") == 0);
  const auto stored = sequence_numbers_of(get_lead(restarted.port(), id));
  const auto missing = missing_from(acknowledged, stored);
  BOOST_TEST(missing.empty(), missing.size() << " acknowledged callbacks are missing of " << acknowledged.size());
}

// The README's "ACL SETUSER callgate ..." line, split into words, with
// password in place of its placeholder; empty when the README has none.
std::vector<std::string> readme_acl_command(const std::string& password) {
  std::ifstream readme(std::string(CALLGATE_SOURCE_DIR) + "/README.md");
  std::string line;
  while (std::getline(readme, line)) {
    std::istringstream words(line);
    std::string word;
    std::vector<std::string> split;
    while (words >> word) split.push_back(word == ">PASSWORD" ? ">" + password : word);
    if (split.size() > 3 && split[0] == "ACL" && split[1] == "SETUSER" && split[2] == "callgate") return split;
  }
  return {};
}

// What Redis refused, from its ACL LOG: each entry names what it refused as
// its "object" (a bulk string after that key).
std::vector<std::string> refused_by_acl(const testing::RedisServer& redis, std::string& log) {
  log = redis.command({"ACL", "LOG"});
  std::vector<std::string> refused;
  for (auto at = log.find("$6\r\nobject\r\n"); at != std::string::npos; at = log.find("$6\r\nobject\r\n", at + 1)) {
    const auto length_at = at + std::string_view("$6\r\nobject\r\n$").size();
    const auto length_end = log.find("\r\n", length_at);
    const auto length = std::stoul(log.substr(length_at, length_end - length_at));
    refused.push_back(log.substr(length_end + 2, length));
  }
  return refused;
}

// A daemon on store_yaml takes an enquiry, places its call and keeps its
// four callbacks until the lead is completed, all through Redis; stopped
// after, and its log holds no trace of secret.
void carry_a_lead_to_completed(FakeProviderServer& twilio, const std::string& store_yaml, const std::string& secret) {
  twilio.script({201, kPlaced});
  DaemonProcess daemon(lead_config(twilio.port(), store_yaml));
  BOOST_TEST_REQUIRE(wait_until_ready(daemon.port()), daemon.all_output());
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  wait_for_attempt(daemon.port(), id);
  const std::string sid = "CA00000000000000000000000000000001";
  testing::Connection connection(daemon.port());
  int sequence = 0;
  const auto commands_before = metric_value(daemon.port(), "callgate_redis_store_commands_total");
  const auto sent_before = metric_value(daemon.port(), "callgate_redis_store_sent_bytes_total");
  for (const char* status : {"initiated", "ringing", "in-progress", "completed"})
    BOOST_TEST(post_callback(connection, id, callback(sid, status, sequence++)) == 204);
  // What a callback asked of Redis, by the daemon's own count: its owner
  // and lead read, its event appended (a few hundred bytes; writing the
  // lead back, as before, sent its whole json, over a kilobyte by the
  // fourth event). The completed call's redial decision reads the lead too.
  const auto commands = metric_value(daemon.port(), "callgate_redis_store_commands_total") - commands_before;
  const auto sent = metric_value(daemon.port(), "callgate_redis_store_sent_bytes_total") - sent_before;
  BOOST_TEST(commands >= 4 * 4);
  BOOST_TEST(commands <= 4 * 4 + 4);
  BOOST_TEST(sent / 4 < 1024, sent << " bytes sent to Redis for 4 callbacks");
  BOOST_TEST_MESSAGE("callbacks: " << commands << " commands, " << sent << " bytes");
  BOOST_TEST(metric_value(daemon.port(), "callgate_redis_store_received_bytes_total") > 0);
  const auto lead = get_lead(daemon.port(), id);
  BOOST_TEST(lead.at("status").as_string() == "completed");
  BOOST_TEST(lead.at("events").as_array().size() == 4u);
  BOOST_TEST(metric_value(daemon.port(), "callgate_spool_events") == 0);  // nothing had to wait for Redis
  daemon.signal(SIGTERM);
  BOOST_TEST(daemon.wait_for_exit(10s).has_value());
  BOOST_TEST(daemon.all_output().find(secret) == std::string::npos);
}

// The README's ACL line for callgate's own Redis user, applied as written:
// a lead goes from enquiry to completed as that user (the dial scheduler's
// scripts included) and Redis refused nothing but the CONFIG GET the README
// leaves out on purpose (callgated goes on without it). A wrong password is
// a host that is not ready, and the password is never logged.
BOOST_AUTO_TEST_CASE(an_acl_user_with_the_readmes_commands_carries_a_lead_to_its_end) {
  if (!testing::redis_server_available()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)");
    BOOST_TEST(!testing::redis_server_available());
    return;
  }
  const auto acl_command = readme_acl_command("s3cret:p@ss");  // ':' and '@' percent-encoded in the URL
  BOOST_TEST_REQUIRE(!acl_command.empty(), "the README has no 'ACL SETUSER callgate' line");
  FakeProviderServer twilio(&testing::test_certificates());
  TemporaryDirectory directory;
  testing::RedisServer redis;
  BOOST_TEST_REQUIRE(redis.command(acl_command) == "+OK\r\n");
  const auto at = "@127.0.0.1:" + std::to_string(redis.port()) + "/0";
  carry_a_lead_to_completed(twilio, redis_store_at("redis://callgate:s3cret%3Ap%40ss" + at, directory), "s3cret");

  std::string log;
  for (const auto& object : refused_by_acl(redis, log))
    BOOST_TEST(object == "config|get", "Redis refused callgate's user " << object << ": " << log);
  const auto keys = redis.command({"KEYS", "*"});
  BOOST_TEST(keys.find("callgate:") != std::string::npos, keys);

  DaemonProcess wrong(lead_config(twilio.port(), redis_store_at("redis://callgate:not-the-password" + at, directory)));
  BOOST_TEST_REQUIRE(testing::eventually([&] { return testing::http_get(wrong.port(), "/healthz").status == 200; }));
  const auto ready = testing::http_get(wrong.port(), "/readyz");
  BOOST_TEST(ready.status == 503, ready.body);
  BOOST_TEST(wrong.wait_for_event("redis_connect_failed").has_value());
  BOOST_TEST(wrong.all_output().find("not-the-password") == std::string::npos);
}

// The same over TLS, as a managed Redis is reached: rediss:// by name, the
// server verified against the test's CA, a client certificate demanded by
// redis-server (tls-auth-clients), the ACL user logging in over it.
BOOST_AUTO_TEST_CASE(over_tls_with_a_client_certificate_a_lead_is_carried_to_its_end) {
  if (!testing::redis_server_available()) {
    BOOST_TEST_MESSAGE("SKIPPED: /usr/bin/redis-server is not installed (scripts/setup installs it)");
    BOOST_TEST(!testing::redis_server_available());
    return;
  }
  const auto& certificates = testing::test_certificates();
  FakeProviderServer twilio(&certificates);
  TemporaryDirectory directory;
  testing::RedisServer redis(
      "", testing::RedisTls{certificates.server_cert_file, certificates.server_key_file, certificates.ca_file, true});
  BOOST_TEST_REQUIRE(redis.command(readme_acl_command("tls-secret")) == "+OK\r\n");
  const auto url = "rediss://callgate:tls-secret@localhost:" + std::to_string(redis.tls_port()) + "/0";
  const auto tls_files = "    ca_file: \"" + certificates.ca_file + "\"\n    cert_file: \"" +
                         certificates.client_cert_file + "\"\n    key_file: \"" + certificates.client_key_file + "\"\n";
  carry_a_lead_to_completed(twilio, redis_store_at(url, directory, tls_files), "tls-secret");
  std::string log;
  for (const auto& object : refused_by_acl(redis, log))
    BOOST_TEST(object == "config|get", "Redis refused callgate's user " << object << ": " << log);
  BOOST_TEST(redis.command({"KEYS", "callgate:*"}).find("callgate:") != std::string::npos);

  // Without the client certificate, Redis refuses it (TLS 1.3: just after
  // the handshake, at the first command): not ready, and the log says why.
  DaemonProcess refused(
      lead_config(twilio.port(), redis_store_at(url, directory, "    ca_file: \"" + certificates.ca_file + "\"\n")));
  BOOST_TEST_REQUIRE(testing::eventually([&] { return testing::http_get(refused.port(), "/healthz").status == 200; }));
  BOOST_TEST(testing::http_get(refused.port(), "/readyz").status == 503);
  const auto failed = refused.wait_for_event("redis_connect_failed");
  BOOST_TEST_REQUIRE(failed.has_value());
  BOOST_TEST(std::string(failed->at("reason").as_string()).find("certificate") != std::string::npos,
             failed->at("reason"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
