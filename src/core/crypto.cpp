#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace callgate {
namespace {

const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

// HMAC (RFC 2104) over EVP digests, with the keyed inner and outer states
// kept per thread: a webhook's signature then costs two context copies and
// the hashing, not OpenSSL 3's one-shot HMAC(), which looks the algorithms
// up and sets the key up again on every call. One key per digest and thread
// is remembered (in practice: the Twilio token, the Exotel secret).
class KeyedHmac {
 public:
  explicit KeyedHmac(const char* digest_name) : digest_(EVP_MD_fetch(nullptr, digest_name, nullptr)) {
    if (!digest_ || !inner_ || !outer_ || !work_) throw std::runtime_error(std::string("OpenSSL lacks ") + digest_name);
  }
  ~KeyedHmac() {
    OPENSSL_cleanse(key_.data(), key_.size());
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    EVP_MD_CTX_free(work_);
    EVP_MD_free(digest_);
  }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  std::string compute(std::string_view key, std::string_view message) {
    if (!keyed_ || key != key_) set_key(key);
    unsigned char inner_digest[EVP_MAX_MD_SIZE];
    unsigned int inner_length = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const bool ok = EVP_MD_CTX_copy_ex(work_, inner_) && EVP_DigestUpdate(work_, message.data(), message.size()) &&
                    EVP_DigestFinal_ex(work_, inner_digest, &inner_length) && EVP_MD_CTX_copy_ex(work_, outer_) &&
                    EVP_DigestUpdate(work_, inner_digest, inner_length) && EVP_DigestFinal_ex(work_, digest, &length);
    if (!ok) throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<const char*>(digest), length);
  }

 private:
  void set_key(std::string_view key) {
    const auto block = static_cast<std::size_t>(EVP_MD_get_block_size(digest_));
    std::string padded(block, '\0');
    if (key.size() > block) {  // a long key is hashed first
      unsigned int length = 0;
      if (!EVP_Digest(key.data(), key.size(), reinterpret_cast<unsigned char*>(padded.data()), &length, digest_, nullptr))
        throw std::runtime_error("HMAC key digest failed");
    } else {
      std::copy(key.begin(), key.end(), padded.begin());
    }
    std::string inner_pad(padded), outer_pad(padded);
    for (auto& byte : inner_pad) byte = static_cast<char>(byte ^ 0x36);
    for (auto& byte : outer_pad) byte = static_cast<char>(byte ^ 0x5c);
    const bool ok = EVP_DigestInit_ex2(inner_, digest_, nullptr) &&
                    EVP_DigestUpdate(inner_, inner_pad.data(), inner_pad.size()) &&
                    EVP_DigestInit_ex2(outer_, digest_, nullptr) &&
                    EVP_DigestUpdate(outer_, outer_pad.data(), outer_pad.size());
    OPENSSL_cleanse(padded.data(), padded.size());
    OPENSSL_cleanse(inner_pad.data(), inner_pad.size());
    OPENSSL_cleanse(outer_pad.data(), outer_pad.size());
    if (!ok) throw std::runtime_error("HMAC key set-up failed");
    OPENSSL_cleanse(key_.data(), key_.size());
    key_.assign(key);
    keyed_ = true;
  }

  EVP_MD* digest_;
  EVP_MD_CTX* inner_ = EVP_MD_CTX_new();
  EVP_MD_CTX* outer_ = EVP_MD_CTX_new();
  EVP_MD_CTX* work_ = EVP_MD_CTX_new();
  std::string key_;
  bool keyed_ = false;
};

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(data), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t index = 0; index < text.size(); ++index) {
    const char c = text[index];
    const bool in_alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    // '=' only as the last one or two characters.
    const bool padding = c == '=' && index + 2 >= text.size() && (index + 1 == text.size() || text.back() == '=');
    if (!in_alphabet && !padding) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text),
                                      static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; take them off.
  std::size_t size = static_cast<std::size_t>(written);
  if (text.ends_with("==")) size -= 2;
  else if (text.ends_with("=")) size -= 1;
  out.resize(size);
  return out;
}

std::string hex_encode(std::string_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(data.size() * 2);
  for (const unsigned char byte : data) {
    hex.push_back(digits[byte >> 4]);
    hex.push_back(digits[byte & 0xf]);
  }
  return hex;
}

std::string hmac_sha1(std::string_view key, std::string_view message) {
  thread_local KeyedHmac hmac("SHA1");
  return hmac.compute(key, message);
}
std::string hmac_sha256(std::string_view key, std::string_view message) {
  thread_local KeyedHmac hmac("SHA256");
  return hmac.compute(key, message);
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes(data), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string sha1(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(bytes(data), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace callgate
