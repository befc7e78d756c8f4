#include "core/crypto.hpp"

// See KeyedHmac: the low-level digest functions are used on purpose.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <sys/random.h>
#include <stdexcept>

namespace callgate {
namespace {

const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

// HMAC (RFC 2104) with the keyed inner and outer states kept per thread:
// a webhook's signature then costs two copies of a small struct and the
// hashing. Over the low-level digest functions on purpose (OpenSSL 3 marks
// them deprecated, hence OPENSSL_SUPPRESS_DEPRECATED above): EVP's context
// copy duplicates the provider's state on the heap, and that allocation,
// cleanse and free, twice per signature, was a large share of a signature's
// cost (bench/README.md, "Measurements the code relies on"). One key per
// digest and thread is remembered (in practice: the Twilio token, the
// Exotel secret).
struct Sha1Functions {
  using State = SHA_CTX;
  static constexpr std::size_t block_bytes = SHA_CBLOCK;
  static constexpr std::size_t digest_bytes = SHA_DIGEST_LENGTH;
  static int init(State* state) { return SHA1_Init(state); }
  static int update(State* state, const void* data, std::size_t size) { return SHA1_Update(state, data, size); }
  static int final(unsigned char* digest, State* state) { return SHA1_Final(digest, state); }
  static void digest(const unsigned char* data, std::size_t size, unsigned char* out) { SHA1(data, size, out); }
};

struct Sha256Functions {
  using State = SHA256_CTX;
  static constexpr std::size_t block_bytes = SHA256_CBLOCK;
  static constexpr std::size_t digest_bytes = SHA256_DIGEST_LENGTH;
  static int init(State* state) { return SHA256_Init(state); }
  static int update(State* state, const void* data, std::size_t size) { return SHA256_Update(state, data, size); }
  static int final(unsigned char* digest, State* state) { return SHA256_Final(digest, state); }
  static void digest(const unsigned char* data, std::size_t size, unsigned char* out) { SHA256(data, size, out); }
};

template <class Digest>
class KeyedHmac {
 public:
  KeyedHmac() = default;
  ~KeyedHmac() {
    OPENSSL_cleanse(key_.data(), key_.size());
    OPENSSL_cleanse(&inner_, sizeof inner_);
    OPENSSL_cleanse(&outer_, sizeof outer_);
  }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  std::string compute(std::string_view key, std::string_view message) {
    std::array<unsigned char, Digest::digest_bytes> digest;
    compute_into(key, message, digest);
    return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
  }

  void compute_into(std::string_view key, std::string_view message,
                    std::array<unsigned char, Digest::digest_bytes>& digest) {
    if (!keyed_ || key != key_) set_key(key);
    unsigned char inner_digest[Digest::digest_bytes];
    // The keyed states stand in for the key: the working copy is wiped too.
    typename Digest::State work = inner_;
    bool ok = Digest::update(&work, message.data(), message.size()) && Digest::final(inner_digest, &work);
    work = outer_;
    ok = ok && Digest::update(&work, inner_digest, sizeof inner_digest) && Digest::final(digest.data(), &work);
    OPENSSL_cleanse(&work, sizeof work);
    if (!ok) throw std::runtime_error("HMAC failed");
  }

 private:
  void set_key(std::string_view key) {
    unsigned char padded[Digest::block_bytes] = {};
    if (key.size() > sizeof padded)
      Digest::digest(bytes(key), key.size(), padded);  // a long key is hashed first
    else
      std::copy(key.begin(), key.end(), padded);
    unsigned char inner_pad[Digest::block_bytes];
    unsigned char outer_pad[Digest::block_bytes];
    for (std::size_t index = 0; index < sizeof padded; ++index) {
      inner_pad[index] = static_cast<unsigned char>(padded[index] ^ 0x36);
      outer_pad[index] = static_cast<unsigned char>(padded[index] ^ 0x5c);
    }
    const bool ok = Digest::init(&inner_) && Digest::update(&inner_, inner_pad, sizeof inner_pad) &&
                    Digest::init(&outer_) && Digest::update(&outer_, outer_pad, sizeof outer_pad);
    OPENSSL_cleanse(padded, sizeof padded);
    OPENSSL_cleanse(inner_pad, sizeof inner_pad);
    OPENSSL_cleanse(outer_pad, sizeof outer_pad);
    if (!ok) throw std::runtime_error("HMAC key set-up failed");
    OPENSSL_cleanse(key_.data(), key_.size());
    key_.assign(key);
    keyed_ = true;
  }

  typename Digest::State inner_{};
  typename Digest::State outer_{};
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
    const bool in_alphabet =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    // '=' only as the last one or two characters.
    const bool padding = c == '=' && index + 2 >= text.size() && (index + 1 == text.size() || text.back() == '=');
    if (!in_alphabet && !padding) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int written =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text), static_cast<int>(text.size()));
  if (written < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; take them off.
  std::size_t size = static_cast<std::size_t>(written);
  if (text.ends_with("=="))
    size -= 2;
  else if (text.ends_with("="))
    size -= 1;
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

thread_local KeyedHmac<Sha1Functions> keyed_sha1;

std::string hmac_sha1(std::string_view key, std::string_view message) { return keyed_sha1.compute(key, message); }

Sha1Digest hmac_sha1_digest(std::string_view key, std::string_view message) {
  Sha1Digest digest;
  keyed_sha1.compute_into(key, message, digest);
  return digest;
}

std::array<char, 28> base64_encode(const Sha1Digest& digest) {
  unsigned char text[29];  // EVP_EncodeBlock ends it with a NUL
  EVP_EncodeBlock(text, digest.data(), static_cast<int>(digest.size()));
  std::array<char, 28> encoded;
  std::copy_n(text, encoded.size(), encoded.begin());
  return encoded;
}
std::string hmac_sha256(std::string_view key, std::string_view message) {
  thread_local KeyedHmac<Sha256Functions> hmac;
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

void fill_random(std::span<std::uint8_t> bytes) {
  auto* at = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const auto got = ::getrandom(at, left, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    at += got;
    left -= static_cast<std::size_t>(got);
  }
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  fill_random({reinterpret_cast<std::uint8_t*>(raw.data()), raw.size()});
  return hex_encode(raw);
}

}  // namespace callgate
