#include "core/redis/redis_reply.hpp"

#include <hiredis/hiredis.h>

namespace callgate::redis {

Reply copy_reply(const redisReply* reply) {
  Reply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING: out.type = Reply::Type::string; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_STATUS: out.type = Reply::Type::status; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_ERROR: out.type = Reply::Type::error; out.text.assign(reply->str, reply->len); break;
    case REDIS_REPLY_INTEGER: out.type = Reply::Type::integer; out.integer = reply->integer; break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      for (std::size_t index = 0; index < reply->elements; ++index) out.elements.push_back(copy_reply(reply->element[index]));
      break;
    default: out.type = Reply::Type::nil;
  }
  return out;
}

std::optional<std::vector<Reply>> read_replies(std::string_view bytes) {
  redisReader* reader = redisReaderCreate();
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
