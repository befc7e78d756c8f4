// Issue 18's reproductions, against the real binary: what an outsider or an
// operator's slip did to callgated before, each now refused or survived.
// Unit tests cover the pieces (utf8, state_files, journal_repair, spawn,
// lead ids, orphans by bytes, Exotel's request signature); these check that
// the daemon puts them to work.
#include "eventually.hpp"
#include "lead_flow_support.hpp"

#include "core/store/journal_record.hpp"
#include "core/utf8.hpp"

#include <boost/json/serialize.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

using namespace callgate;
using namespace callgate::lead_flow;
using testing::Connection;
using testing::http_get;
using testing::run_command;

namespace {

std::string journal_config(const TemporaryDirectory& directory, const std::string& intake = "",
                           const std::string& server_extra = "") {
  return "server:\n  listen: \"127.0.0.1:0\"\n  threads: 1\n" + server_extra +
         "log:\n  level: info\nadmin:\n  token: admin-secret\n" + journal_store(directory) +
         "telephony:\n  provider: simulator\n  simulator:\n    speed: 50\n"
         "intake:\n  rate_per_minute: 1000\n  rate_burst: 1000\n" +
         intake;
}

std::string nested_metadata(int levels) {
  std::string value = "\"deep\"";
  for (int level = 0; level < levels; ++level) value = "{\"a\":" + value + "}";
  return value;
}

// yaml with lines added to its server section.
std::string with_server_lines(std::string yaml, const std::string& lines) {
  const auto at = yaml.find("server:\n");
  BOOST_REQUIRE(at != std::string::npos);
  return yaml.insert(at + 8, lines);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hardening)

// Defect 1: one unauthenticated enquiry stopped every later start.
BOOST_AUTO_TEST_CASE(deep_metadata_is_refused_at_intake_and_the_daemon_restarts) {
  TemporaryDirectory directory;
  std::string kept_id;
  {
    DaemonProcess daemon(journal_config(directory));
    const auto deep = enquire(
        daemon.port(), R"({"phone":"+919876543210","consent":true,"metadata":{"m":)" + nested_metadata(30) + "}}");
    BOOST_TEST(deep.status == 422, deep.body);
    BOOST_TEST(deep.body.find("nests deeper than") != std::string::npos, deep.body);
    kept_id = lead_id_of(enquire(
        daemon.port(), R"({"phone":"+919876543211","consent":true,"metadata":{"m":)" + nested_metadata(6) + "}}"));
  }
  DaemonProcess restarted(journal_config(directory));
  const auto lead = get_lead(restarted.port(), kept_id);
  BOOST_TEST(boost::json::serialize(lead.at("metadata")).find("deep") != std::string::npos);
}

// Defect 2: two daemons on one journal lost acknowledged leads.
BOOST_AUTO_TEST_CASE(a_second_daemon_on_the_same_journal_exits_at_once_naming_the_path_and_the_holder) {
  TemporaryDirectory directory;
  DaemonProcess first(journal_config(directory));
  TemporaryDirectory other;
  other.write("second.yaml", journal_config(directory));
  const auto second = run_command({CALLGATED_BINARY, "--config", other.file("second.yaml")}, 10s);
  BOOST_TEST(second.exit_code == 1);
  BOOST_TEST(
      second.output.find("in use by another callgated (pid " + std::to_string(first.pid()) + ")") != std::string::npos,
      second.output);
  BOOST_TEST(second.output.find(directory.file("journal")) != std::string::npos, second.output);
  // The first goes on serving, its journal untouched by the second.
  BOOST_TEST(lead_id_of(enquire(first.port(), R"({"phone":"+919876543210","consent":true})")).size() == 26u);
}

// Defect 4: a second daemon on one port split the traffic silently.
BOOST_AUTO_TEST_CASE(a_port_already_served_refuses_the_start_unless_reuse_port_asks_for_it) {
  DaemonProcess first(testing::test_config());
  TemporaryDirectory directory;
  const auto listen = "server:\n  listen: \"127.0.0.1:" + std::to_string(first.port()) + "\"\n";
  directory.write("same-port.yaml", listen + "store:\n  backend: memory\n");
  const auto refused = run_command({CALLGATED_BINARY, "--config", directory.file("same-port.yaml")}, 10s);
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.output.find("another process already listens there") != std::string::npos, refused.output);
  BOOST_TEST(refused.output.find("server.reuse_port") != std::string::npos, refused.output);
  // Asked for on purpose (a hand-over restart), it starts.
  DaemonProcess handed_over(listen + "  reuse_port: true\nstore:\n  backend: memory\n");
  BOOST_TEST(handed_over.port() == first.port());
}

