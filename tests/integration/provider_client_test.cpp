// Both providers place calls through the real HTTPS client against fake
// provider APIs that speak real TLS with a CA made for this run, and check
// every byte they receive. Each HTTP answer class is classified exactly.
#include "core/crypto.hpp"
#include "fake_provider_server.hpp"
#include "http/client/http_client.hpp"
#include "providers/exotel/provider.hpp"
#include "providers/twilio/provider.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <thread>

namespace callgate {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace providers;  // the outcomes it classifies
using testing::FakeProviderServer;
using testing::ScriptedAnswer;

constexpr std::string_view kAccountSid = "AC0123456789abcdef0123456789abcdef";

Config test_config(unsigned short twilio_port, unsigned short exotel_port) {
  Config config;
  config.server.public_base_url = "https://callgate.example.com";
  auto& twilio = providers::twilio::settings_of(config);
  twilio.account_sid = std::string(kAccountSid);
  twilio.auth_token = "twilio-token";
  twilio.phone_number = "+14155550100";
  twilio.api_base = "https://localhost:" + std::to_string(twilio_port);
  auto& exotel = providers::exotel::settings_of(config);
  exotel.account_sid = "callgate1";
  exotel.api_key = "exotel-key";
  exotel.api_token = "exotel-token";
  exotel.exophone_number = "08047112233";
  exotel.flow_id = "556677";
  exotel.api_base = "https://localhost:" + std::to_string(exotel_port);
  exotel.webhook_auth.callback_token = "cb-token";
  auto& client = config.telephony.http_client;
  client.ca_file = testing::test_certificates().ca_file;
  client.connect_timeout = Milliseconds(2'000);
  client.request_timeout = Milliseconds(600);
  client.total_timeout = Milliseconds(3'000);
  return config;
}

struct ClientFixture {
  asio::io_context io{1};
  FakeProviderServer twilio_server{&testing::test_certificates()};
  FakeProviderServer exotel_server{&testing::test_certificates()};
  Config config = test_config(twilio_server.port(), exotel_server.port());
  std::unique_ptr<http::HttpClient> client = std::make_unique<http::HttpClient>(io, config.telephony.http_client);
  providers::twilio::TwilioProvider twilio;
  providers::exotel::ExotelProvider exotel;

  PlaceCallOutcome place(const providers::Provider& provider, std::string lead_id = "lead-1") {
    std::optional<PlaceCallOutcome> outcome;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          providers::CallOrder order{lead_id, "+14155550123"};
          outcome = co_await providers::place_call(provider, config, *client, std::move(order));
        },
        asio::detached);
    io.restart();
    io.run();
    BOOST_REQUIRE(outcome.has_value());
    return *outcome;
  }
};

std::string describe(const PlaceCallOutcome& outcome) {
  return std::visit(
      [](const auto& value) -> std::string {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, Placed>)
          return "placed " + value.call_sid;
        else if constexpr (std::is_same_v<T, Retryable>)
          return "retryable: " + value.reason;
        else if constexpr (std::is_same_v<T, Ambiguous>)
          return "ambiguous: " + value.reason;
        else
          return "rejected " + std::to_string(value.code) + ": " + value.message;
      },
      outcome);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(provider_client, ClientFixture)

BOOST_AUTO_TEST_CASE(twilio_places_a_call_with_exactly_the_documented_request) {
  twilio_server.script({201, R"({"sid":"CA11111111111111111111111111111111","status":"queued"})"});
  const auto outcome = place(twilio);
  const auto* placed = std::get_if<Placed>(&outcome);
  BOOST_TEST_REQUIRE(placed != nullptr, describe(outcome));
  BOOST_TEST(placed->call_sid == "CA11111111111111111111111111111111");
  BOOST_TEST(placed->status == "queued");

  const auto requests = twilio_server.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const auto& request = requests[0];
  BOOST_TEST(request.method == "POST");
  BOOST_TEST(request.target == "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json");
  BOOST_TEST(request.header("Host") == "localhost:" + std::to_string(twilio_server.port()));
  BOOST_TEST(request.header("Authorization") == "Basic " + base64_encode(std::string(kAccountSid) + ":twilio-token"));
  BOOST_TEST(request.header("Content-Type") == "application/x-www-form-urlencoded");
  BOOST_TEST(request.header("Accept") == "application/json");
  BOOST_TEST(request.header("Content-Length") == std::to_string(request.body.size()));
  BOOST_TEST(request.body ==
             "To=%2B14155550123&From=%2B14155550100"
             "&Url=https%3A%2F%2Fcallgate.example.com%2Ftwiml%3FleadId%3Dlead-1"
             "&StatusCallback=https%3A%2F%2Fcallgate.example.com%2Fwebhook%2Ftwilio%3FleadId%3Dlead-1"
             "&StatusCallbackMethod=POST"
             "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing"
             "&StatusCallbackEvent=answered&StatusCallbackEvent=completed"
             "&Record=false");
}

BOOST_AUTO_TEST_CASE(twilio_optional_fields_follow_the_config) {
  twilio::settings_of(config).record_calls = true;
  twilio::settings_of(config).ring_timeout_seconds = 25;
  twilio::settings_of(config).time_limit_seconds = 600;
  twilio::settings_of(config).machine_detection = "Enable";
  twilio::settings_of(config).call_flow_url = "https://flows.example.com/voice?flow=7";
  twilio_server.script({201, R"({"sid":"CA22222222222222222222222222222222","status":"queued"})"});
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  const auto body = twilio_server.requests().at(0).body;
  BOOST_TEST(
      body.find("&Url=https%3A%2F%2Fflows.example.com%2Fvoice%3Fflow%3D7%26leadId%3Dlead-1&") != std::string::npos,
      body);
  // Recording on: both channels, and each step reported to callgate.
  BOOST_TEST(body.ends_with("&Record=true&Timeout=25&TimeLimit=600&MachineDetection=Enable"
                            "&RecordingChannels=dual"
                            "&RecordingStatusCallback=https%3A%2F%2Fcallgate.example.com%2Fwebhook%2Ftwilio%2Frecording"
                            "%3FleadId%3Dlead-1&RecordingStatusCallbackMethod=POST"
                            "&RecordingStatusCallbackEvent=in-progress&RecordingStatusCallbackEvent=completed"
                            "&RecordingStatusCallbackEvent=absent"),
             body);
}

BOOST_AUTO_TEST_CASE(twilio_errors_are_classified_by_what_they_mean) {
  twilio_server.script(
      {400,
       R"({"code":21211,"message":"The 'To' number is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400})"});
  twilio_server.script(
      {401,
       R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})"});
  twilio_server.script({429,
                        R"({"code":20429,"message":"Too Many Requests","status":429})",
                        "application/json",
                        {{"Retry-After", "7"}}});
  twilio_server.script({503, "upstream unavailable", "text/plain"});

  const auto invalid_number = place(twilio);
  const auto* rejected = std::get_if<Rejected>(&invalid_number);
  BOOST_TEST_REQUIRE(rejected != nullptr, describe(invalid_number));
  BOOST_TEST(rejected->code == 21211);
  BOOST_TEST(rejected->message == "The 'To' number is not a valid phone number.");
  BOOST_TEST(rejected->more_info == "https://www.twilio.com/docs/errors/21211");

  const auto bad_credentials = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Rejected>(bad_credentials), describe(bad_credentials));
  BOOST_TEST(std::get<Rejected>(bad_credentials).code == 20003);

