// The few cryptographic building blocks the providers' authentication
// needs, over OpenSSL. One place, so every secret comparison in the tree is
// the same constant-time one.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace callgate {

std::string base64_encode(std::string_view data);
// Standard alphabet with padding; nothing for anything else.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex_encode(std::string_view data);  // lowercase

std::string hmac_sha1(std::string_view key, std::string_view message);  // raw digest
// The same digest as a value: no allocation, for a signature checked on
// every webhook.
using Sha1Digest = std::array<unsigned char, 20>;
Sha1Digest hmac_sha1_digest(std::string_view key, std::string_view message);
// Standard base64 with padding of a SHA-1 digest (28 characters).
std::array<char, 28> base64_encode(const Sha1Digest& digest);
std::string hmac_sha256(std::string_view key, std::string_view message);  // raw digest
std::string sha256(std::string_view data);                                // raw digest
std::string sha1(std::string_view data);                                  // raw digest

// Compares without leaking, through timing, where two secrets differ
// (only whether their lengths do).
bool equal_in_constant_time(std::string_view a, std::string_view b);

// Bytes from the kernel's CSPRNG (getrandom), for everything callgate makes
// that must not be guessed: lead ids, the simulator's token, Redis epochs.
// Throws std::system_error when the kernel will not give them (no
// getrandom, or a seccomp filter): nothing safe is left to fall back on.
void fill_random(std::span<std::uint8_t> bytes);
// That many random bytes, as lowercase hex.
std::string random_hex(std::size_t bytes);

}  // namespace callgate