// Defect 3: /webhook/simulator took forged events into real leads while Twilio placed the calls.
BOOST_AUTO_TEST_CASE(the_simulator_s_endpoints_do_not_exist_while_another_provider_places_calls) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  DaemonProcess daemon(lead_config(twilio.port(), kMemoryStore));
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})"));
  wait_for_attempt(daemon.port(), id);
  const http::FormFields forged{{"CallSid", "CA00000000000000000000000000000001"}, {"CallStatus", "no-answer"}};
  const std::string target = "/webhook/simulator?leadId=" + id;
  const auto body = http::encode_form(forged);
  const auto answer =
      send(daemon.port(), "POST", target,
           "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
               providers::twilio::compute_signature("simulator-auth-token", std::string(kPublicBase) + target, forged) +
               "\r\n",
           body);
  BOOST_TEST(answer.status == 404, answer.body);
  // Nor through the shared address, as a Twilio-looking request signed with the old default.
  const auto shared = send(daemon.port(), "POST", "/webhook?leadId=" + id,
                           "Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: " +
                               providers::twilio::compute_signature(
                                   "simulator-auth-token", std::string(kPublicBase) + "/webhook?leadId=" + id, forged) +
                               "\r\n",
                           body);
  BOOST_TEST(shared.status == 403, shared.body);
  const auto lead = get_lead(daemon.port(), id);
  BOOST_TEST(lead.at("events").as_array().empty(), boost::json::serialize(lead));
  BOOST_TEST(std::string(lead.at("status").as_string()) != "no-answer");
}

// Defect 5: a known number or a known Idempotency-Key handed out another client's lead id.
BOOST_AUTO_TEST_CASE(a_duplicate_from_another_client_gets_a_handle_of_its_own) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  twilio.script({201, kSecondPlaced});
  DaemonProcess daemon(with_server_lines(lead_config(twilio.port(), kMemoryStore, "  duplicate_window: 10m\n"),
                                         "  trusted_proxies: [\"127.0.0.1/32\"]\n"));
  const std::string victim = "X-Forwarded-For: 198.51.100.10\r\n";
  const std::string stranger = "X-Forwarded-For: 203.0.113.66\r\n";
  const auto first = lead_id_of(
      enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})", victim + "Idempotency-Key: form-1\r\n"));
  // The same client again: its own lead, as before.
  BOOST_TEST(lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})", victim)) == first);
  // Another client, the same number: a handle that shows nothing of the first call.
  const auto duplicate = enquire(daemon.port(), R"({"phone":"+91 98765 43210","consent":true})", stranger);
  const auto handle = lead_id_of(duplicate);
  BOOST_TEST(handle != first);
  BOOST_TEST(duplicate.body.find("\"status\":\"duplicate\"") != std::string::npos, duplicate.body);
  BOOST_TEST(send(daemon.port(), "GET", "/enquire/" + handle, "").status == 404);
  // Another client, the victim's Idempotency-Key, another number: a lead of its own.
  const auto same_key = lead_id_of(
      enquire(daemon.port(), R"({"phone":"+14155550123","consent":true})", stranger + "Idempotency-Key: form-1\r\n"));
  BOOST_TEST(same_key != first);
  wait_for_attempt(daemon.port(), same_key);
  BOOST_TEST(twilio.requests().size() == 2u);  // the first number rung once, the second once
}

// Defect 7: only the first X-Forwarded-For line was read.
BOOST_AUTO_TEST_CASE(every_forwarded_for_line_counts_and_the_right_most_untrusted_address_is_the_client) {
  FakeProviderServer twilio(&testing::test_certificates());
  twilio.script({201, kPlaced});
  DaemonProcess daemon(with_server_lines(lead_config(twilio.port(), kMemoryStore),
                                         "  trusted_proxies: [\"127.0.0.1/32\", \"10.0.0.0/8\"]\n"));
  // The client wrote the first line; the proxies appended the rest.
  const auto id = lead_id_of(enquire(daemon.port(), R"({"phone":"+919876543210","consent":true})",
                                     "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 192.0.2.44, 10.1.2.3\r\n"));
  const auto lead = get_lead(daemon.port(), id);
  BOOST_TEST(std::string(lead.at("consent").at("clientAddress").as_string()) == "192.0.2.44");
}

