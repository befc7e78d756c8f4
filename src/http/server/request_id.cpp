#include "http/server/request_id.hpp"

#include <random>

namespace callgate::http {

bool is_acceptable_request_id(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > 128) return false;
  for (const char c : candidate) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotate_left(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

RequestIdGenerator::RequestIdGenerator(std::uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

RequestIdGenerator RequestIdGenerator::seeded_from_os() {
  std::random_device device;
  const std::uint64_t seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  return RequestIdGenerator(seed);
}

std::uint64_t RequestIdGenerator::next_word() {
  const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotate_left(state_[3], 45);
  return result;
}

std::string RequestIdGenerator::next() {
  std::string id;
  next_into(id);
  return id;
}

void RequestIdGenerator::next_into(std::string& id) {
  static constexpr char digits[] = "0123456789abcdef";
  id.assign(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t word = next_word();
    for (int i = 0; i < 16; ++i) {
      id[static_cast<std::size_t>(half * 16 + i)] = digits[word & 0xf];
      word >>= 4;
    }
  }
}

}  // namespace callgate::http
