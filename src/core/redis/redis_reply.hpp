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
struct redisReader;

namespace callgate::redis {

// A reply, copied out of hiredis's memory.
struct Reply {
  enum class Type { nil, string, integer, array, status, error };
  Type type = Type::nil;
  std::string text;  // string, status or error
  std::int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
};

// The copy of one hiredis reply (and everything in it).
Reply copy_reply(const redisReply* reply);

// Replies read from bytes as a connection reads what Redis sends (hiredis's
// reader, then copied into Reply); nothing when the bytes are not RESP or
// declare more than these limits. Whole replies only: a reply cut short at
// the end is left out.
//
// hiredis 0.14 allocates an array's elements as soon as it reads the
// count: "*777677777\r\n" alone asked for 6 GB (the redis_replies fuzzer).
// callgate never asks for replies anywhere near these sizes.
inline constexpr long long kMaxReplyElements = 1 << 20;
inline constexpr long long kMaxReplyBulkBytes = 512ll * 1024 * 1024;
std::optional<std::vector<Reply>> read_replies(std::string_view bytes);

// A live connection's reader cannot scan ahead (a header may come split
// over reads), so it is bounded as it goes: an array count over
// kMaxReplyElements is refused before hiredis allocates for it (the
// reader then fails, and the connection is dropped), and a reply still
// unfinished after kMaxPendingReplyBytes has arrived is too long to wait
// for ("$999999999" and bytes without end from a broken or hostile server).
// callgate's largest replies (a lead, a page of ids) are far below both.
inline constexpr std::size_t kMaxPendingReplyBytes = 64u * 1024 * 1024;
redisReader* make_bounded_reader();
bool holds_too_much(const redisReader* reader);

// Whether every array count and bulk length declared in bytes is within
// the limits above (a scan of the headers alone; nothing is allocated).
bool reply_sizes_are_bounded(std::string_view bytes);

}  // namespace callgate::redis