// Defect 8 (the rate limit half; the ids are unit-tested).
BOOST_AUTO_TEST_CASE(guessing_at_enquiry_status_is_rate_limited) {
  DaemonProcess daemon(testing::test_config() + "intake:\n  status_rate_per_minute: 1\n  status_rate_burst: 3\n");
  int limited = 0;
  for (int attempt = 0; attempt < 6; ++attempt)
    if (http_get(daemon.port(), "/enquire/01M8ZZZZZZZZZZZZZZZZZZZZZZ").status == 429) ++limited;
  BOOST_TEST(limited == 3);
}

// Defect 9: the Exotel callback token in the access log.
BOOST_AUTO_TEST_CASE(secrets_in_request_targets_never_reach_the_log) {
  DaemonProcess daemon(testing::test_config());
  http_get(daemon.port(), "/webhook/exotel?leadId=01M8&token=s3cr3t-t0ken&sig=abcdef&x=1", "", "POST");
  http_get(daemon.port(), "/healthz?password=hunter2");
  // Both requests' lines logged (the second follows the first).
  BOOST_REQUIRE(testing::eventually([&] { return daemon.all_output().find("/healthz") != std::string::npos; }));
  const auto output = daemon.all_output();
  BOOST_TEST(output.find("s3cr3t-t0ken") == std::string::npos, output);
  BOOST_TEST(output.find("hunter2") == std::string::npos, output);
  BOOST_TEST(output.find("abcdef") == std::string::npos, output);
  BOOST_TEST(output.find("token=REDACTED") != std::string::npos, output);
  BOOST_TEST(output.find("x=1") != std::string::npos, output);
}

// Defect 10: a connection that never sent a byte held a slot for 60 s; one address could take them all.
BOOST_AUTO_TEST_CASE(silent_connections_go_after_read_timeout_and_one_address_cannot_take_every_slot) {
  DaemonProcess daemon(
      testing::test_config("  read_timeout: 500ms\n  idle_timeout: 60s\n  max_connections_per_address: 4\n"));
  std::vector<std::unique_ptr<Connection>> held;
  for (int index = 0; index < 4; ++index) held.push_back(std::make_unique<Connection>(daemon.port()));
  Connection over(daemon.port());
  const auto refused = over.read_response(2s);
  BOOST_REQUIRE(refused.has_value());
  const auto parsed = testing::parse_response(*refused);
  BOOST_TEST(parsed.status == 503);
  BOOST_TEST(parsed.body.find("from this address") != std::string::npos, parsed.body);
  BOOST_TEST(parsed.headers.count("x-request-id") == 1u);
  BOOST_TEST(parsed.headers.count("date") == 1u);
  BOOST_TEST(parsed.body.find("\"requestId\"") != std::string::npos);
  // The silent ones are closed after read_timeout, not idle_timeout.
  const auto started = std::chrono::steady_clock::now();
  for (auto& connection : held) BOOST_TEST(connection->closed_by_peer(3s));
  BOOST_TEST((std::chrono::steady_clock::now() - started < 3s));
  // Their places are free again.
  Connection after(daemon.port());
  after.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto answer = after.read_response(2s);
  BOOST_REQUIRE(answer.has_value());
  BOOST_TEST(testing::parse_response(*answer).status == 200);
  BOOST_TEST(metric_value(daemon.port(), "callgate_http_connections_refused_per_address_total") == 1);
}

BOOST_AUTO_TEST_CASE(a_trusted_proxy_is_not_held_to_the_per_address_cap) {
  DaemonProcess daemon(
      testing::test_config("  max_connections_per_address: 2\n  trusted_proxies: [\"127.0.0.1/32\"]\n"));
  std::vector<std::unique_ptr<Connection>> held;
  for (int index = 0; index < 6; ++index) held.push_back(std::make_unique<Connection>(daemon.port()));
  for (auto& connection : held) {
    connection->send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    const auto answer = connection->read_response(2s);
    BOOST_REQUIRE(answer.has_value());
    BOOST_TEST(testing::parse_response(*answer).status == 200);
  }
}