  const auto too_many = place(twilio);
  const auto* retry = std::get_if<Retryable>(&too_many);
  BOOST_TEST_REQUIRE(retry != nullptr, describe(too_many));
  BOOST_TEST((retry->retry_after == std::chrono::seconds(7)));

  const auto unavailable = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Retryable>(unavailable), describe(unavailable));
  BOOST_TEST(!std::get<Retryable>(unavailable).retry_after.has_value());
  // Four answers over one kept-alive connection.
  BOOST_TEST(twilio_server.connections_accepted() == 1u);
  BOOST_TEST(client->statistics().connections_reused == 3u);
}

BOOST_AUTO_TEST_CASE(names_are_looked_up_once_and_closed_connections_replaced) {
  for (int index = 0; index < 3; ++index)
    twilio_server.script(
        {201, R"({"sid":"CA8888888888888888888888888888888)" + std::to_string(index) + R"(","status":"queued"})"});
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  client->close_idle_connections();
  BOOST_TEST(client->idle_connections() == 0u);
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  BOOST_TEST(client->statistics().dns_lookups == 1u);
  BOOST_TEST(client->statistics().connections_opened == 2u);
  BOOST_TEST(client->statistics().connections_reused == 1u);
  BOOST_TEST(twilio_server.connections_accepted() == 2u);
}

