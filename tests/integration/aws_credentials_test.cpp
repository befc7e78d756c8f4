// The credential chain against fakes on loopback: what each source is sent
// (every header checked), which source wins, what an operator reads when
// none has credentials, and a refresh before expiry.
#include "aws/credentials.hpp"

#include "eventually.hpp"
#include "fake_environment.hpp"
#include "fake_provider_server.hpp"
#include "loopback_port.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <thread>

namespace callgate {
namespace {

using testing::FakeProviderServer;
using testing::ScriptedAnswer;

const aws::ReadTextFile kNoFiles = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };

std::string role_document(std::string_view key, std::string_view expiration) {
  return R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":")" + std::string(key) +
         R"(","SecretAccessKey":"role-secret","Token":"role-token","Expiration":")" + std::string(expiration) + R"("})";
}

struct ChainBench {
  boost::asio::io_context io{1};
  FakeProviderServer endpoint{nullptr};  // plain HTTP, as the metadata services are
  HttpClientConfig client_config = [] {
    HttpClientConfig config;
    config.connect_timeout = Milliseconds(1'000);
    config.request_timeout = Milliseconds(1'000);
    config.total_timeout = Milliseconds(2'000);
    return config;
  }();
  http::HttpClient client{io, client_config};

  std::string base() const { return "http://127.0.0.1:" + std::to_string(endpoint.port()); }

  aws::CredentialsResult find(std::map<std::string, std::string> variables, aws::ReadTextFile files = kNoFiles) {
    aws::CredentialChainOptions options{testing::fake_environment(std::move(variables)), std::move(files),
                                        "/nonexistent-home"};
    auto result = boost::asio::co_spawn(io, aws::find_credentials(options, client), boost::asio::use_future);
    io.restart();
    io.run();
    return result.get();
  }
};

const aws::SourcedCredentials& expect_credentials(const aws::CredentialsResult& result) {
  if (const auto* problem = std::get_if<aws::CredentialsProblem>(&result)) BOOST_FAIL("a problem: " + problem->message);
  return std::get<aws::SourcedCredentials>(result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aws_credentials_chain)

BOOST_AUTO_TEST_CASE(the_environment_comes_first_and_nothing_is_fetched) {
  ChainBench bench;
  const auto found = bench.find({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                 {"AWS_SECRET_ACCESS_KEY", "secret"},
                                 {"AWS_CONTAINER_CREDENTIALS_FULL_URI", bench.base() + "/creds"},
                                 {"AWS_EC2_METADATA_SERVICE_ENDPOINT", bench.base()}});
  BOOST_TEST(expect_credentials(found).credentials.access_key_id == "AKIDENV");
  BOOST_TEST(bench.endpoint.requests().empty());
}

BOOST_AUTO_TEST_CASE(the_shared_file_comes_before_the_endpoints) {
  ChainBench bench;
  const aws::ReadTextFile files = [](const std::string& path) -> std::optional<std::string> {
    if (path == "/etc/callgate/aws-credentials")
      return std::string("[callgate]\naws_access_key_id=AKIDFILE\naws_secret_access_key=s\n");
    return std::nullopt;
  };
  const auto found = bench.find({{"AWS_SHARED_CREDENTIALS_FILE", "/etc/callgate/aws-credentials"},
                                 {"AWS_PROFILE", "callgate"},
                                 {"AWS_CONTAINER_CREDENTIALS_FULL_URI", bench.base() + "/creds"}},
                                files);
  BOOST_TEST(expect_credentials(found).source == "shared file profile callgate");
  BOOST_TEST(bench.endpoint.requests().empty());
  // A file named on purpose and not readable is an error, not a reason to look further.
  const auto missing = bench.find({{"AWS_SHARED_CREDENTIALS_FILE", "/etc/callgate/missing"},
                                   {"AWS_CONTAINER_CREDENTIALS_FULL_URI", bench.base() + "/creds"}});
  BOOST_TEST(std::get<aws::CredentialsProblem>(missing).message ==
             "AWS_SHARED_CREDENTIALS_FILE /etc/callgate/missing cannot be read");
  BOOST_TEST(bench.endpoint.requests().empty());
}

BOOST_AUTO_TEST_CASE(the_container_endpoint_is_asked_with_its_token) {
  ChainBench bench;
  bench.endpoint.script(ScriptedAnswer(200, role_document("ASIACONTAINER", "2030-01-01T00:00:00Z")));
  const auto found = bench.find({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", bench.base() + "/v2/credentials/task"},
                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-token"}});
  const auto& credentials = expect_credentials(found);
  BOOST_TEST(credentials.credentials.access_key_id == "ASIACONTAINER");
  BOOST_TEST(credentials.credentials.session_token == "role-token");
  BOOST_TEST(format_iso8601(*credentials.expires) == "2030-01-01T00:00:00.000Z");
  BOOST_TEST(credentials.source == "container endpoint");
  const auto requests = bench.endpoint.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].method == "GET");
  BOOST_TEST(requests[0].target == "/v2/credentials/task");
  BOOST_TEST(requests[0].header("Authorization") == "Bearer container-token");
  BOOST_TEST(requests[0].body.empty());

  ChainBench refused;
  refused.endpoint.script(ScriptedAnswer(403, R"({"message":"no"})"));
  const auto problem = refused.find({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", refused.base() + "/c"}});
  BOOST_TEST(std::get<aws::CredentialsProblem>(problem).message ==
             "the container credentials endpoint answered HTTP 403");
}

BOOST_AUTO_TEST_CASE(instance_metadata_takes_a_session_token_then_the_role) {
  ChainBench bench;
  bench.endpoint.script(ScriptedAnswer(200, "imds-session-token", "text/plain"));
  bench.endpoint.script(ScriptedAnswer(200, "callgate-role\n", "text/plain"));
  bench.endpoint.script(ScriptedAnswer(200, role_document("ASIAINSTANCE", "2030-01-01T00:00:00Z")));
  const auto found = bench.find({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", bench.base() + "/"}});
  const auto& credentials = expect_credentials(found);
  BOOST_TEST(credentials.credentials.access_key_id == "ASIAINSTANCE");
  BOOST_TEST(credentials.source == "instance metadata role callgate-role");
  const auto requests = bench.endpoint.requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  BOOST_TEST(requests[0].method == "PUT");
  BOOST_TEST(requests[0].target == "/latest/api/token");
  BOOST_TEST(requests[0].header("X-aws-ec2-metadata-token-ttl-seconds") == "21600");
  BOOST_TEST(requests[0].header("X-aws-ec2-metadata-token").empty());
  BOOST_TEST(requests[1].method == "GET");
  BOOST_TEST(requests[1].target == "/latest/meta-data/iam/security-credentials/");
  BOOST_TEST(requests[1].header("X-aws-ec2-metadata-token") == "imds-session-token");
  BOOST_TEST(requests[2].target == "/latest/meta-data/iam/security-credentials/callgate-role");
  BOOST_TEST(requests[2].header("X-aws-ec2-metadata-token") == "imds-session-token");
}

BOOST_AUTO_TEST_CASE(a_hostile_metadata_answer_names_no_path) {
  ChainBench bench;
  bench.endpoint.script(ScriptedAnswer(200, "token", "text/plain"));
  bench.endpoint.script(ScriptedAnswer(200, "../../user-data", "text/plain"));
  const auto found = bench.find({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", bench.base()}});
  BOOST_TEST(std::get<aws::CredentialsProblem>(found).message ==
             "no AWS credentials found; tried environment (AWS_ACCESS_KEY_ID not set); shared file "
             "/nonexistent-home/.aws/credentials (none); container endpoint (not set); instance metadata (the "
             "instance metadata named no usable role)");
  BOOST_TEST(bench.endpoint.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(nowhere_to_be_found_says_where_it_looked) {
  ChainBench bench;
  const auto closed = testing::free_loopback_port();
  const auto found = bench.find({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(closed)}});
  const auto message = std::get<aws::CredentialsProblem>(found).message;
  BOOST_TEST(message.starts_with("no AWS credentials found; tried environment (AWS_ACCESS_KEY_ID not set); "), message);
  BOOST_TEST(message.find("instance metadata (no instance metadata session token: ") != std::string::npos, message);
  const auto disabled = bench.find({{"AWS_EC2_METADATA_DISABLED", "true"}});
  BOOST_TEST(
      std::get<aws::CredentialsProblem>(disabled).message.ends_with("instance metadata (AWS_EC2_METADATA_DISABLED)"));
}

BOOST_AUTO_TEST_CASE(temporary_credentials_are_replaced_before_they_expire) {
  ChainBench bench;
  // 5 minutes and 1 second left: the refresh is due in a second.
  const auto soon = format_iso8601(WallClock::now() + std::chrono::seconds(301));
  bench.endpoint.script(ScriptedAnswer(500, "busy"));  // the first refresh fails and is tried again
  bench.endpoint.script(ScriptedAnswer(200, role_document("ASIASECOND", "2030-01-01T00:00:00Z")));
  aws::SourcedCredentials first;
  first.credentials = {"ASIAFIRST", "s", "t"};
  first.expires = parse_iso8601(soon);
  first.source = "container endpoint";
  aws::CredentialCache cache(first);
  StopSignal stop(bench.io.get_executor());
  aws::CredentialChainOptions options{
      testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", bench.base() + "/creds"}}), kNoFiles, ""};
  auto done = boost::asio::co_spawn(
      bench.io, aws::keep_credentials_fresh(cache, options, bench.client, stop.token(), system_clock()),
      boost::asio::use_future);
  std::thread runner([&] { bench.io.run(); });
  const bool refreshed = testing::eventually([&] { return cache.current().credentials.access_key_id == "ASIASECOND"; },
                                             std::chrono::seconds(20));
  stop.stop();  // wakes the loop from its wait for the next refresh
  runner.join();
  done.get();
  BOOST_TEST(refreshed);
  BOOST_TEST(bench.endpoint.requests().size() == 2u);
  BOOST_TEST(cache.current().source == "container endpoint");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