// Defect 11: many small headers slipped past max_header_bytes.
BOOST_AUTO_TEST_CASE(many_small_headers_count_toward_the_header_limit) {
  DaemonProcess daemon(testing::test_config());
  std::string headers;
  for (int index = 0; index < 4000; ++index) headers += "a: b\r\n";
  Connection connection(daemon.port());
  connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n");
  const auto answer = connection.read_response(5s);
  BOOST_REQUIRE(answer.has_value());
  BOOST_TEST(testing::parse_response(*answer).status == 431);
  // Just under the limit still passes.
  std::string fewer;
  for (int index = 0; index < 2000; ++index) fewer += "a: b\r\n";
  Connection fine(daemon.port());
  fine.send("GET /healthz HTTP/1.1\r\nHost: t\r\n" + fewer + "\r\n");
  const auto ok = fine.read_response(5s);
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(testing::parse_response(*ok).status == 200);
}

// Defect 12: symlinks followed, directories 0755.
BOOST_AUTO_TEST_CASE(state_files_are_not_followed_through_symlinks_and_directories_are_private) {
  TemporaryDirectory directory;
  const auto journal = directory.file("journal");
  { DaemonProcess daemon(journal_config(directory)); }
  struct stat status {};
  BOOST_REQUIRE(::stat(journal.c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0700u);
  std::filesystem::remove(journal + "/leads.journal");
  const auto target = directory.file("elsewhere.journal");
  std::filesystem::create_symlink(target, journal + "/leads.journal");
  directory.write("c.yaml", journal_config(directory));
  const auto refused = run_command({CALLGATED_BINARY, "--config", directory.file("c.yaml")}, 10s);
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.output.find("is a symbolic link") != std::string::npos, refused.output);
  BOOST_TEST(!std::filesystem::exists(target));
}

// Defect 13: bytes that are not UTF-8 were stored and served as JSON, and logged raw.
BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused_at_intake_and_escaped_in_logs) {
  DaemonProcess daemon(testing::test_config() + "intake:\n  rate_per_minute: 1000\n  rate_burst: 1000\n");
  const auto form = send(daemon.port(), "POST", "/enquire", "Content-Type: application/x-www-form-urlencoded\r\n",
                         "phone=%2B919876543210&consent=on&name=%FF");
  BOOST_TEST(form.status == 422, form.body);
  BOOST_TEST(form.body.find("\"name\":\"is not valid UTF-8\"") != std::string::npos, form.body);
  const auto metadata = send(daemon.port(), "POST", "/enquire", "Content-Type: application/x-www-form-urlencoded\r\n",
                             "phone=%2B919876543210&consent=on&metadata%5Bpage%5D=%C3%28");
  BOOST_TEST(metadata.status == 422, metadata.body);
  Connection raw(daemon.port());
  raw.send("GET /nowhere/\xff\xfe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const auto answer = raw.read_response(2s);
  BOOST_REQUIRE(answer.has_value());
  const auto parsed = testing::parse_response(*answer);
  BOOST_TEST(parsed.status == 404);
  BOOST_TEST(is_valid_utf8(parsed.body), parsed.body);
  BOOST_REQUIRE(testing::eventually([&] { return daemon.all_output().find("/nowhere/") != std::string::npos; }));
  const auto output = daemon.all_output();
  BOOST_TEST(is_valid_utf8(output));
  BOOST_TEST(output.find("/nowhere/\\u00ff\\u00fe") != std::string::npos, output);
}

// Defect 15: zeros inside the journal's last MiB were cut off with the acknowledged records after them.
BOOST_AUTO_TEST_CASE(damage_near_the_end_stops_the_start_and_the_repair_keeps_every_intact_record) {
  TemporaryDirectory directory;
  std::vector<std::string> ids;
  {
    DaemonProcess daemon(journal_config(directory));
    for (int index = 0; index < 40; ++index)
      ids.push_back(lead_id_of(
          enquire(daemon.port(), R"({"phone":"+91987654)" + std::to_string(3000 + index) + R"(","consent":true})")));
  }
  const auto file = directory.file("journal") + "/leads.journal";
  auto data = read_file(file);
  // 64 zero bytes over the middle of the records (the file ends in room
  // after a kill -9): inside acknowledged records.
  store::JournalReader reader(data, store::kJournalSyncWindowBytes);
  std::string_view payload;
  std::int64_t records_before = 0;
  while (reader.next(payload)) ++records_before;
  BOOST_REQUIRE(reader.valid_bytes() > 1000);
  const auto middle = reader.valid_bytes() / 2;
  std::fill(data.begin() + static_cast<std::ptrdiff_t>(middle), data.begin() + static_cast<std::ptrdiff_t>(middle + 64),
            '\0');
  std::ofstream(file, std::ios::binary | std::ios::trunc) << data;

  directory.write("c.yaml", journal_config(directory));
  const auto refused = run_command({CALLGATED_BINARY, "--config", directory.file("c.yaml")}, 10s);
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.output.find("--repair-journal") != std::string::npos, refused.output);
  BOOST_TEST(read_file(file) == data, "nothing was cut");
  // The offset is the journal's, not a phone number: never masked.
  BOOST_TEST(refused.output.find("****") == std::string::npos, refused.output);

  const auto check = run_command({CALLGATED_BINARY, "--check-journal", file});
  BOOST_TEST(check.exit_code == 1);
  BOOST_TEST(check.output.find("damaged stretch") != std::string::npos, check.output);
  const auto repair = run_command({CALLGATED_BINARY, "--repair-journal", file});
  BOOST_TEST(repair.exit_code == 0, repair.output);
  BOOST_TEST(repair.output.find("The damaged bytes: ") != std::string::npos, repair.output);
  BOOST_TEST(run_command({CALLGATED_BINARY, "--check-journal", file}).exit_code == 0);

  DaemonProcess repaired(journal_config(directory));
  // Every record but the one (or two) the zeros fell on.
  const auto output = repaired.all_output();  // journal_replayed comes before listening
  const auto line = output.find("\"event\":\"journal_replayed\"");
  BOOST_REQUIRE(line != std::string::npos);
  const auto field = output.find("\"records\":", line);
  BOOST_REQUIRE(field != std::string::npos);
  const auto records_after = std::stoll(output.substr(field + 10));
  BOOST_TEST(records_after >= records_before - 2);
  BOOST_TEST(records_after < records_before);
  std::size_t present = 0;
  for (const auto& id : ids)
    if (send(repaired.port(), "GET", "/leads/" + id, kAdmin).status == 200) ++present;
  BOOST_TEST(present >= ids.size() - 2);
}