BOOST_AUTO_TEST_CASE(connections_opened_ahead_carry_the_first_calls_and_old_ones_are_renewed) {
  config.telephony.http_client.idle_timeout = Milliseconds(400);
  client = std::make_unique<http::HttpClient>(io, config.telephony.http_client);
  auto warm = [&](unsigned count) {
    std::optional<http::HttpClient::WarmUp> result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          result = co_await client->keep_warm(twilio::settings_of(config).api_base, count);
        },
        asio::detached);
    io.restart();
    io.run();
    BOOST_REQUIRE(result.has_value());
    return *result;
  };
  const auto first = warm(3);
  BOOST_TEST(first.opened == 3u);
  BOOST_TEST(first.replaced == 0u);
  BOOST_TEST(first.failure == "");
  BOOST_TEST(client->idle_connections() == 3u);
  BOOST_TEST(twilio_server.connections_accepted() == 3u);
  BOOST_TEST(twilio_server.requests().empty());  // handshakes only

  const auto again = warm(3);  // fresh: nothing to do
  BOOST_TEST(again.opened == 0u);
  BOOST_TEST(again.replaced == 0u);

  twilio_server.script({201, R"({"sid":"CA77777777777777777777777777777777","status":"queued"})"});
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  BOOST_TEST(client->statistics().connections_opened == 3u);
  BOOST_TEST(client->statistics().connections_reused == 1u);
  BOOST_TEST(twilio_server.connections_accepted() == 3u);  // the call rode one of them

  // Idle past half the idle timeout: the next pass would find them too old
  // to use, so this one replaces them.
  std::this_thread::sleep_for(250ms);
  const auto renewed = warm(3);
  BOOST_TEST(renewed.replaced == 3u);
  BOOST_TEST(renewed.opened == 3u);
  BOOST_TEST(client->idle_connections() == 3u);
  BOOST_TEST(twilio_server.connections_accepted() == 6u);

  // Never past the pool's cap.
  config.telephony.http_client.max_connections_per_host = 4;
  client = std::make_unique<http::HttpClient>(io, config.telephony.http_client);
  BOOST_TEST(warm(10).opened == 4u);
  BOOST_TEST(client->idle_connections() == 4u);
}

BOOST_AUTO_TEST_CASE(a_provider_out_of_reach_gets_no_connections_ahead_and_says_why) {
  unsigned short closed_port = 0;
  {
    FakeProviderServer gone(&testing::test_certificates());
    closed_port = gone.port();
  }
  std::optional<http::HttpClient::WarmUp> result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        result = co_await client->keep_warm("https://localhost:" + std::to_string(closed_port), 2);
      },
      asio::detached);
  io.run();
  BOOST_TEST_REQUIRE(result.has_value());
  BOOST_TEST(result->opened == 0u);
  BOOST_TEST(result->failure.find("cannot connect") != std::string::npos, result->failure);
  BOOST_TEST(client->idle_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(a_request_that_may_have_arrived_is_ambiguous) {
  ScriptedAnswer slow{201, R"({"sid":"CA33333333333333333333333333333333","status":"queued"})"};
  slow.delay = 1500ms;  // past the 600 ms request timeout
  twilio_server.script(slow);
  const auto timed_out = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Ambiguous>(timed_out), describe(timed_out));
  BOOST_TEST(std::get<Ambiguous>(timed_out).reason.find("timed out") != std::string::npos, describe(timed_out));

  ScriptedAnswer dropped;
  dropped.drop_after_request = true;
  twilio_server.script(dropped);
  const auto reset = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Ambiguous>(reset), describe(reset));

  twilio_server.script({201, "{\"status\":\"queued\"}"});
  const auto no_sid = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Ambiguous>(no_sid), describe(no_sid));

  twilio_server.script({201, std::string(2 * 1024 * 1024, 'x')});
  const auto too_large = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Ambiguous>(too_large), describe(too_large));
  BOOST_TEST(std::get<Ambiguous>(too_large).reason.find("larger than") != std::string::npos, describe(too_large));
}

