#include "aws/credentials.hpp"

#include "core/ascii.hpp"
#include "core/log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <fstream>

namespace callgate::aws {

namespace {

namespace json = boost::json;
namespace beast_http = boost::beast::http;
using boost::asio::awaitable;

constexpr std::string_view kContainerHost = "http://169.254.170.2";
constexpr std::string_view kInstanceMetadata = "http://169.254.169.254";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

std::string string_field(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// Plain http is allowed to the container agent's addresses and to loopback only.
bool may_fetch_in_the_clear(std::string_view host) {
  if (host == "localhost") return true;
  std::string bare(host);
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(bare, error);
  if (error) return false;
  if (address.is_loopback()) return true;
  return bare == "169.254.170.2" || bare == "169.254.170.23" ||
         address == boost::asio::ip::make_address("fd00:ec2::23");
}

std::string describe_failure(const http::ClientResponse& response) {
  if (response.failure != http::TransportFailure::none) return response.failure_reason;
  return "HTTP " + std::to_string(response.status);
}

awaitable<CredentialsResult> from_container(const ContainerEndpoint& endpoint, http::HttpClient& client) {
  http::ClientRequest request;
  request.method = beast_http::verb::get;
  request.url = endpoint.url;
  if (!endpoint.authorization.empty()) request.headers.emplace_back("Authorization", endpoint.authorization);
  request.headers.emplace_back("Accept", "application/json");
  const auto response = co_await client.send(std::move(request));
  if (response.failure != http::TransportFailure::none || response.status != 200)
    co_return CredentialsProblem{"the container credentials endpoint answered " + describe_failure(response)};
  co_return credentials_from_document(response.body, "container endpoint");
}

awaitable<CredentialsResult> from_instance_metadata(std::string base, http::HttpClient& client) {
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  http::ClientRequest token_request;
  token_request.method = beast_http::verb::put;
  token_request.url = base + "/latest/api/token";
  token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  const auto token = co_await client.send(std::move(token_request));
  if (token.failure != http::TransportFailure::none || token.status != 200 || token.body.empty())
    co_return CredentialsProblem{"no instance metadata session token: " + describe_failure(token)};

  http::ClientRequest role_request;
  role_request.method = beast_http::verb::get;
  role_request.url = base + "/latest/meta-data/iam/security-credentials/";
  role_request.headers.emplace_back("X-aws-ec2-metadata-token", token.body);
  const auto roles = co_await client.send(std::move(role_request));
  if (roles.failure != http::TransportFailure::none || roles.status != 200)
    co_return CredentialsProblem{"the instance has no role: " + describe_failure(roles)};
  // One role a line; an instance profile holds one.
  const auto role = std::string(trimmed(std::string_view(roles.body).substr(0, roles.body.find('\n'))));
  if (role.empty() || role.find_first_of("/?#%") != std::string::npos)
    co_return CredentialsProblem{"the instance metadata named no usable role"};

  http::ClientRequest credentials_request;
  credentials_request.method = beast_http::verb::get;
  credentials_request.url = base + "/latest/meta-data/iam/security-credentials/" + role;
  credentials_request.headers.emplace_back("X-aws-ec2-metadata-token", token.body);
  const auto answer = co_await client.send(std::move(credentials_request));
  if (answer.failure != http::TransportFailure::none || answer.status != 200)
    co_return CredentialsProblem{"the role's credentials could not be read: " + describe_failure(answer)};
  co_return credentials_from_document(answer.body, "instance metadata role " + role);
}

}  // namespace

std::optional<CredentialsResult> credentials_from_environment(const EnvironmentLookup& environment) {
  auto key = environment("AWS_ACCESS_KEY_ID");
  auto secret = environment("AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) return std::nullopt;
  if (!key || !secret)
    return CredentialsProblem{std::string(key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not set, but " +
                              (key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is"};
  SourcedCredentials found;
  found.credentials = {std::move(*key), std::move(*secret), environment("AWS_SESSION_TOKEN").value_or("")};
  found.source = "environment";
  return found;
}

std::optional<CredentialsResult> credentials_from_shared_file(std::string_view text, std::string_view profile) {
  bool in_profile = false;
  bool found_profile = false;
  Credentials credentials;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = trimmed(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      in_profile = close != std::string_view::npos && trimmed(line.substr(1, close - 1)) == profile;
      found_profile = found_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const auto name = trimmed(line.substr(0, equals));
    const auto value = std::string(trimmed(line.substr(equals + 1)));
    if (equals_ignoring_case(name, "aws_access_key_id"))
      credentials.access_key_id = value;
    else if (equals_ignoring_case(name, "aws_secret_access_key"))
      credentials.secret_access_key = value;
    else if (equals_ignoring_case(name, "aws_session_token"))
      credentials.session_token = value;
  }
  if (!found_profile) return std::nullopt;
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    return CredentialsProblem{"profile " + std::string(profile) +
                              " of the shared credentials file lacks aws_access_key_id or aws_secret_access_key"};
  return SourcedCredentials{std::move(credentials), std::nullopt, "shared file profile " + std::string(profile)};
}

CredentialsResult credentials_from_document(std::string_view text, std::string source) {
  boost::system::error_code error;
  const auto document = json::parse(text, error);
  if (error || !document.is_object()) return CredentialsProblem{source + " answered something that is not JSON"};
  const auto& object = document.as_object();
  if (const auto code = string_field(object, "Code"); !code.empty() && code != "Success")
    return CredentialsProblem{source + " answered Code " + code.substr(0, 64)};
  SourcedCredentials found;
  found.credentials = {string_field(object, "AccessKeyId"), string_field(object, "SecretAccessKey"),
                       string_field(object, "Token")};
  if (found.credentials.access_key_id.empty() || found.credentials.secret_access_key.empty())
    return CredentialsProblem{source + " answered without AccessKeyId or SecretAccessKey"};
  if (const auto expiration = string_field(object, "Expiration"); !expiration.empty()) {
    found.expires = parse_iso8601(expiration);
    if (!found.expires) return CredentialsProblem{source + " answered an Expiration that is not an ISO 8601 time"};
  }
  found.source = std::move(source);
  return found;
}

std::optional<std::variant<ContainerEndpoint, CredentialsProblem>> container_endpoint(
    const EnvironmentLookup& environment, const ReadTextFile& read_file) {
  ContainerEndpoint endpoint;
  if (auto full = environment("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    const auto url = boost::urls::parse_absolute_uri(*full);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty())
      return CredentialsProblem{"AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL"};
    if (url->scheme() == "http" && !may_fetch_in_the_clear(url->host()))
      return CredentialsProblem{
          "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http only to loopback or the container agent's address"};
    endpoint.url = *full;
  } else if (auto relative = environment("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    if (!relative->starts_with('/'))
      return CredentialsProblem{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'"};
    endpoint.url = std::string(kContainerHost) + *relative;
  } else {
    return std::nullopt;
  }
  if (auto file = environment("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto token = read_file(*file);
    if (!token) return CredentialsProblem{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE cannot be read"};
    endpoint.authorization = std::string(trimmed(*token));
  } else if (auto token = environment("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    endpoint.authorization = *token;
  }
  if (endpoint.authorization.find_first_of("\r\n") != std::string::npos)
    return CredentialsProblem{"the container authorization token holds a line break"};
  return endpoint;
}

std::optional<std::string> read_small_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::string text(64 * 1024 + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad() || file.gcount() > 64 * 1024) return std::nullopt;
  text.resize(static_cast<std::size_t>(file.gcount()));
  return text;
}

awaitable<CredentialsResult> find_credentials(const CredentialChainOptions& options, http::HttpClient& client) {
  const auto& environment = options.environment;
  std::vector<std::string> passed;

  if (auto found = credentials_from_environment(environment)) co_return std::move(*found);
  passed.emplace_back("environment (AWS_ACCESS_KEY_ID not set)");

  const auto home = !options.home.empty() ? options.home : environment("HOME").value_or("");
  const auto file = environment("AWS_SHARED_CREDENTIALS_FILE").value_or(home.empty() ? "" : home + "/.aws/credentials");
  const auto profile = environment("AWS_PROFILE").value_or("default");
  if (!file.empty()) {
    if (auto text = options.read_file(file)) {
      if (auto found = credentials_from_shared_file(*text, profile)) co_return std::move(*found);
      passed.push_back("shared file " + file + " (no profile " + profile + ")");
    } else {
      if (environment("AWS_SHARED_CREDENTIALS_FILE"))
        co_return CredentialsProblem{"AWS_SHARED_CREDENTIALS_FILE " + file + " cannot be read"};
      passed.push_back("shared file " + file + " (none)");
    }
  }

  if (auto endpoint = container_endpoint(environment, options.read_file)) {
    if (auto* problem = std::get_if<CredentialsProblem>(&*endpoint)) co_return *problem;
    co_return co_await from_container(std::get<ContainerEndpoint>(*endpoint), client);
  }
  passed.emplace_back("container endpoint (not set)");

  const auto disabled = environment("AWS_EC2_METADATA_DISABLED");
  if (!disabled || !equals_ignoring_case(*disabled, "true")) {
    auto found = co_await from_instance_metadata(
        environment("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(std::string(kInstanceMetadata)), client);
    if (std::holds_alternative<SourcedCredentials>(found)) co_return found;
    passed.push_back("instance metadata (" + std::get<CredentialsProblem>(found).message + ")");
  } else {
    passed.emplace_back("instance metadata (AWS_EC2_METADATA_DISABLED)");
  }
  std::string tried;
  for (const auto& step : passed) tried += (tried.empty() ? "" : "; ") + step;
  co_return CredentialsProblem{"no AWS credentials found; tried " + tried};
}

SourcedCredentials CredentialCache::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void CredentialCache::replace(SourcedCredentials fresh) {
  std::lock_guard lock(mutex_);
  current_ = std::move(fresh);
}

std::optional<WallTime> next_refresh(const SourcedCredentials& credentials, WallTime now) {
  if (!credentials.expires) return std::nullopt;
  const auto early = *credentials.expires - std::chrono::minutes(5);
  return std::clamp(early, now, now + std::chrono::hours(1));
}

awaitable<void> keep_credentials_fresh(CredentialCache& cache, CredentialChainOptions options, http::HttpClient& client,
                                       StopSignal::Token stop, const Clock& clock) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  std::chrono::milliseconds retry{10'000};
  for (;;) {
    const auto due = next_refresh(cache.current(), clock.now());
    if (!due) co_return;  // keys that do not expire
    timer.expires_after(std::max(std::chrono::milliseconds(0),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(*due - clock.now())));
    if (!co_await stop.wait(timer)) co_return;
    for (;;) {
      auto found = co_await find_credentials(options, client);
      if (auto* fresh = std::get_if<SourcedCredentials>(&found)) {
        LogLine(LogLevel::info, "aws_credentials_refreshed").trusted_text("source", fresh->source);
        cache.replace(std::move(*fresh));
        retry = std::chrono::milliseconds(10'000);
        break;
      }
      LogLine(LogLevel::warn, "aws_credentials_not_refreshed")
          .text("reason", std::get<CredentialsProblem>(found).message)
          .trusted_text("retry_in_ms", std::to_string(retry.count()));
      timer.expires_after(retry);
      retry = std::min(retry * 2, std::chrono::milliseconds(300'000));
      if (!co_await stop.wait(timer)) co_return;
    }
  }
}

}  // namespace callgate::aws
