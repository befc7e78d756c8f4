#include "core/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace callgate::redis {

Reply copy_reply(const redisReply* reply) {
  Reply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      for (std::size_t index = 0; index < reply->elements; ++index)
        out.elements.push_back(copy_reply(reply->element[index]));
      break;
    default:
      out.type = Reply::Type::nil;
  }
  return out;
}

bool reply_sizes_are_bounded(std::string_view bytes) {
  // Items follow one another whatever their nesting: each header is met in
  // turn, so a flat walk sees every count and length.
  std::size_t at = 0;
  while (at < bytes.size()) {
    const char type = bytes[at];
    const auto line_end = bytes.find("\r\n", at);
    if (line_end == std::string_view::npos) return true;  // cut short: nothing declared yet
    const auto line = bytes.substr(at + 1, line_end - at - 1);
    at = line_end + 2;
    if (type != '*' && type != '$') continue;  // +, -, : and anything hiredis will refuse itself
    long long declared = 0;
    const auto parsed = std::from_chars(line.data(), line.data() + line.size(), declared);
    if (parsed.ec != std::errc{} || parsed.ptr != line.data() + line.size()) return true;  // hiredis refuses it
    if (type == '*' && declared > kMaxReplyElements) return false;
    if (type == '$') {
      if (declared > kMaxReplyBulkBytes) return false;
      if (declared > 0) at += static_cast<std::size_t>(declared) + 2;
    }
  }
  return true;
}

namespace {

// hiredis's own object functions, with the array's count checked first.
redisReplyObjectFunctions bounded_functions() {
  redisReader* probe = redisReaderCreate();
  redisReplyObjectFunctions functions = *probe->fn;
  redisReaderFree(probe);
  return functions;
}

const redisReplyObjectFunctions kDefaultFunctions = bounded_functions();

void* create_bounded_array(const redisReadTask* task, int elements) {
  // Returning nothing makes the reader fail ("OOM"), which drops the connection.
  if (elements < 0 || elements > kMaxReplyElements) return nullptr;
  return kDefaultFunctions.createArray(task, elements);
}

const redisReplyObjectFunctions kBoundedFunctions = [] {
  auto functions = kDefaultFunctions;
  functions.createArray = create_bounded_array;
  return functions;
}();

}  // namespace

redisReader* make_bounded_reader() {
  redisReader* reader = redisReaderCreate();
  if (reader != nullptr) reader->fn = const_cast<redisReplyObjectFunctions*>(&kBoundedFunctions);
  return reader;
}

bool holds_too_much(const redisReader* reader) { return reader->len - reader->pos > kMaxPendingReplyBytes; }

std::optional<std::vector<Reply>> read_replies(std::string_view bytes) {
  if (!reply_sizes_are_bounded(bytes)) return std::nullopt;
  redisReader* reader = make_bounded_reader();
  if (!reader) return std::nullopt;
  std::vector<Reply> replies;
  bool ok = redisReaderFeed(reader, bytes.data(), bytes.size()) == REDIS_OK;
  while (ok) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
      ok = false;
      break;
    }
    if (!reply) break;
    replies.push_back(copy_reply(static_cast<redisReply*>(reply)));
    freeReplyObject(reply);
  }
  redisReaderFree(reader);
  if (!ok) return std::nullopt;
  return replies;
}

}  // namespace callgate::redis