BOOST_AUTO_TEST_CASE(a_request_that_never_left_is_retryable) {
  // Nothing listens on the port a finished server had.
  unsigned short closed_port = 0;
  {
    FakeProviderServer gone(&testing::test_certificates());
    closed_port = gone.port();
  }
  twilio::settings_of(config).api_base = "https://localhost:" + std::to_string(closed_port);
  const auto refused = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Retryable>(refused), describe(refused));
  BOOST_TEST(std::get<Retryable>(refused).reason.find("cannot connect") != std::string::npos, describe(refused));
}

BOOST_AUTO_TEST_CASE(a_server_the_ca_does_not_vouch_for_gets_nothing) {
  const auto untrusted = testing::untrusted_certificates();
  FakeProviderServer impostor(&untrusted);
  impostor.script({201, R"({"sid":"CA44444444444444444444444444444444","status":"queued"})"});
  twilio::settings_of(config).api_base = "https://localhost:" + std::to_string(impostor.port());
  const auto outcome = place(twilio);
  BOOST_TEST_REQUIRE(std::holds_alternative<Retryable>(outcome), describe(outcome));
  BOOST_TEST(std::get<Retryable>(outcome).reason.find("TLS handshake") != std::string::npos, describe(outcome));
  BOOST_TEST(impostor.requests().empty());
}

BOOST_AUTO_TEST_CASE(the_certificate_must_name_the_host) {
  // The test certificate names localhost and 127.0.0.1, not 127.0.0.2.
  twilio_server.script({201, R"({"sid":"CA55555555555555555555555555555555","status":"queued"})"});
  twilio::settings_of(config).api_base = "https://127.0.0.1:" + std::to_string(twilio_server.port());
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  FakeProviderServer other(&testing::test_certificates());
  twilio::settings_of(config).api_base = "https://127.0.0.2:" + std::to_string(other.port());
  const auto outcome = place(twilio);
  BOOST_TEST(std::holds_alternative<Retryable>(outcome), describe(outcome));
}

