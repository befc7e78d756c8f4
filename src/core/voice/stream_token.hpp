// The one-time token callgate puts in the call flow it serves (Twilio: a
// <Stream> <Parameter>; Exotel: the stream URL's query), which the media
// stream must bring back. It binds the stream to one lead and one call and
// expires; that it is used once is the lead's business (the stream is
// claimed on the lead, under the token's nonce, before any audio flows).
//
// token = <expires, unix seconds> "." <nonce, 32 hex> "." <HMAC-SHA256 in hex>
// over "callgate-media-stream|<lead id>|<call sid>|<expires>|<nonce>".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace callgate::voice {

struct StreamTokenFields {
  std::string lead_id;
  std::string call_sid;
  std::chrono::system_clock::time_point expires;
  std::string nonce;  // 32 lowercase hex digits
};

std::string issue_stream_token(std::string_view key, const StreamTokenFields& fields);

enum class StreamTokenVerdict { valid, malformed, wrong_call, expired };
std::string_view to_string(StreamTokenVerdict verdict);

struct StreamTokenCheck {
  StreamTokenVerdict verdict = StreamTokenVerdict::malformed;
  std::string nonce;  // when valid: the key the stream is claimed under
};
// wrong_call covers a forged token too: a signature that does not fit this
// lead and call is indistinguishable from one made for another.
StreamTokenCheck check_stream_token(std::string_view key, std::string_view token, std::string_view lead_id,
                                    std::string_view call_sid, std::chrono::system_clock::time_point now);

}  // namespace callgate::voice
