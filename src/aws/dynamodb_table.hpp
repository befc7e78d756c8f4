// Readies callgate's table before the daemon takes traffic: in development
// (store.dynamodb.create_table: true) it is created when missing, with its
// indexes and TTL, and waited for until ACTIVE; otherwise it must exist
// and be keyed as dynamodb_items.hpp lays it out, or the daemon does not
// start (and --check-config says why).
#pragma once

#include "aws/dynamodb_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace callgate::aws {

// Nothing when the table is ready; else what is wrong, for an operator.
// With create false, a missing table is a problem and missing is set.
struct TableProblem {
  std::string message;
  bool missing = false;  // the table does not exist (and was not to be created)
};
boost::asio::awaitable<std::optional<TableProblem>> prepare_table(DynamoDbClient& client, std::string table,
                                                                  bool create,
                                                                  std::chrono::steady_clock::time_point deadline);

}  // namespace callgate::aws
