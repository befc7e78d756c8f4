#include "core/voice/stream_token.hpp"

#include "core/crypto.hpp"

#include <charconv>

namespace callgate::voice {
namespace {

std::string signed_text(std::string_view lead_id, std::string_view call_sid, std::string_view expires,
                        std::string_view nonce) {
  std::string text = "callgate-media-stream|";
  text.append(lead_id).append("|").append(call_sid).append("|").append(expires).append("|").append(nonce);
  return text;
}

bool is_lower_hex(std::string_view text) {
  for (const char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string issue_stream_token(std::string_view key, const StreamTokenFields& fields) {
  const auto expires =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(fields.expires.time_since_epoch()).count());
  return expires + "." + fields.nonce + "." +
         hex_encode(hmac_sha256(key, signed_text(fields.lead_id, fields.call_sid, expires, fields.nonce)));
}

std::string_view to_string(StreamTokenVerdict verdict) {
  switch (verdict) {
    case StreamTokenVerdict::valid:
      return "valid";
    case StreamTokenVerdict::malformed:
      return "malformed";
    case StreamTokenVerdict::wrong_call:
      return "wrong_call";
    case StreamTokenVerdict::expired:
      return "expired";
  }
  return "malformed";
}

StreamTokenCheck check_stream_token(std::string_view key, std::string_view token, std::string_view lead_id,
                                    std::string_view call_sid, std::chrono::system_clock::time_point now) {
  StreamTokenCheck check;
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.size() > 200) return check;
  const auto expires_text = token.substr(0, first);
  const auto nonce = token.substr(first + 1, second - first - 1);
  const auto mac = token.substr(second + 1);
  std::int64_t expires = 0;
  const auto [end, error] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  if (expires_text.empty() || error != std::errc{} || end != expires_text.data() + expires_text.size() ||
      nonce.size() != 32 || !is_lower_hex(nonce) || mac.size() != 64 || !is_lower_hex(mac))
    return check;
  const auto expected = hex_encode(hmac_sha256(key, signed_text(lead_id, call_sid, expires_text, nonce)));
  if (!equal_in_constant_time(expected, mac)) {
    check.verdict = StreamTokenVerdict::wrong_call;
    return check;
  }
  if (std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() >= expires) {
    check.verdict = StreamTokenVerdict::expired;
    return check;
  }
  check.verdict = StreamTokenVerdict::valid;
  check.nonce = std::string(nonce);
  return check;
}

}  // namespace callgate::voice
