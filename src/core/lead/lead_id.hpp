// Lead ids: ULIDs (26 Crockford base-32 characters: 48 bits of Unix time in
// milliseconds, then 80 random bits), so ids sort by creation time, which
// the store's listing and pagination rely on, and cannot be guessed.
#pragma once

#include "core/lead/lead.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callgate {

// Each id's 80 random bits come straight from the kernel's CSPRNG
// (getrandom), never from a seeded generator or a counter: an id is the only
// thing that lets a visitor's page read its enquiry's status, so knowing one
// id must say nothing about any other.
class LeadIdGenerator {
 public:
  // Ids never go backwards in their time part, even if the clock steps
  // back; within one millisecond they are in random order.
  std::string next(WallTime now);

 private:
  std::int64_t last_millisecond_ = -1;
};

// Whether text has the shape of a lead id (26 base-32 characters).
bool is_lead_id(std::string_view text);

// The creation time a lead id carries.
std::optional<WallTime> lead_id_time(std::string_view lead_id);

// The least id of a lead created at time or later (its millisecond, then
// the least random part): a store whose index sorts by id starts a
// "created since" listing there instead of at the oldest lead. An id's
// time never comes before its lead's creation, so none is skipped.
std::string lead_id_floor(WallTime time);

}  // namespace callgate
