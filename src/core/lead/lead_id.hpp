// Lead ids: ULIDs (26 Crockford base-32 characters: 48 bits of Unix time in
// milliseconds, then 80 random bits), so ids sort by creation time, which
// the store's listing and pagination rely on, and cannot be guessed.
#pragma once

#include "core/lead/lead.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace callgate {

class LeadIdGenerator {
 public:
  LeadIdGenerator();  // seeded from the system's random device

  // Within one millisecond the random part counts up, so ids from one
  // generator never go backwards.
  std::string next(WallTime now);

 private:
  std::mt19937_64 random_;
  std::int64_t last_millisecond_ = -1;
  std::array<std::uint8_t, 10> last_random_{};
};

// Whether text has the shape of a lead id (26 base-32 characters).
bool is_lead_id(std::string_view text);

// The creation time a lead id carries.
std::optional<WallTime> lead_id_time(std::string_view lead_id);

}  // namespace callgate
