#include "daemon/dynamodb_start.hpp"

#include "aws/dynamodb_table.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <stdexcept>

namespace callgate {

namespace asio = boost::asio;

aws::DynamoStoreOptions dynamodb_store_options(const StoreConfig& store, const HttpClientConfig& http) {
  aws::DynamoStoreOptions options;
  options.endpoint.region = store.dynamodb_region;
  options.endpoint.url =
      store.dynamodb_endpoint.empty() ? aws::regional_endpoint(store.dynamodb_region) : store.dynamodb_endpoint;
  options.table = store.dynamodb_table;
  options.operation_timeout = store.dynamodb_operation_timeout;
  options.orphan_wait = store.dynamodb_orphan_wait;
  options.http = http;
  // A request is retried within the operation's time; one try never takes all of it.
  options.http.request_timeout = std::min(http.request_timeout, store.dynamodb_operation_timeout);
  options.http.total_timeout = std::min(http.total_timeout, store.dynamodb_operation_timeout);
  options.http.connect_timeout = std::min(http.connect_timeout, store.dynamodb_operation_timeout);
  return options;
}

aws::DynamoDbClient::CredentialsSource credentials_from(std::shared_ptr<aws::CredentialCache> cache) {
  return [cache = std::move(cache)] { return cache->current().credentials; };
}

DynamoDbStart start_dynamodb(const StoreConfig& store, const HttpClientConfig& http,
                             const EnvironmentLookup& environment, TableStep step) {
  const auto options = dynamodb_store_options(store, http);
  DynamoDbStart start;
  start.chain.environment = environment;
  asio::io_context io{1};
  http::HttpClient client(io, http);

  auto found = asio::co_spawn(io, aws::find_credentials(start.chain, client), asio::use_future);
  io.run();
  auto credentials = found.get();
  if (auto* problem = std::get_if<aws::CredentialsProblem>(&credentials)) {
    if (!is_loopback_http_url(options.endpoint.url))
      throw std::runtime_error("no AWS credentials for DynamoDB: " + problem->message +
                               " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the service's environment "
                               "file, or give the host an instance role)");
    // DynamoDB Local checks no signature; any well-formed keys will do.
    credentials = aws::SourcedCredentials{{"local", "local", ""}, std::nullopt, "placeholder for DynamoDB Local"};
  }
  auto& sourced = std::get<aws::SourcedCredentials>(credentials);
  LogLine(LogLevel::info, "aws_credentials")
      .trusted_text("source", sourced.source)
      .trusted_text("expires", sourced.expires ? format_iso8601(*sourced.expires) : std::string("never"));
  start.refresh = sourced.expires.has_value();
  start.credentials = std::make_shared<aws::CredentialCache>(std::move(sourced));

  const bool create = step == TableStep::prepare && store.dynamodb_create_table;
  aws::DynamoDbClient dynamo(client, options.endpoint, credentials_from(start.credentials), options.retry);
  const auto deadline =
      std::chrono::steady_clock::now() + (create ? std::chrono::seconds(60) : std::chrono::seconds(15));
  auto prepared =
      asio::co_spawn(io, aws::prepare_table(dynamo, store.dynamodb_table, create, deadline), asio::use_future);
  io.restart();
  io.run();
  const auto problem = prepared.get();
  // --check-config with create_table: the table is made at start.
  if (problem && !(problem->missing && step == TableStep::check_only && store.dynamodb_create_table))
    throw std::runtime_error("DynamoDB at " + options.endpoint.url + ": " + problem->message);
  return start;
}

}  // namespace callgate
