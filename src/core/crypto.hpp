// The few cryptographic building blocks the providers' authentication
// needs, over OpenSSL. One place, so every secret comparison in the tree is
// the same constant-time one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace callgate {

std::string base64_encode(std::string_view data);
// Standard alphabet with padding; nothing for anything else.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex_encode(std::string_view data);  // lowercase

std::string hmac_sha1(std::string_view key, std::string_view message);    // raw digest
std::string hmac_sha256(std::string_view key, std::string_view message);  // raw digest
std::string sha256(std::string_view data);                                // raw digest
std::string sha1(std::string_view data);                                  // raw digest

// Compares without leaking, through timing, where two secrets differ
// (only whether their lengths do).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace callgate
