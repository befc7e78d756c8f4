// Where callgated's AWS credentials come from, in the order AWS's SDKs look:
//   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
//      AWS_SESSION_TOKEN (the systemd environment file sets them);
//   2. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE or
//      ~/.aws/credentials, the profile AWS_PROFILE (else "default");
//   3. the container endpoint: AWS_CONTAINER_CREDENTIALS_FULL_URI, or
//      http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with
//      AWS_CONTAINER_AUTHORIZATION_TOKEN (or _TOKEN_FILE) as Authorization;
//   4. EC2 instance metadata, IMDSv2: a session token by PUT, then the
//      instance role's name, then its credentials (AWS_EC2_METADATA_DISABLED
//      turns it off; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it).
// A source that is not set up is passed over; one that is set up but fails
// is reported, not replaced by the next (credentials of another identity
// would be a surprise). Temporary credentials carry their expiry, and
// keep_credentials_fresh replaces them before it, on a reactor: the
// endpoints are asked without blocking it; the shared file, when there is
// one, is read in place (local, at most 64 KiB).
//
// The parsing is pure and unit-tested; the fetching goes through the
// project's HTTP client and is tested against fakes on loopback.
#pragma once

#include "aws/sigv4.hpp"
#include "core/clock.hpp"
#include "core/config_reader.hpp"
#include "core/spawn.hpp"
#include "http/client/http_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace callgate::aws {

struct SourcedCredentials {
  Credentials credentials;
  std::optional<WallTime> expires;  // none: they do not expire (keys of an IAM user)
  std::string source;               // "environment", "shared file profile default", ...: for logs, never the keys
};

// Why no credentials came from a source, or from any.
struct CredentialsProblem {
  std::string message;
};

using CredentialsResult = std::variant<SourcedCredentials, CredentialsProblem>;

// 1. Nothing when neither variable is set; a problem when only one is.
std::optional<CredentialsResult> credentials_from_environment(const EnvironmentLookup& environment);

// 2. One profile of an INI file: "[name]" sections, "key = value" lines,
// "#" and ";" comments. Nothing when the profile is not in it.
std::optional<CredentialsResult> credentials_from_shared_file(std::string_view text, std::string_view profile);

// 3. and 4. The JSON both endpoints answer with: AccessKeyId,
// SecretAccessKey, Token, Expiration (ISO 8601); IMDS adds "Code": "Success".
CredentialsResult credentials_from_document(std::string_view json, std::string source);

// Where the container endpoint is and the Authorization it wants, when the
// environment names one. A full URI over plain http must point at a
// loopback address or the container agent's (169.254.170.2,
// 169.254.170.23, fd00:ec2::23): credentials are not fetched in the clear
// from anywhere else.
struct ContainerEndpoint {
  std::string url;
  std::string authorization;  // empty: none sent
};
using ReadTextFile = std::function<std::optional<std::string>(const std::string& path)>;
std::optional<std::variant<ContainerEndpoint, CredentialsProblem>> container_endpoint(
    const EnvironmentLookup& environment, const ReadTextFile& read_file);

std::optional<std::string> read_small_text_file(const std::string& path);  // at most 64 KiB

struct CredentialChainOptions {
  EnvironmentLookup environment;
  ReadTextFile read_file = read_small_text_file;
  std::string home;  // for ~/.aws/credentials; empty: $HOME
};

// Tries the sources in order through client (its timeouts bound each
// request); the first that is set up gives the answer.
boost::asio::awaitable<CredentialsResult> find_credentials(const CredentialChainOptions& options,
                                                           http::HttpClient& client);

// The credentials every request is signed with, read from any thread; kept
// fresh by refresh_credentials.
class CredentialCache {
 public:
  explicit CredentialCache(SourcedCredentials first) : current_(std::move(first)) {}
  SourcedCredentials current() const;
  void replace(SourcedCredentials fresh);

 private:
  mutable std::mutex mutex_;
  SourcedCredentials current_;
};

// When to look again: 5 minutes before expiry (AWS hands out new ones from
// then on), at most an hour from now, never for ones that do not expire.
std::optional<WallTime> next_refresh(const SourcedCredentials& credentials, WallTime now);

// Replaces cache's credentials before they expire, until stop is signalled;
// a failed look is logged and tried again (after 10 s, doubling up to
// 5 minutes) while the old credentials are still used. Runs on the
// caller's executor, waiting on timers and the HTTP client there.
boost::asio::awaitable<void> keep_credentials_fresh(CredentialCache& cache, CredentialChainOptions options,
                                                    http::HttpClient& client, StopSignal::Token stop,
                                                    const Clock& clock);

}  // namespace callgate::aws
