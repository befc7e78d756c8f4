#include "aws/dynamodb_table.hpp"

#include "aws/dynamodb_items.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

namespace callgate::aws {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

TableProblem describe(std::string_view what, const DynamoAnswer& answer) {
  std::string text(what);
  text.append(": ");
  if (!answer.error_type.empty()) {
    text.append(answer.error_type);
    text.append(": ");
  }
  text.append(answer.message);
  return {std::move(text), false};
}

std::string table_status(const DynamoAnswer& answer) {
  const auto* body = answer.body.if_object();
  const auto* table = body ? body->if_contains("Table") : nullptr;
  const auto* status = table && table->is_object() ? table->as_object().if_contains("TableStatus") : nullptr;
  return status && status->is_string() ? std::string(status->as_string()) : std::string();
}

}  // namespace

awaitable<std::optional<TableProblem>> prepare_table(DynamoDbClient& client, std::string table, bool create,
                                                     std::chrono::steady_clock::time_point deadline) {
  const std::string describe_body = json::serialize(json::object{{"TableName", table}});
  auto described = co_await client.call("DescribeTable", describe_body, deadline);
  if (described.outcome == DynamoOutcome::failed && described.error_type == "ResourceNotFoundException") {
    if (!create)
      co_return TableProblem{"the table " + table +
                                 " does not exist (create it as the README's \"Running on DynamoDB\" shows, or set "
                                 "store.dynamodb.create_table: true in development)",
                             true};
    auto created = co_await client.call("CreateTable", create_table_request(table), deadline);
    // Another host may have created it meanwhile: that is as good.
    if (created.outcome != DynamoOutcome::ok && created.error_type != "ResourceInUseException")
      co_return describe("creating the table " + table, created);
    const std::string ttl = json::serialize(
        json::object{{"TableName", table},
                     {"TimeToLiveSpecification", json::object{{"Enabled", true}, {"AttributeName", "expires_at"}}}});
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    for (;;) {
      described = co_await client.call("DescribeTable", describe_body, deadline);
      if (described.outcome != DynamoOutcome::ok) co_return describe("reading the new table " + table, described);
      if (table_status(described) == "ACTIVE") break;
      if (std::chrono::steady_clock::now() >= deadline)
        co_return TableProblem{"the new table " + table + " did not become ACTIVE in time", false};
      pause.expires_after(std::chrono::milliseconds(250));
      co_await pause.async_wait(boost::asio::use_awaitable);
    }
    auto expiry = co_await client.call("UpdateTimeToLive", ttl, deadline);
    // Turned on already (a second host, a restart) is fine.
    if (expiry.outcome != DynamoOutcome::ok && expiry.error_type != "ValidationException")
      co_return describe("turning on TTL for " + table, expiry);
  } else if (described.outcome != DynamoOutcome::ok) {
    co_return describe("reading the table " + table, described);
  }
  if (auto problem = table_problem(described.body))
    co_return TableProblem{"the table " + table + " is not callgate's: " + *problem, false};
  co_return std::nullopt;
}

}  // namespace callgate::aws
