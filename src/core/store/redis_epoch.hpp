// Telling a Redis that lost its data from one that never had any. Redis
// without persistence that restarts comes back empty, and to callgated an
// empty Redis looks like a new one: every lead, call sid and job gone, and
// nothing said. So the first host to use a Redis writes a random epoch
// under {prefix}epoch and every host keeps the value it saw in a file of its
// own (beside its spool); on every connect the two are compared.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace callgate::store {

enum class EpochFinding {
  first_use,  // no epoch in Redis, none known here: this Redis is new to us
  same,       // Redis holds the epoch this host knows
  lost,       // this host knew an epoch and Redis has none, or another: its data is gone
};

// Pure: what a connect found. in_redis: the value of {prefix}epoch (nothing when absent).
EpochFinding judge_epoch(const std::optional<std::string>& in_redis, std::string_view known_here);

// The epoch file: read (empty when absent or unreadable) and written
// (atomically, 0600, never through a symlink; false on failure). Plain
// blocking calls of a few hundred bytes: made at construction and on a
// connect that finds a new epoch, never on a request.
std::string read_epoch_file(const std::string& path);
bool write_epoch_file(const std::string& path, std::string_view epoch);

// A fresh random epoch (hex).
std::string new_epoch();

}  // namespace callgate::store
