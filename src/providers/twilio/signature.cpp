#include "providers/twilio/signature.hpp"

#include "core/crypto.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <vector>

namespace callgate::providers::twilio {
namespace {

// The signature as base64 text in a fixed buffer. The lists it builds are
// kept per thread and only cleared: checking a webhook allocates nothing.
std::array<char, 28> signature_of(std::string_view auth_token, std::string_view url, const http::FormFields& fields) {
  // Names byte-wise, then a repeated name's values byte-wise, duplicates once.
  thread_local std::vector<std::pair<std::string_view, std::string_view>> sorted;
  thread_local std::string message;
  sorted.clear();
  for (const auto& [name, value] : fields) sorted.emplace_back(name, value);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  message.assign(url);
  for (const auto& [name, value] : sorted) message.append(name).append(value);
  const auto signature = base64_encode(hmac_sha1_digest(auth_token, message));
  // A rare large form is not kept for good.
  if (message.capacity() > 64 * 1024) std::string().swap(message);
  if (sorted.capacity() > 1024) decltype(sorted)().swap(sorted);
  return signature;
}

bool signature_matches(std::string_view auth_token, std::string_view url, const http::FormFields& fields,
                       std::string_view signature) {
  const auto expected = signature_of(auth_token, url, fields);
  return equal_in_constant_time(std::string_view(expected.data(), expected.size()), signature);
}

bool matches_url_or_its_port_variant(std::string_view auth_token, std::string_view url, const http::FormFields& fields,
                                     std::string_view signature) {
  if (signature_matches(auth_token, url, fields, signature)) return true;
  const auto variant = url_with_default_port_toggled(url);
  return variant && signature_matches(auth_token, *variant, fields, signature);
}

}  // namespace

std::string compute_signature(std::string_view auth_token, std::string_view url, const http::FormFields& fields) {
  const auto signature = signature_of(auth_token, url, fields);
  return std::string(signature.data(), signature.size());
}

std::optional<std::string> url_with_default_port_toggled(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  boost::urls::url copy(*parsed);
  const std::string_view default_port = copy.scheme() == "https" ? "443" : copy.scheme() == "http" ? "80" : "";
  if (default_port.empty()) return std::nullopt;
  if (!copy.has_port())
    copy.set_port(default_port);
  else if (copy.port() == default_port)
    copy.remove_port();
  else
    return std::nullopt;
  return std::string(copy.buffer());
}

bool is_valid_signature(std::string_view auth_token, std::string_view url, const http::FormFields& fields,
                        std::string_view signature) {
  if (auth_token.empty() || signature.empty()) return false;
  return matches_url_or_its_port_variant(auth_token, url, fields, signature);
}

bool is_valid_json_signature(std::string_view auth_token, std::string_view url, std::string_view body,
                             std::string_view signature) {
  if (auth_token.empty() || signature.empty()) return false;
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return false;
  const auto params = parsed->params();
  const auto found = params.find("bodySHA256");
  if (found == params.end() || !(*found).has_value) return false;
  const std::string claimed = (*found).value;
  if (!equal_in_constant_time(hex_encode(sha256(body)), claimed)) return false;
  return matches_url_or_its_port_variant(auth_token, url, {}, signature);
}

}  // namespace callgate::providers::twilio
