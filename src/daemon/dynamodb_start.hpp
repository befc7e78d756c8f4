// What callgated needs before it serves on DynamoDB, found at start-up on
// a private loop (nothing is serving yet): the credentials, by the AWS
// SDKs' chain (aws/credentials.hpp), and the table, made in development or
// checked (aws/dynamodb_table.hpp). --check-config runs the same steps,
// without making the table.
#pragma once

#include "aws/credentials.hpp"
#include "aws/dynamodb_lead_store.hpp"
#include "core/config.hpp"
#include "core/config_reader.hpp"

#include <memory>
#include <string>

namespace callgate {

aws::DynamoStoreOptions dynamodb_store_options(const StoreConfig& store, const HttpClientConfig& http);

struct DynamoDbStart {
  std::shared_ptr<aws::CredentialCache> credentials;
  aws::CredentialChainOptions chain;
  bool refresh = false;  // the credentials expire: keep them fresh
};

enum class TableStep { prepare, check_only };

// Throws std::runtime_error saying what is wrong: no credentials, DynamoDB
// not reached, the table missing or keyed otherwise. With a loopback
// endpoint (DynamoDB Local, which checks no signature) and no credentials
// anywhere, placeholder keys are used.
DynamoDbStart start_dynamodb(const StoreConfig& store, const HttpClientConfig& http,
                             const EnvironmentLookup& environment, TableStep step);

// Signs with the cache's current credentials (read on every request).
aws::DynamoDbClient::CredentialsSource credentials_from(std::shared_ptr<aws::CredentialCache> cache);

}  // namespace callgate
