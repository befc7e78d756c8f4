// Replies as the Redis connection reads them off the socket (hiredis's
// RESP reader, then copied into callgate's Reply): any bytes, no crash.
#include "core/redis/redis_reply.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)callgate::redis::read_replies(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
