#include "core/events/standard_webhooks.hpp"

#include "core/crypto.hpp"

namespace callgate::events {

std::optional<std::string> webhook_secret_key(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) return std::nullopt;
  auto key = base64_decode(secret.substr(kPrefix.size()));
  if (!key || key->size() < 24 || key->size() > 64) return std::nullopt;
  return key;
}

std::string standard_webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                                       std::string_view body) {
  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id).push_back('.');
  signed_content.append(std::to_string(timestamp)).push_back('.');
  signed_content.append(body);
  return "v1," + base64_encode(hmac_sha256(key, signed_content));
}

}  // namespace callgate::events