// Defect 19: SIGTERM reset keep-alive connections whose next request had already arrived.
BOOST_AUTO_TEST_CASE(requests_already_sent_when_sigterm_comes_are_answered) {
  DaemonProcess daemon(testing::test_config());
  std::vector<std::unique_ptr<Connection>> connections;
  for (int index = 0; index < 32; ++index) {
    connections.push_back(std::make_unique<Connection>(daemon.port()));
    connections.back()->send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    BOOST_REQUIRE(connections.back()->read_response(2s));
  }
  for (auto& connection : connections) connection->send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  daemon.signal(SIGTERM);
  int answered = 0;
  for (auto& connection : connections)
    if (auto response = connection->read_response(3s); response && testing::parse_response(*response).status == 200)
      ++answered;
  BOOST_TEST(answered == 32);
  BOOST_TEST(daemon.wait_for_exit(5s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(a_low_descriptor_limit_is_said_at_start_and_connections_past_it_get_a_503) {
  DaemonProcess daemon(
      testing::test_config("  max_connections: 2000\n  max_connections_per_address: 0\n  read_timeout: 1s\n"), {},
      {"/usr/bin/prlimit", "--nofile=64:64"});
  // Said before "listening": in the lines the start already read.
  BOOST_TEST(daemon.all_output().find("\"event\":\"descriptor_limit_low\"") != std::string::npos, daemon.all_output());
#ifdef CALLGATE_SANITIZED
  // Out of descriptors, UBSan's check of an object's type cannot open the
  // pipe it probes memory with, and reports an "invalid vptr" that is not
  // there (the release build runs the rest of this test).
  BOOST_TEST_MESSAGE("sanitizer build: descriptor exhaustion not exercised");
  return;
#endif
  std::vector<std::unique_ptr<Connection>> held;
  int refused = 0;
  for (int index = 0; index < 100; ++index) {
    held.push_back(std::make_unique<Connection>(daemon.port()));
  }
  for (auto& connection : held)
    if (auto answer = connection->read_response(200ms); answer && testing::parse_response(*answer).status == 503)
      ++refused;
  BOOST_TEST(refused > 0);
  held.clear();
  // Served again once they are gone.
  BOOST_TEST(testing::eventually([&] { return http_get(daemon.port(), "/healthz").status == 200; }));
}

BOOST_AUTO_TEST_SUITE_END()
