// What callgate sends DynamoDB and how it reads every kind of answer; the
// retries themselves are tested against a fake on loopback
// (tests/integration/dynamodb_client_test.cpp).
#include "aws/dynamodb_client.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::aws;

namespace {

http::ClientResponse answered(unsigned status, std::string body) {
  http::ClientResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "application/x-amz-json-1.0";
  return response;
}

std::string header(const http::ClientRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers)
    if (key == name) return value;
  return "(none)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamodb_client)

BOOST_AUTO_TEST_CASE(a_request_is_a_signed_post_to_the_root) {
  const Credentials temporary{"ASIAEXAMPLE", "secret", "session"};
  const auto request =
      dynamodb_request({"https://dynamodb.ap-south-1.amazonaws.com/", "ap-south-1"}, "GetItem",
                       R"({"TableName":"callgate"})", temporary, WallTime(std::chrono::seconds(1'796'000'000)));
  BOOST_TEST((request.method == boost::beast::http::verb::post));
  BOOST_TEST(request.url == "https://dynamodb.ap-south-1.amazonaws.com/");
  BOOST_TEST(request.body == R"({"TableName":"callgate"})");
  BOOST_TEST(header(request, "Content-Type") == "application/x-amz-json-1.0");
  BOOST_TEST(header(request, "X-Amz-Target") == "DynamoDB_20120810.GetItem");
  BOOST_TEST(header(request, "X-Amz-Date") == "20261130T005320Z");  // 1'796'000'000 s
  BOOST_TEST(header(request, "X-Amz-Security-Token") == "session");
  BOOST_TEST(header(request, "Host") == "(none)");  // the client writes it
  // The signature covers the Host the client will write, the body and the target.
  SignableRequest signable;
  signable.headers = {{"Host", "dynamodb.ap-south-1.amazonaws.com"},
                      {"Content-Type", "application/x-amz-json-1.0"},
                      {"X-Amz-Target", "DynamoDB_20120810.GetItem"},
                      {"X-Amz-Date", "20261130T005320Z"},
                      {"X-Amz-Security-Token", "session"}};
  signable.body = request.body;
  BOOST_TEST(header(request, "Authorization") == authorization(signable, temporary, {"ap-south-1", "dynamodb"}));
  BOOST_TEST(header(request, "Authorization")
                 .find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                       "x-amz-target,") != std::string::npos);
  // DynamoDB Local on a port: the port is part of the signed Host.
  const auto local = dynamodb_request({"http://127.0.0.1:8000", "us-east-1"}, "Query", "{}", temporary,
                                      WallTime(std::chrono::seconds(1'796'000'000)));
  BOOST_TEST(local.url == "http://127.0.0.1:8000/");
  signable.headers[0].second = "127.0.0.1:8000";
  signable.headers[2].second = "DynamoDB_20120810.Query";
  signable.body = "{}";
  BOOST_TEST(header(local, "Authorization") == authorization(signable, temporary, {"us-east-1", "dynamodb"}));
}

BOOST_AUTO_TEST_CASE(which_endpoints_may_be_used) {
  BOOST_TEST(regional_endpoint("ap-south-1") == "https://dynamodb.ap-south-1.amazonaws.com");
  for (const auto* allowed : {"https://dynamodb.ap-south-1.amazonaws.com", "http://127.0.0.1:8000",
                              "http://localhost:8000", "http://[::1]:8000"})
    BOOST_TEST(endpoint_allowed(allowed), allowed);
  // Plain http anywhere but this host would send signed writes in the clear.
  for (const auto* refused : {"http://dynamodb.example.com", "http://10.0.0.5:8000", "ftp://127.0.0.1",
                              "https://user:pw@dynamodb.example.com", "https://x.example.com/?a=b", "not a url"})
    BOOST_TEST(!endpoint_allowed(refused), refused);
}

BOOST_AUTO_TEST_CASE(every_kind_of_answer) {
  const auto ok = read_dynamodb_answer(answered(200, R"({"Item":{"pk":{"S":"lead#1"}}})"));
  BOOST_TEST((ok.outcome == DynamoOutcome::ok));
  BOOST_TEST(ok.body.at("Item").at("pk").at("S").as_string() == "lead#1");

  const auto condition = read_dynamodb_answer(answered(
      400,
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"v":{"N":"3"}}})"));
  BOOST_TEST((condition.outcome == DynamoOutcome::condition_failed));
  BOOST_TEST(condition.error_type == "ConditionalCheckFailedException");
  BOOST_TEST(condition.message == "The conditional request failed");
  BOOST_TEST(condition.body.at("Item").at("v").at("N").as_string() == "3");  // ALL_OLD: no read needed

  // DynamoDB Local's capital M.
  const auto local = read_dynamodb_answer(answered(
      400,
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"Cannot do operations on a non-existent table"})"));
  BOOST_TEST((local.outcome == DynamoOutcome::failed));
  BOOST_TEST(local.message == "Cannot do operations on a non-existent table");

  const auto canceled = read_dynamodb_answer(answered(
      400,
      R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"TransactionConflict"}]})"));
  BOOST_TEST((canceled.outcome == DynamoOutcome::transaction_canceled));
  BOOST_TEST(canceled.cancellation_reasons ==
             (std::vector<std::string>{"None", "ConditionalCheckFailed", "TransactionConflict"}));

  for (const auto* throttled : {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                                "InternalServerError"}) {
    const auto answer = read_dynamodb_answer(
        answered(400, std::string(R"({"__type":"com.amazonaws.dynamodb.v20120810#)") + throttled + R"("})"));
    BOOST_TEST((answer.outcome == DynamoOutcome::retry), throttled);
    BOOST_TEST(answer.message == "HTTP 400");
  }
  BOOST_TEST((read_dynamodb_answer(answered(503, "<html>busy</html>")).outcome == DynamoOutcome::retry));
  BOOST_TEST((read_dynamodb_answer(answered(400, R"({"__type":"...#ValidationException","message":"bad"})")).outcome ==
              DynamoOutcome::failed));
  BOOST_TEST((read_dynamodb_answer(answered(403, R"({"__type":"...#UnrecognizedClientException"})")).outcome ==
              DynamoOutcome::failed));
  BOOST_TEST((read_dynamodb_answer(answered(400, "not json")).outcome == DynamoOutcome::failed));
  // A 200 that cannot be read may still have been applied.
  BOOST_TEST((read_dynamodb_answer(answered(200, "{truncated")).outcome == DynamoOutcome::maybe_applied));

  http::ClientResponse unsent;
  unsent.failure = http::TransportFailure::before_sending;
  unsent.failure_reason = "connection refused";
  BOOST_TEST((read_dynamodb_answer(unsent).outcome == DynamoOutcome::retry));
  http::ClientResponse lost = unsent;
  lost.failure = http::TransportFailure::after_sending;
  lost.failure_reason = "timed out";
  const auto maybe = read_dynamodb_answer(lost);
  BOOST_TEST((maybe.outcome == DynamoOutcome::maybe_applied));
  BOOST_TEST(maybe.message == "timed out");
}

BOOST_AUTO_TEST_CASE(backoff_is_capped_exponential_with_full_jitter) {
  const DynamoRetryPolicy policy{std::chrono::milliseconds(25), std::chrono::milliseconds(1'000), 10};
  std::mt19937_64 random(7);
  for (int retry = 0; retry < 12; ++retry) {
    std::int64_t highest = 0;
    std::int64_t lowest = 1'000'000;
    for (int draw = 0; draw < 2'000; ++draw) {
      const auto delay = backoff_delay(policy, retry, random).count();
      highest = std::max(highest, delay);
      lowest = std::min(lowest, delay);
    }
    const auto ceiling = std::min<std::int64_t>(1'000, 25LL << retry);
    BOOST_TEST(highest <= ceiling);
    BOOST_TEST(highest >= ceiling * 9 / 10);  // reaches near its ceiling
    BOOST_TEST(lowest <= ceiling / 10);       // and near zero: full jitter
  }
  BOOST_TEST(backoff_delay(policy, 1'000, random).count() <= 1'000);  // no overflow far out
}

BOOST_AUTO_TEST_SUITE_END()
