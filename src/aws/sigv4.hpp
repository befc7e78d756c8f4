// AWS Signature Version 4, header form: what every request to DynamoDB
// carries. Pure: the caller passes the time and the credentials, so a
// signature is a function of its inputs and is tested against AWS's
// published test suite (tests/unit/aws/sigv4_test.cpp) and against the
// signer of AWS's own JavaScript SDK (tests/integration/sigv4_oracle_test).
//
// The steps, each exposed for the tests: the canonical request (method,
// path, query, the signed headers, the body's hash), the string to sign
// (algorithm, time, scope, the canonical request's hash), the signing key
// (an HMAC chain from the secret over date, region, service), and the
// Authorization header that names the key, the scope, the signed headers
// and the signature.
#pragma once

#include "core/civil_time.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only; sent as X-Amz-Security-Token and signed
};

struct Scope {
  std::string region;   // "us-east-1"
  std::string service;  // "dynamodb"
};

// A request as it will be sent. The path is as it goes on the wire, before
// percent-encoding; query parameters decoded, in any order; headers in any
// case and order, repeats allowed (they are joined with commas, in order).
struct SignableRequest {
  std::string method = "POST";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // Host and X-Amz-Date among them
  std::string_view body;
};

// "20150830T123600Z", the form X-Amz-Date takes.
std::string amz_date(WallTime time);

// Percent-encodes everything but RFC 3986's unreserved characters
// (A-Z a-z 0-9 - . _ ~), upper-case hex; '/' kept when keep_slash.
std::string uri_encode(std::string_view text, bool keep_slash);

struct CanonicalRequest {
  std::string text;
  std::string signed_headers;  // "content-type;host;x-amz-date"
};
CanonicalRequest canonical_request(const SignableRequest& request);

// "20150830/us-east-1/service/aws4_request"
std::string credential_scope(std::string_view date, const Scope& scope);

std::string string_to_sign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request);

// The raw 32-byte key: HMAC-SHA256 over date, region, service and
// "aws4_request", starting from "AWS4" + secret.
std::string signing_key(std::string_view secret_access_key, std::string_view date, const Scope& scope);

// The Authorization header's value for request, which must already carry
// X-Amz-Date (and X-Amz-Security-Token with temporary credentials).
std::string authorization(const SignableRequest& request, const Credentials& credentials, const Scope& scope);

// Adds X-Amz-Date (from now), X-Amz-Security-Token when the credentials
// have one, and Authorization to request's headers.
void sign(SignableRequest& request, const Credentials& credentials, const Scope& scope, WallTime now);

}  // namespace callgate::aws
