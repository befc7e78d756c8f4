// Standard Webhooks (standardwebhooks.com) signing: what a receiver checks
// with the specification's own libraries.
//
//   webhook-id:        the event's id
//   webhook-timestamp: Unix seconds of the attempt
//   webhook-signature: v1,<base64 of HMAC-SHA256(key, id "." timestamp "." body)>
//
// The key is the secret "whsec_<base64>" decoded. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callgate::events {

// The key a secret stands for: nothing unless it is "whsec_" followed by
// standard base64 of 24 to 64 bytes (the specification asks for 24 or more).
std::optional<std::string> webhook_secret_key(std::string_view secret);

// "v1,<base64>" for one delivery attempt.
std::string standard_webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                                       std::string_view body);

}  // namespace callgate::events
