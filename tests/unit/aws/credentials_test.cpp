// Reading AWS credentials from each source's own format, and when to look
// again. The fetching is tested against fakes in
// tests/integration/aws_credentials_test.cpp.
#include "aws/credentials.hpp"

#include "fake_environment.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace callgate;
using namespace callgate::aws;

namespace {

const SourcedCredentials& expect_credentials(const CredentialsResult& result) {
  if (const auto* problem = std::get_if<CredentialsProblem>(&result)) BOOST_FAIL("a problem: " + problem->message);
  return std::get<SourcedCredentials>(result);
}

std::string expect_problem(const CredentialsResult& result) {
  BOOST_TEST_REQUIRE(std::holds_alternative<CredentialsProblem>(result));
  return std::get<CredentialsProblem>(result).message;
}

const WallTime kNoon = *parse_iso8601("2026-12-07T12:00:00Z");

}  // namespace

BOOST_AUTO_TEST_SUITE(aws_credentials)

BOOST_AUTO_TEST_CASE(from_the_environment) {
  BOOST_TEST(!credentials_from_environment(testing::fake_environment({})).has_value());
  auto found = credentials_from_environment(testing::fake_environment(
      {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_SESSION_TOKEN", "tok"}}));
  BOOST_TEST_REQUIRE(found.has_value());
  const auto& credentials = expect_credentials(*found);
  BOOST_TEST(credentials.credentials.access_key_id == "AKID");
  BOOST_TEST(credentials.credentials.secret_access_key == "secret");
  BOOST_TEST(credentials.credentials.session_token == "tok");
  BOOST_TEST(!credentials.expires.has_value());
  BOOST_TEST(credentials.source == "environment");
  // Half a pair is a mistake to report, not a reason to look elsewhere.
  auto half = credentials_from_environment(testing::fake_environment({{"AWS_ACCESS_KEY_ID", "AKID"}}));
  BOOST_TEST_REQUIRE(half.has_value());
  BOOST_TEST(expect_problem(*half) == "AWS_SECRET_ACCESS_KEY is not set, but AWS_ACCESS_KEY_ID is");
}

BOOST_AUTO_TEST_CASE(from_a_profile_of_the_shared_file) {
  const std::string file =
      "# written by aws configure\n"
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key=secret-default\n"
      "\n"
      "[ callgate ]\r\n"
      "  AWS_ACCESS_KEY_ID =  AKIDCALLGATE  \r\n"
      "; a comment\n"
      "aws_secret_access_key = secret/with=equals\r\n"
      "aws_session_token = tok\n"
      "region = ap-south-1\n"
      "[broken]\n"
      "aws_access_key_id = AKIDONLY\n";
  const auto fallback = credentials_from_shared_file(file, "default");
  BOOST_TEST_REQUIRE(fallback.has_value());
  BOOST_TEST(expect_credentials(*fallback).credentials.access_key_id == "AKIDDEFAULT");
  BOOST_TEST(expect_credentials(*fallback).credentials.secret_access_key == "secret-default");
  BOOST_TEST(expect_credentials(*fallback).credentials.session_token.empty());

  const auto named = credentials_from_shared_file(file, "callgate");
  BOOST_TEST_REQUIRE(named.has_value());
  BOOST_TEST(expect_credentials(*named).credentials.access_key_id == "AKIDCALLGATE");
  BOOST_TEST(expect_credentials(*named).credentials.secret_access_key == "secret/with=equals");
  BOOST_TEST(expect_credentials(*named).credentials.session_token == "tok");
  BOOST_TEST(expect_credentials(*named).source == "shared file profile callgate");

  BOOST_TEST(!credentials_from_shared_file(file, "nobody").has_value());
  const auto broken = credentials_from_shared_file(file, "broken");
  BOOST_TEST_REQUIRE(broken.has_value());
  BOOST_TEST(expect_problem(*broken) ==
             "profile broken of the shared credentials file lacks aws_access_key_id or aws_secret_access_key");
  BOOST_TEST(!credentials_from_shared_file("", "default").has_value());
  BOOST_TEST(!credentials_from_shared_file("[default\naws_access_key_id=x\n", "default").has_value());
}

BOOST_AUTO_TEST_CASE(from_a_container_or_instance_document) {
  const auto imds = credentials_from_document(R"({
    "Code" : "Success",
    "LastUpdated" : "2026-12-07T11:50:00Z",
    "Type" : "AWS-HMAC",
    "AccessKeyId" : "ASIAROLE",
    "SecretAccessKey" : "role-secret",
    "Token" : "role-token",
    "Expiration" : "2026-12-07T18:00:00Z"
  })",
                                              "instance metadata role app");
  const auto& found = expect_credentials(imds);
  BOOST_TEST(found.credentials.access_key_id == "ASIAROLE");
  BOOST_TEST(found.credentials.session_token == "role-token");
  BOOST_TEST_REQUIRE(found.expires.has_value());
  BOOST_TEST(format_iso8601(*found.expires) == "2026-12-07T18:00:00.000Z");
  BOOST_TEST(found.source == "instance metadata role app");

  BOOST_TEST(expect_problem(credentials_from_document(R"({"Code":"AssumeRoleUnauthorizedAccess"})", "imds")) ==
             "imds answered Code AssumeRoleUnauthorizedAccess");
  BOOST_TEST(expect_problem(credentials_from_document("<html>", "container endpoint")) ==
             "container endpoint answered something that is not JSON");
  BOOST_TEST(expect_problem(credentials_from_document(R"({"AccessKeyId":"A"})", "x")) ==
             "x answered without AccessKeyId or SecretAccessKey");
  BOOST_TEST(expect_problem(credentials_from_document(
                 R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"})", "x")) ==
             "x answered an Expiration that is not an ISO 8601 time");
  BOOST_TEST(expect_problem(credentials_from_document(R"({"AccessKeyId":5,"SecretAccessKey":"S"})", "x")) ==
             "x answered without AccessKeyId or SecretAccessKey");
}

BOOST_AUTO_TEST_CASE(where_the_container_endpoint_is) {
  const ReadTextFile no_files = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  BOOST_TEST(!container_endpoint(testing::fake_environment({}), no_files).has_value());

  auto relative =
      container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer t"}}),
                         no_files);
  BOOST_TEST_REQUIRE(relative.has_value());
  BOOST_TEST(std::get<ContainerEndpoint>(*relative).url == "http://169.254.170.2/v2/credentials/abc");
  BOOST_TEST(std::get<ContainerEndpoint>(*relative).authorization == "Bearer t");

  const ReadTextFile token_file = [](const std::string& path) -> std::optional<std::string> {
    if (path == "/var/run/token") return std::string("from-file\n");
    return std::nullopt;
  };
  for (const auto* allowed : {"http://127.0.0.1:9911/creds", "http://localhost/creds", "http://[::1]:80/c",
                              "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
                              "https://credentials.example.com/c"}) {
    auto full =
        container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed},
                                                      {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token"}}),
                           token_file);
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST_REQUIRE(std::holds_alternative<ContainerEndpoint>(*full), allowed);
    BOOST_TEST(std::get<ContainerEndpoint>(*full).url == allowed);
    BOOST_TEST(std::get<ContainerEndpoint>(*full).authorization == "from-file");
  }
  for (const auto* refused : {"http://credentials.example.com/c", "http://10.0.0.8/c", "ftp://127.0.0.1/c", "nope"}) {
    auto full =
        container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", refused}}), no_files);
    BOOST_TEST_REQUIRE(full.has_value());
    BOOST_TEST(std::holds_alternative<CredentialsProblem>(*full), refused);
  }
  auto unreadable =
      container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"},
                                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/missing"}}),
                         no_files);
  BOOST_TEST(std::get<CredentialsProblem>(*unreadable).message ==
             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read");
  // A token that would end the header early and start another.
  auto split = container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"},
                                                             {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "t\r\nX-Evil: 1"}}),
                                  no_files);
  BOOST_TEST(std::holds_alternative<CredentialsProblem>(*split));
  auto not_absolute =
      container_endpoint(testing::fake_environment({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "c"}}), no_files);
  BOOST_TEST(std::holds_alternative<CredentialsProblem>(*not_absolute));
}

BOOST_AUTO_TEST_CASE(when_to_look_again) {
  SourcedCredentials keys;
  BOOST_TEST(!next_refresh(keys, kNoon).has_value());
  keys.expires = kNoon + std::chrono::minutes(30);
  BOOST_TEST((*next_refresh(keys, kNoon) == kNoon + std::chrono::minutes(25)));
  keys.expires = kNoon + std::chrono::hours(6);
  BOOST_TEST((*next_refresh(keys, kNoon) == kNoon + std::chrono::hours(1)));
  keys.expires = kNoon + std::chrono::minutes(2);  // already inside the last five minutes
  BOOST_TEST((*next_refresh(keys, kNoon) == kNoon));
}

BOOST_AUTO_TEST_SUITE_END()
