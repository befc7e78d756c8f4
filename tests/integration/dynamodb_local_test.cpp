// The DynamoDB client against Amazon's DynamoDB Local: the operations the
// store will build on (CreateTable, conditional PutItem with the old item
// back, a versioned UpdateItem appending to a list, a TransactWriteItems
// cancelled reason by reason, Query), each answer read as the real service
// writes it.
#include "aws/dynamodb_client.hpp"

#include "dynamodb_local.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

namespace callgate {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct LocalBench {
  testing::DynamoDbLocal local;
  boost::asio::io_context io{1};
  HttpClientConfig client_config = [] {
    HttpClientConfig config;
    config.request_timeout = Milliseconds(10'000);
    config.total_timeout = Milliseconds(15'000);
    return config;
  }();
  http::HttpClient client{io, client_config};
  aws::DynamoDbClient dynamo{client, {local.endpoint(), "ap-south-1"}, [] {
                               return aws::Credentials{"AKIDLOCAL", "local-secret", ""};
                             }};

  aws::DynamoAnswer call(std::string operation, std::string_view body) {
    auto answer = boost::asio::co_spawn(
        io, dynamo.call(std::move(operation), std::string(body), std::chrono::steady_clock::now() + 30s),
        boost::asio::use_future);
    io.restart();
    io.run();
    return answer.get();
  }

  aws::DynamoAnswer expect(std::string operation, std::string_view body, aws::DynamoOutcome outcome) {
    auto answer = call(operation, body);
    BOOST_TEST((answer.outcome == outcome),
               operation << ": " << to_string(answer.outcome) << " " << answer.error_type << " " << answer.message);
    return answer;
  }
};

constexpr std::string_view kCreateTable = R"j({
  "TableName": "callgate",
  "BillingMode": "PAY_PER_REQUEST",
  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
})j";

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamodb_local)

BOOST_AUTO_TEST_CASE(the_operations_the_store_needs) {
  LocalBench bench;
  const auto created = bench.expect("CreateTable", kCreateTable, aws::DynamoOutcome::ok);
  BOOST_TEST(created.body.at("TableDescription").at("TableName").as_string() == "callgate");

  // Created once: the same key again fails its condition and brings the item back.
  constexpr std::string_view put = R"j({"TableName":"callgate",
    "Item":{"pk":{"S":"lead#01A"},"sk":{"S":"lead"},"v":{"N":"1"},"phone":{"S":"+14155550123"}},
    "ConditionExpression":"attribute_not_exists(pk)",
    "ReturnValuesOnConditionCheckFailure":"ALL_OLD","ReturnConsumedCapacity":"TOTAL"})j";
  const auto first = bench.expect("PutItem", put, aws::DynamoOutcome::ok);
  BOOST_TEST(first.body.at("ConsumedCapacity").at("CapacityUnits").to_number<double>() == 1.0);
  const auto again = bench.expect("PutItem", put, aws::DynamoOutcome::condition_failed);
  BOOST_TEST(again.error_type == "ConditionalCheckFailedException");

  // A versioned update that appends an event; the stale version is refused.
  constexpr std::string_view update = R"j({"TableName":"callgate","Key":{"pk":{"S":"lead#01A"},"sk":{"S":"lead"}},
    "UpdateExpression":"SET #events = list_append(if_not_exists(#events, :empty), :new) ADD #v :one",
    "ConditionExpression":"#v = :seen",
    "ExpressionAttributeNames":{"#events":"events","#v":"v"},
    "ExpressionAttributeValues":{":empty":{"L":[]},":new":{"L":[{"S":"ringing"}]},":one":{"N":"1"},":seen":{"N":"1"}},
    "ReturnValues":"ALL_NEW"})j";
  const auto updated = bench.expect("UpdateItem", update, aws::DynamoOutcome::ok);
  BOOST_TEST(updated.body.at("Attributes").at("v").at("N").as_string() == "2");
  BOOST_TEST(updated.body.at("Attributes").at("events").at("L").as_array().size() == 1u);
  bench.expect("UpdateItem", update, aws::DynamoOutcome::condition_failed);

  // Two items together or neither: the second's condition fails, reason by reason.
  constexpr std::string_view transaction = R"j({"TransactItems":[
    {"Put":{"TableName":"callgate","Item":{"pk":{"S":"call#CA1"},"sk":{"S":"call"},"lead":{"S":"01A"}},
            "ConditionExpression":"attribute_not_exists(pk)"}},
    {"Update":{"TableName":"callgate","Key":{"pk":{"S":"lead#01A"},"sk":{"S":"lead"}},
               "UpdateExpression":"ADD #v :one","ConditionExpression":"#v = :seen",
               "ExpressionAttributeNames":{"#v":"v"},"ExpressionAttributeValues":{":one":{"N":"1"},":seen":{"N":"1"}}}}]})j";
  const auto canceled = bench.expect("TransactWriteItems", transaction, aws::DynamoOutcome::transaction_canceled);
  BOOST_TEST(canceled.cancellation_reasons == (std::vector<std::string>{"None", "ConditionalCheckFailed"}));
  bench.expect("GetItem", R"j({"TableName":"callgate","Key":{"pk":{"S":"call#CA1"},"sk":{"S":"call"}}})j",
               aws::DynamoOutcome::ok);

  const auto read = bench.expect(
      "Query",
      R"j({"TableName":"callgate","KeyConditionExpression":"pk = :pk","ExpressionAttributeValues":{":pk":{"S":"lead#01A"}}})j",
      aws::DynamoOutcome::ok);
  BOOST_TEST(read.body.at("Count").to_number<int>() == 1);
  BOOST_TEST(read.body.at("Items").at(0).at("phone").at("S").as_string() == "+14155550123");
  // Nothing of the cancelled transaction was written.
  const auto call =
      bench.expect("GetItem", R"j({"TableName":"callgate","Key":{"pk":{"S":"call#CA1"},"sk":{"S":"call"}}})j",
                   aws::DynamoOutcome::ok);
  BOOST_TEST(!call.body.as_object().contains("Item"));
}

BOOST_AUTO_TEST_CASE(mistakes_are_final_and_say_what_is_wrong) {
  LocalBench bench;
  const auto missing =
      bench.expect("GetItem", R"j({"TableName":"nowhere","Key":{"pk":{"S":"x"}}})j", aws::DynamoOutcome::failed);
  BOOST_TEST(missing.error_type == "ResourceNotFoundException");
  BOOST_TEST(!missing.message.empty());
  BOOST_TEST(missing.tries == 1);
  const auto invalid = bench.expect("PutItem", R"j({"TableName":"x"})j", aws::DynamoOutcome::failed);
  BOOST_TEST(invalid.error_type == "ValidationException");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace callgate
