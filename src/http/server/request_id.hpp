// X-Request-Id: kept from the request when it is sane (so a trace crosses a
// proxy or a caller's own logs), otherwise generated here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callgate::http {

// 1 to 128 characters of [A-Za-z0-9._:-]: enough for UUIDs, ULIDs and
// trace ids, and nothing that could break a log line or a header.
bool is_acceptable_request_id(std::string_view candidate);

// 128 random bits as 32 lowercase hex digits. One generator per reactor
// (xoshiro256**, seeded once from the OS), so no lock and no syscall per id.
class RequestIdGenerator {
 public:
  explicit RequestIdGenerator(std::uint64_t seed);
  static RequestIdGenerator seeded_from_os();
  std::string next();
  // Writes the next id into out, reusing its storage.
  void next_into(std::string& out);

 private:
  std::uint64_t next_word();
  std::uint64_t state_[4];
};

}  // namespace callgate::http
