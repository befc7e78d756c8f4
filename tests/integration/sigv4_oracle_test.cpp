// callgate's Signature Version 4 signer (src/aws/sigv4.cpp) against the one
// inside AWS's SDK for JavaScript (npm @smithy/signature-v4, installed by
// scripts/setup into tests/aws): the same requests, DynamoDB's and a few
// hundred random ones, must come out with the same X-Amz-Date,
// X-Amz-Security-Token and Authorization, byte for byte.
#include "aws/sigv4.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace callgate {
namespace {

namespace json = boost::json;

struct OracleCase {
  aws::SignableRequest request;  // without X-Amz-Date, token or Authorization
  std::string body;
  aws::Credentials credentials;
  aws::Scope scope;
  WallTime time;
};

// Characters, each whole (several bytes for one outside ASCII).
using Alphabet = std::vector<std::string>;

Alphabet alphabet(std::string_view ascii, std::vector<std::string> others = {}) {
  Alphabet letters;
  for (const char c : ascii) letters.emplace_back(1, c);
  for (auto& other : others) letters.push_back(std::move(other));
  return letters;
}

std::string random_text(std::mt19937& random, const Alphabet& letters, std::size_t min_length, std::size_t max_length) {
  std::uniform_int_distribution<std::size_t> length(min_length, max_length);
  std::uniform_int_distribution<std::size_t> pick(0, letters.size() - 1);
  std::string text;
  for (std::size_t count = length(random); count > 0; --count) text += letters[pick(random)];
  return text;
}

// The DynamoDB requests the store will send, and random ones: header names
// of letters, digits and dashes, values of printable ASCII with runs of
// blanks, query keys of unreserved characters (the SDK sorts keys before
// encoding them, the specification after: the same for these) and values of
// anything printable, UTF-8 paths.
std::vector<OracleCase> oracle_cases() {
  std::vector<OracleCase> cases;
  const aws::Credentials permanent{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const aws::Credentials temporary{"ASIAEXAMPLE", "secret/with+slashes=", "IQoJb3JpZ2luX2VjE//token=="};
  for (const auto* operation : {"GetItem", "UpdateItem", "TransactWriteItems", "Query"}) {
    OracleCase dynamodb;
    dynamodb.request.headers = {{"Host", "dynamodb.ap-south-1.amazonaws.com"},
                                {"Content-Type", "application/x-amz-json-1.0"},
                                {"X-Amz-Target", std::string("DynamoDB_20120810.") + operation}};
    dynamodb.body = R"({"TableName":"callgate","Key":{"pk":{"S":"lead#01JD3ZQ8X4V0R5M2K7N9P6T1YB"}}})";
    dynamodb.credentials = std::string(operation) == "Query" ? permanent : temporary;
    dynamodb.scope = {"ap-south-1", "dynamodb"};
    dynamodb.time = WallTime(std::chrono::seconds(1'796'000'000));
    cases.push_back(std::move(dynamodb));
  }

  std::mt19937 random(20261207);
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string printable;
  for (char c = ' '; c <= '~'; ++c) printable.push_back(c);
  const std::vector<std::string> beyond_ascii = {"\xc3\xa9", "\xe1\x88\xb4", "\xf0\x9f\x93\x9e"};  // é, ሴ, a telephone
  const auto path_letters = alphabet(letters + "-._~ %", beyond_ascii);
  const auto header_names = alphabet(letters + "-");
  const auto header_values = alphabet(printable + "  \t");
  const auto query_keys = alphabet(letters + "-._~");
  const auto query_values = alphabet(printable, beyond_ascii);
  const auto body_letters = alphabet(printable + "\n", beyond_ascii);
  for (int index = 0; index < 300; ++index) {
    OracleCase drawn;
    drawn.request.method = index % 3 == 0 ? "GET" : "POST";
    drawn.request.path = "/";
    for (int segment = static_cast<int>(random() % 3); segment > 0; --segment)
      drawn.request.path += random_text(random, path_letters, 1, 8) + "/";
    std::set<std::string> names = {"host", "x-amz-date", "x-amz-security-token", "authorization"};
    drawn.request.headers = {{"Host", "example" + std::to_string(index) + ".amazonaws.com"}};
    for (int header = static_cast<int>(random() % 5); header > 0; --header) {
      auto name = "x-" + random_text(random, header_names, 1, 12);
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!names.insert(lower).second) continue;
      drawn.request.headers.emplace_back(name, random_text(random, header_values, 0, 30));
    }
    std::set<std::string> keys;
    for (int parameter = static_cast<int>(random() % 4); parameter > 0; --parameter) {
      auto key = random_text(random, query_keys, 1, 10);
      if (keys.insert(key).second) drawn.request.query.emplace_back(key, random_text(random, query_values, 0, 20));
    }
    drawn.body = random_text(random, body_letters, 0, 200);
    drawn.credentials = index % 2 == 0 ? permanent : temporary;
    drawn.scope = {index % 2 == 0 ? "us-east-1" : "eu-west-3", index % 4 == 0 ? "dynamodb" : "service"};
    drawn.time = WallTime(std::chrono::seconds(1'500'000'000 + static_cast<std::int64_t>(random() % 400'000'000)));
    cases.push_back(std::move(drawn));
  }
  return cases;
}

std::string oracle_input(const OracleCase& oracle) {
  json::object headers;
  for (const auto& [name, value] : oracle.request.headers) headers[name] = value;
  json::object query;
  for (const auto& [name, value] : oracle.request.query) query[name] = value;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(oracle.time.time_since_epoch()).count();
  json::object line{{"method", oracle.request.method},
                    {"hostname", oracle.request.headers.front().second},
                    {"path", oracle.request.path},
                    {"query", std::move(query)},
                    {"headers", std::move(headers)},
                    {"body", oracle.body},
                    {"accessKeyId", oracle.credentials.access_key_id},
                    {"secretAccessKey", oracle.credentials.secret_access_key},
                    {"sessionToken", oracle.credentials.session_token},
                    {"region", oracle.scope.region},
                    {"service", oracle.scope.service},
                    {"time", ms}};
  return json::serialize(line);
}

std::string header_of(const aws::SignableRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers)
    if (header == name) return value;
  return "(none)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4_oracle)

BOOST_AUTO_TEST_CASE(the_sdks_signer_agrees_byte_for_byte) {
  const std::filesystem::path folder = std::filesystem::path(CALLGATE_SOURCE_DIR) / "tests" / "aws";
  BOOST_TEST_REQUIRE(std::filesystem::exists(folder / "node_modules" / "@smithy" / "signature-v4"),
                     "the SDK's signer is not installed: run scripts/setup aws (scripts/test does)");
  auto cases = oracle_cases();
  const auto work = std::filesystem::temp_directory_path() / ("callgate-sigv4-" + std::to_string(::getpid()));
  std::filesystem::create_directories(work);
  {
    std::ofstream input(work / "requests.jsonl");
    for (const auto& oracle : cases) input << oracle_input(oracle) << "\n";
  }
  const auto command = "node '" + (folder / "sigv4_oracle.mjs").string() + "' < '" +
                       (work / "requests.jsonl").string() + "' > '" + (work / "signed.jsonl").string() + "'";
  BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0, command);

  std::ifstream signed_file(work / "signed.jsonl");
  std::string line;
  std::size_t index = 0;
  std::size_t agreed = 0;
  while (std::getline(signed_file, line)) {
    BOOST_TEST_REQUIRE(index < cases.size());
    auto& oracle = cases[index];
    oracle.request.body = oracle.body;
    aws::sign(oracle.request, oracle.credentials, oracle.scope, oracle.time);
    const auto theirs = json::parse(line).as_object();
    const auto their = [&](const char* name) -> std::string {
      const auto* value = theirs.if_contains(name);
      return value ? std::string(value->as_string()) : std::string("(none)");
    };
    const std::string context = "case " + std::to_string(index) + ": " + oracle_input(oracle);
    BOOST_TEST(header_of(oracle.request, "X-Amz-Date") == their("x-amz-date"), context);
    BOOST_TEST(header_of(oracle.request, "X-Amz-Security-Token") == their("x-amz-security-token"), context);
    const bool same = header_of(oracle.request, "Authorization") == their("authorization");
    BOOST_TEST(same, context << "\n ours:   " << header_of(oracle.request, "Authorization")
                             << "\n theirs: " << their("authorization"));
    agreed += same ? 1 : 0;
    ++index;
  }
  BOOST_TEST(index == cases.size());
  BOOST_TEST_MESSAGE("sigv4 oracle: " << agreed << " of " << cases.size() << " signatures the same as the SDK's");
  std::filesystem::remove_all(work);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
