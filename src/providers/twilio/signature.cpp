#include "providers/twilio/signature.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>

namespace callgate::twilio {
namespace {

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string hmac_sha1_base64(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &length);
  return base64(digest, length);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (const auto byte : digest) {
    hex.push_back(digits[byte >> 4]);
    hex.push_back(digits[byte & 0xf]);
  }
  return hex;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool matches_url_or_its_port_variant(std::string_view auth_token, std::string_view url,
                                     const http::FormFields& fields, std::string_view signature) {
  if (equal_in_constant_time(compute_signature(auth_token, url, fields), signature)) return true;
  const auto variant = url_with_default_port_toggled(url);
  return variant && equal_in_constant_time(compute_signature(auth_token, *variant, fields), signature);
}

}  // namespace

std::string compute_signature(std::string_view auth_token, std::string_view url, const http::FormFields& fields) {
  std::map<std::string_view, std::set<std::string_view>> sorted;  // byte-wise order, values de-duplicated
  for (const auto& [name, value] : fields) sorted[name].insert(value);
  std::string message(url);
  for (const auto& [name, values] : sorted)
    for (const auto value : values) {
      message += name;
      message += value;
    }
  return hmac_sha1_base64(auth_token, message);
}

std::optional<std::string> url_with_default_port_toggled(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  boost::urls::url copy(*parsed);
  const std::string_view default_port = copy.scheme() == "https" ? "443" : copy.scheme() == "http" ? "80" : "";
  if (default_port.empty()) return std::nullopt;
  if (!copy.has_port()) copy.set_port(default_port);
  else if (copy.port() == default_port) copy.remove_port();
  else return std::nullopt;
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
  if (!equal_in_constant_time(sha256_hex(body), claimed)) return false;
  return matches_url_or_its_port_variant(auth_token, url, {}, signature);
}

}  // namespace callgate::twilio