BOOST_AUTO_TEST_CASE(requests_beyond_the_pool_cap_wait_for_a_connection) {
  config.telephony.http_client.max_connections_per_host = 1;
  client = std::make_unique<http::HttpClient>(io, config.telephony.http_client);
  for (int index = 0; index < 3; ++index) {
    ScriptedAnswer answer{
        201, R"({"sid":"CA6666666666666666666666666666666)" + std::to_string(index) + R"(","status":"queued"})"};
    answer.delay = 50ms;
    twilio_server.script(answer);
  }
  std::vector<PlaceCallOutcome> outcomes;
  for (int index = 0; index < 3; ++index)
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          providers::CallOrder order{"lead", "+14155550123"};
          auto outcome = co_await providers::place_call(twilio, config, *client, std::move(order));
          outcomes.push_back(std::move(outcome));
        },
        asio::detached);
  io.restart();
  io.run();
  BOOST_TEST_REQUIRE(outcomes.size() == 3u);
  for (const auto& outcome : outcomes) BOOST_TEST(std::holds_alternative<Placed>(outcome), describe(outcome));
  BOOST_TEST(twilio_server.connections_accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(exotel_places_a_call_with_exactly_the_documented_request) {
  exotel_server.script(
      {200, R"({"Call":{"Sid":"b6cfaf2ba6f8e7ef1a8d5fbe1c2d3e4f","Status":"in-progress","To":null}})"});
  const auto outcome = place(exotel, "lead-2");
  const auto* placed = std::get_if<Placed>(&outcome);
  BOOST_TEST_REQUIRE(placed != nullptr, describe(outcome));
  BOOST_TEST(placed->call_sid == "b6cfaf2ba6f8e7ef1a8d5fbe1c2d3e4f");
  BOOST_TEST(placed->status == "in-progress");

  const auto requests = exotel_server.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const auto& request = requests[0];
  BOOST_TEST(request.method == "POST");
  BOOST_TEST(request.target == "/v1/Accounts/callgate1/Calls/connect.json");
  BOOST_TEST(request.header("Authorization") == "Basic " + base64_encode("exotel-key:exotel-token"));
  BOOST_TEST(request.header("Content-Type") == "application/x-www-form-urlencoded");
  BOOST_TEST(
      request.body ==
      "From=%2B14155550123&CallerId=08047112233"
      "&Url=http%3A%2F%2Fmy.exotel.com%2Fcallgate1%2Fexoml%2Fstart_voice%2F556677"
      "&CallType=trans"
      "&StatusCallback=https%3A%2F%2Fcallgate.example.com%2Fwebhook%2Fexotel%3FleadId%3Dlead-2%26token%3Dcb-token"
      "&StatusCallbackEvents%5B0%5D=terminal&StatusCallbackEvents%5B1%5D=answered"
      "&StatusCallbackContentType=application%2Fjson"
      "&CustomField=%7B%22leadId%22%3A%22lead-2%22%7D"
      "&Record=false");
}

BOOST_AUTO_TEST_CASE(exotel_answers_in_xml_and_errors_are_read_too) {
  exotel_server.script({200,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<TwilioResponse><Call><Sid>c0ffee11</Sid>"
                        "<Status>in-progress</Status></Call></TwilioResponse>",
                        "application/xml"});
  exotel_server.script({402, R"({"RestException":{"Status":402,"Message":"Plan limits exceeded","Code":402}})"});
  exotel_server.script({400,
                        "<TwilioResponse><RestException><Status>400</Status><Message>Invalid From</Message>"
                        "<Code>34001</Code></RestException></TwilioResponse>",
                        "application/xml"});
  exotel_server.script({429, R"({"RestException":{"Status":429,"Message":"Too many calls"}})"});

  const auto xml = place(exotel);
  BOOST_TEST_REQUIRE(std::holds_alternative<Placed>(xml), describe(xml));
  BOOST_TEST(std::get<Placed>(xml).call_sid == "c0ffee11");
  const auto no_funds = place(exotel);
  BOOST_TEST_REQUIRE(std::holds_alternative<Rejected>(no_funds), describe(no_funds));
  BOOST_TEST(std::get<Rejected>(no_funds).code == 402);
  BOOST_TEST(std::get<Rejected>(no_funds).message == "Plan limits exceeded");
  const auto invalid = place(exotel);
  BOOST_TEST_REQUIRE(std::holds_alternative<Rejected>(invalid), describe(invalid));
  BOOST_TEST(std::get<Rejected>(invalid).code == 34001);
  const auto busy = place(exotel);
  BOOST_TEST(std::holds_alternative<Retryable>(busy), describe(busy));
}

BOOST_AUTO_TEST_CASE(plain_http_is_used_only_when_the_base_url_says_so) {
  FakeProviderServer plain(nullptr);
  plain.script({201, R"({"sid":"CA77777777777777777777777777777777","status":"queued"})"});
  twilio::settings_of(config).api_base = "http://127.0.0.1:" + std::to_string(plain.port());
  BOOST_TEST(std::holds_alternative<Placed>(place(twilio)));
  // The same plain server under https:// fails the handshake instead of downgrading.
  twilio::settings_of(config).api_base = "https://127.0.0.1:" + std::to_string(plain.port());
  const auto outcome = place(twilio);
  BOOST_TEST(std::holds_alternative<Retryable>(outcome), describe(outcome));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
