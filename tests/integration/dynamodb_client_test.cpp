// The DynamoDB client's tries against a fake DynamoDB on loopback: throttled
// and failing answers tried again, signed afresh each time, within the
// deadline; answers that are answers taken at once; a request that may have
// landed reported as such.
#include "aws/dynamodb_client.hpp"

#include "fake_provider_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

namespace callgate {
namespace {

using testing::FakeProviderServer;
using testing::ScriptedAnswer;
using namespace std::chrono_literals;

ScriptedAnswer dynamo_error(unsigned status, std::string_view type) {
  return ScriptedAnswer(status, R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + std::string(type) + R"("})",
                        "application/x-amz-json-1.0");
}

struct DynamoBench {
  boost::asio::io_context io{1};
  FakeProviderServer dynamodb{nullptr};
  HttpClientConfig client_config = [] {
    HttpClientConfig config;
    config.connect_timeout = Milliseconds(1'000);
    config.request_timeout = Milliseconds(500);
    config.total_timeout = Milliseconds(1'000);
    return config;
  }();
  http::HttpClient client{io, client_config};
  int credential_reads = 0;
  aws::DynamoDbClient dynamo{client,
                             {"http://127.0.0.1:" + std::to_string(dynamodb.port()), "us-east-1"},
                             [this] {
                               ++credential_reads;
                               return aws::Credentials{"AKIDTEST", "secret", ""};
                             },
                             {5ms, 40ms, 6}};

  aws::DynamoAnswer call(std::chrono::milliseconds budget = 5s) {
    auto answer = boost::asio::co_spawn(
        io, dynamo.call("UpdateItem", R"({"TableName":"callgate"})", std::chrono::steady_clock::now() + budget),
        boost::asio::use_future);
    io.restart();
    io.run();
    return answer.get();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamodb_client_tries)

BOOST_AUTO_TEST_CASE(throttling_is_tried_again_and_each_try_is_signed_afresh) {
  DynamoBench bench;
  bench.dynamodb.script(dynamo_error(400, "ProvisionedThroughputExceededException"));
  bench.dynamodb.script(dynamo_error(500, "InternalServerError"));
  bench.dynamodb.script(ScriptedAnswer(200, R"({"Attributes":{"v":{"N":"2"}}})", "application/x-amz-json-1.0"));
  const auto answer = bench.call();
  BOOST_TEST((answer.outcome == aws::DynamoOutcome::ok));
  BOOST_TEST(answer.tries == 3);
  BOOST_TEST(answer.body.at("Attributes").at("v").at("N").as_string() == "2");
  BOOST_TEST(bench.credential_reads == 3);
  const auto requests = bench.dynamodb.requests();
  BOOST_TEST_REQUIRE(requests.size() == 3u);
  for (const auto& request : requests) {
    BOOST_TEST(request.method == "POST");
    BOOST_TEST(request.target == "/");
    BOOST_TEST(request.body == R"({"TableName":"callgate"})");
    BOOST_TEST(request.header("Host") == "127.0.0.1:" + std::to_string(bench.dynamodb.port()));
    BOOST_TEST(request.header("Content-Type") == "application/x-amz-json-1.0");
    BOOST_TEST(request.header("X-Amz-Target") == "DynamoDB_20120810.UpdateItem");
    // The signature the fake received is the one its own bytes call for.
    aws::SignableRequest signable;
    signable.headers = {{"Host", request.header("Host")},
                        {"Content-Type", request.header("Content-Type")},
                        {"X-Amz-Target", request.header("X-Amz-Target")},
                        {"X-Amz-Date", request.header("X-Amz-Date")}};
    signable.body = request.body;
    BOOST_TEST(request.header("Authorization") ==
               aws::authorization(signable, {"AKIDTEST", "secret", ""}, {"us-east-1", "dynamodb"}));
  }
}

BOOST_AUTO_TEST_CASE(answers_are_taken_at_once) {
  DynamoBench bench;
  bench.dynamodb.script(dynamo_error(400, "ConditionalCheckFailedException"));
  BOOST_TEST((bench.call().outcome == aws::DynamoOutcome::condition_failed));
  bench.dynamodb.script(dynamo_error(400, "ValidationException"));
  const auto invalid = bench.call();
  BOOST_TEST((invalid.outcome == aws::DynamoOutcome::failed));
  BOOST_TEST(invalid.error_type == "ValidationException");
  BOOST_TEST(bench.dynamodb.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(tries_stop_at_the_deadline_or_the_limit) {
  DynamoBench bench;
  bench.dynamodb.respond_with([](const testing::RecordedRequest&) { return dynamo_error(400, "ThrottlingException"); });
  const auto limited = bench.call(10s);
  BOOST_TEST((limited.outcome == aws::DynamoOutcome::retry));
  BOOST_TEST(limited.tries == 6);  // max_tries
  BOOST_TEST(bench.dynamodb.requests().size() == 6u);

  bench.dynamodb.respond_with([](const testing::RecordedRequest&) {
    auto answer = dynamo_error(503, "ServiceUnavailable");
    answer.delay = 30ms;
    return answer;
  });
  const auto budget_start = std::chrono::steady_clock::now();
  const auto out_of_time = bench.call(100ms);
  const auto spent = std::chrono::steady_clock::now() - budget_start;
  BOOST_TEST((out_of_time.outcome == aws::DynamoOutcome::retry));
  BOOST_TEST(out_of_time.tries < 6);
  BOOST_TEST(spent < 400ms);  // the deadline plus at most one try in flight
}

BOOST_AUTO_TEST_CASE(a_try_that_may_have_landed_is_reported_as_such) {
  DynamoBench bench;
  ScriptedAnswer dropped;
  dropped.drop_after_request = true;
  bench.dynamodb.script(dropped);
  bench.dynamodb.script(ScriptedAnswer(200, R"({})", "application/x-amz-json-1.0"));
  const auto recovered = bench.call();
  BOOST_TEST((recovered.outcome == aws::DynamoOutcome::ok));
  BOOST_TEST(recovered.tries == 2);

  // Dropped, then throttled until the limit: whether the first landed is unknown.
  DynamoBench unsure;
  unsure.dynamodb.script(dropped);
  unsure.dynamodb.respond_with(
      [](const testing::RecordedRequest&) { return dynamo_error(400, "ThrottlingException"); });
  const auto answer = unsure.call();
  BOOST_TEST((answer.outcome == aws::DynamoOutcome::maybe_applied));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
