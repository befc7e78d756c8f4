// What Redis answers, as callgate holds it: copied out of hiredis's
// memory, which keeps hiredis for what it does well (its RESP reader) and
// out of everything else. Pure: no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace callgate::redis {

// A reply, copied out of hiredis's memory.
struct Reply {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  std::string text;       // string, status or error
  std::int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
};

// The copy of one hiredis reply (and everything in it).
Reply copy_reply(const redisReply* reply);

// Replies read from bytes exactly as a connection reads what Redis sends
// (hiredis's reader, then copied into Reply); nothing when the bytes are
// not RESP. Whole replies only: a reply cut short at the end is left out.
std::optional<std::vector<Reply>> read_replies(std::string_view bytes);

}  // namespace callgate::redis
