#include "aws/dynamodb_client.hpp"

#include "core/config_reader.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>

namespace callgate::aws {

namespace {

namespace json = boost::json;
using boost::asio::awaitable;

constexpr std::array<std::string_view, 6> kRetryableErrors = {"ProvisionedThroughputExceededException",
                                                              "ThrottlingException",
                                                              "RequestLimitExceeded",
                                                              "InternalServerError",
                                                              "ServiceUnavailable",
                                                              "LimitExceededException"};

std::string text_field(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

std::string regional_endpoint(std::string_view region) {
  return "https://dynamodb." + std::string(region) + ".amazonaws.com";
}

bool endpoint_allowed(std::string_view text) { return is_https_or_loopback_url(std::string(text)); }

http::ClientRequest dynamodb_request(const DynamoEndpoint& endpoint, std::string_view operation, std::string body,
                                     const Credentials& credentials, WallTime now) {
  const auto url = boost::urls::parse_absolute_uri(endpoint.url);
  std::string host = url ? std::string(url->encoded_authority()) : std::string();
  SignableRequest signable;
  signable.method = "POST";
  signable.path = "/";
  signable.headers = {{"Host", host},
                      {"Content-Type", "application/x-amz-json-1.0"},
                      {"X-Amz-Target", "DynamoDB_20120810." + std::string(operation)}};
  signable.body = body;
  sign(signable, credentials, {endpoint.region, "dynamodb"}, now);

  http::ClientRequest request;
  request.method = boost::beast::http::verb::post;
  std::string base = endpoint.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + "/";
  // Host is the client's to write (the same value): the rest as signed.
  for (auto& [name, value] : signable.headers)
    if (name != "Host") request.headers.emplace_back(std::move(name), std::move(value));
  request.body = std::move(body);
  return request;
}

std::string_view to_string(DynamoOutcome outcome) {
  switch (outcome) {
    case DynamoOutcome::ok:
      return "ok";
    case DynamoOutcome::condition_failed:
      return "condition_failed";
    case DynamoOutcome::transaction_canceled:
      return "transaction_canceled";
    case DynamoOutcome::retry:
      return "retry";
    case DynamoOutcome::maybe_applied:
      return "maybe_applied";
    case DynamoOutcome::failed:
      return "failed";
  }
  return "?";
}

DynamoAnswer read_dynamodb_answer(const http::ClientResponse& response) {
  DynamoAnswer answer;
  answer.status = response.status;
  if (response.failure == http::TransportFailure::before_sending) {
    answer.outcome = DynamoOutcome::retry;
    answer.message = response.failure_reason;
    return answer;
  }
  if (response.failure == http::TransportFailure::after_sending) {
    answer.outcome = DynamoOutcome::maybe_applied;
    answer.message = response.failure_reason;
    return answer;
  }
  boost::system::error_code error;
  answer.body = json::parse(response.body, error);
  if (response.status == 200) {
    if (error || !answer.body.is_object()) {
      answer.outcome = DynamoOutcome::maybe_applied;  // a 200 we cannot read: whatever it did, it did
      answer.message = "an answer that is not a JSON object";
      return answer;
    }
    answer.outcome = DynamoOutcome::ok;
    return answer;
  }
  if (!error && answer.body.is_object()) {
    const auto& object = answer.body.as_object();
    // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
    const auto type = text_field(object, "__type");
    answer.error_type = type.substr(type.find('#') + 1);  // npos + 1 is 0: the whole name
    // DynamoDB writes "message", DynamoDB Local "Message".
    answer.message = text_field(object, "message");
    if (answer.message.empty()) answer.message = text_field(object, "Message");
    if (const auto* reasons = object.if_contains("CancellationReasons"); reasons && reasons->is_array())
      for (const auto& reason : reasons->as_array())
        answer.cancellation_reasons.push_back(reason.is_object() ? text_field(reason.as_object(), "Code") : "");
  }
  if (answer.message.empty()) answer.message = "HTTP " + std::to_string(response.status);
  if (answer.error_type == "ConditionalCheckFailedException")
    answer.outcome = DynamoOutcome::condition_failed;
  else if (answer.error_type == "TransactionCanceledException")
    answer.outcome = DynamoOutcome::transaction_canceled;
  else if (response.status >= 500 ||
           std::find(kRetryableErrors.begin(), kRetryableErrors.end(), answer.error_type) != kRetryableErrors.end())
    answer.outcome = DynamoOutcome::retry;
  else
    answer.outcome = DynamoOutcome::failed;
  return answer;
}

std::chrono::milliseconds backoff_delay(const DynamoRetryPolicy& policy, int retry, std::mt19937_64& random) {
  const auto shift = std::clamp(retry, 0, 20);
  const auto ceiling = std::min<std::int64_t>(policy.cap.count(), policy.base.count() << shift);
  std::uniform_int_distribution<std::int64_t> draw(0, std::max<std::int64_t>(0, ceiling));
  return std::chrono::milliseconds(draw(random));
}

DynamoDbClient::DynamoDbClient(http::HttpClient& client, DynamoEndpoint endpoint, CredentialsSource credentials,
                               DynamoRetryPolicy policy)
    : client_(client),
      endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      policy_(policy),
      random_(std::random_device{}()) {}

awaitable<DynamoAnswer> DynamoDbClient::call(std::string operation, std::string body,
                                             std::chrono::steady_clock::time_point deadline) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  DynamoAnswer answer;
  bool sent_before = false;  // an earlier try may have been applied
  for (int tries = 1;; ++tries) {
    // Signed afresh each time: a signature is good for 5 minutes and the
    // credentials may have been refreshed meanwhile.
    auto request = dynamodb_request(endpoint_, operation, body, credentials_(), WallClock::now());
    answer = read_dynamodb_answer(co_await client_.send(std::move(request)));
    answer.tries = tries;
    sent_before = sent_before || answer.outcome == DynamoOutcome::maybe_applied;
    if (answer.outcome != DynamoOutcome::retry && answer.outcome != DynamoOutcome::maybe_applied) break;
    const auto pause = backoff_delay(policy_, tries - 1, random_);
    if (tries >= policy_.max_tries || std::chrono::steady_clock::now() + pause >= deadline) break;
    timer.expires_after(pause);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  // Out of tries after one that may have landed: the caller must not take
  // "not applied" for granted.
  if (sent_before && answer.outcome == DynamoOutcome::retry) answer.outcome = DynamoOutcome::maybe_applied;
  co_return answer;
}

}  // namespace callgate::aws
