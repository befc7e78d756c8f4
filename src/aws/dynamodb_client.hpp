// DynamoDB's JSON protocol over the project's HTTPS client: every
// operation is a signed POST / with X-Amz-Target DynamoDB_20120810.<Operation>
// and a JSON body, answered with JSON or with an error whose name is in
// "__type". What an answer means is decided here, purely:
//   - a ConditionalCheckFailedException is an answer (the condition was
//     false), not a fault;
//   - TransactionCanceledException carries one reason per item;
//   - throttling (ProvisionedThroughputExceededException,
//     ThrottlingException, RequestLimitExceeded), InternalServerError,
//     ServiceUnavailable, any 5xx and a request that never left are tried
//     again, with capped exponential back-off and full jitter, within the
//     request's deadline;
//   - a request that left and got no answer may have been applied: it is
//     tried again too (every write callgate makes is conditional, so a
//     repeat that finds its own effect fails its condition, which the
//     caller reads back), and reported as "maybe applied" if time runs out;
//   - the rest (ValidationException, ResourceNotFoundException, access
//     denied, bad credentials) is final.
#pragma once

#include "aws/credentials.hpp"
#include "aws/sigv4.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace callgate::aws {

struct DynamoEndpoint {
  std::string url;  // "https://dynamodb.ap-south-1.amazonaws.com", or DynamoDB Local's "http://127.0.0.1:8000"
  std::string region;
};

// The endpoint of a region, and whether an endpoint may be used: https, or
// plain http to a loopback address only (DynamoDB Local).
std::string regional_endpoint(std::string_view region);
bool endpoint_allowed(std::string_view url);

// The signed request for one operation.
http::ClientRequest dynamodb_request(const DynamoEndpoint& endpoint, std::string_view operation, std::string body,
                                     const Credentials& credentials, WallTime now);

enum class DynamoOutcome {
  ok,                    // 200: body holds the operation's answer
  condition_failed,      // ConditionalCheckFailedException: an answer
  transaction_canceled,  // TransactionCanceledException: see cancellation_reasons
  retry,                 // throttled, the service's fault, or nothing left the host: try again
  maybe_applied,         // sent, no answer: it may have happened; try again, read back if in doubt
  failed,                // final: the request or the setup is wrong
};
std::string_view to_string(DynamoOutcome outcome);

struct DynamoAnswer {
  DynamoOutcome outcome = DynamoOutcome::failed;
  unsigned status = 0;
  std::string error_type;   // "ConditionalCheckFailedException": __type after its '#'
  std::string message;      // the service's message, or the transport's failure
  boost::json::value body;  // the parsed answer (ok), or the error document
  // TransactionCanceledException: each item's Code, in the request's order
  // ("None", "ConditionalCheckFailed", "TransactionConflict", ...).
  std::vector<std::string> cancellation_reasons;
  int tries = 1;
};

// What one HTTP exchange with DynamoDB means.
DynamoAnswer read_dynamodb_answer(const http::ClientResponse& response);

struct DynamoRetryPolicy {
  std::chrono::milliseconds base{25};
  std::chrono::milliseconds cap{1'000};
  int max_tries = 10;
};

// Full jitter: a uniform draw from 0 to min(cap, base * 2^retry).
std::chrono::milliseconds backoff_delay(const DynamoRetryPolicy& policy, int retry, std::mt19937_64& random);

class DynamoDbClient {
 public:
  using CredentialsSource = std::function<Credentials()>;
  DynamoDbClient(http::HttpClient& client, DynamoEndpoint endpoint, CredentialsSource credentials,
                 DynamoRetryPolicy policy = {});

  // Calls operation with body, trying again as above until deadline.
  // Never throws.
  boost::asio::awaitable<DynamoAnswer> call(std::string operation, std::string body,
                                            std::chrono::steady_clock::time_point deadline);

 private:
  http::HttpClient& client_;
  DynamoEndpoint endpoint_;
  CredentialsSource credentials_;
  DynamoRetryPolicy policy_;
  std::mt19937_64 random_;
};

}  // namespace callgate::aws
