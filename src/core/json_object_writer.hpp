// A JSON object written straight as text, field by field, for the records
// the journals write on the hot path (a lead, an event, a dial job): the
// same JSON Boost.JSON would give for the object, without building it first.
#pragma once

#include "core/civil_time.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace callgate {

// A JSON object written field by field. Strings are escaped as JSON needs
// (quote, backslash, control characters) and otherwise kept byte for byte,
// as Boost.JSON's serializer keeps them: what a provider sent is stored as
// it came, valid UTF-8 or not (parse_stored_json reads it back).
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void text(std::string_view key, std::string_view value) {
    this->key(key);
    quoted(value);
  }
  void text_if_any(std::string_view key, const std::string& value) {
    if (!value.empty()) text(key, value);
  }
  void time_if_any(std::string_view key, const std::optional<WallTime>& value) {
    if (!value) return;
    this->key(key);
    out_.push_back('"');
    append_iso8601(out_, *value);  // digits, '-', ':', '.' and 'Z': nothing to escape
    out_.push_back('"');
  }
  // A number that is not finite is left out like an absent one: JSON has
  // no NaN or infinity, and a record with "nan" in it would not read back.
  template <class Number>
  void number_if_any(std::string_view key, const std::optional<Number>& value) {
    if (!value) return;
    if constexpr (std::is_floating_point_v<Number>)
      if (!std::isfinite(*value)) return;
    this->key(key);
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, *value);
    const std::string_view digits(buffer, static_cast<std::size_t>(end - buffer));
    out_.append(digits);
    // A whole double keeps a fraction so it reads back as a double.
    if constexpr (std::is_floating_point_v<Number>)
      if (digits.find_first_of(".en") == std::string_view::npos) out_.append(".0");
  }
  void time(std::string_view key, WallTime value) { time_if_any(key, std::optional<WallTime>(value)); }
  template <class Number>
  void number(std::string_view key, Number value) {
    number_if_any(key, std::optional<Number>(value));
  }
  void boolean(std::string_view key, bool value) {
    this->key(key);
    out_.append(value ? "true" : "false");
  }
  // Text that is JSON already.
  void raw(std::string_view key, std::string_view json_text) {
    this->key(key);
    out_.append(json_text);
  }
  // An object inside this one; close it before writing here again.
  JsonObjectWriter object(std::string_view key) {
    this->key(key);
    return JsonObjectWriter(out_);
  }
  // An array of objects, each written by write(JsonObjectWriter&, item).
  template <class Items, class Write>
  void objects(std::string_view key, const Items& items, Write&& write) {
    this->key(key);
    out_.push_back('[');
    bool first = true;
    for (const auto& item : items) {
      if (!first) out_.push_back(',');
      first = false;
      JsonObjectWriter element(out_);
      write(element, item);
      element.close();
    }
    out_.push_back(']');
  }
  void close() { out_.push_back('}'); }

 private:
  // Keys are this file's own literals, which need no escape.
  void key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    out_.append(key.data(), key.size());
    out_.append("\":", 2);
  }
  void quoted(std::string_view value) {
    static constexpr char hex[] = "0123456789abcdef";
    out_.push_back('"');
    // Runs that need no escape (nearly everything) are appended whole.
    std::size_t run = 0;
    for (std::size_t at = first_to_escape(value, 0); at < value.size(); at = first_to_escape(value, run)) {
      const char c = value[at];
      const auto byte = static_cast<unsigned char>(c);
      out_.append(value.data() + run, at - run);
      run = at + 1;
      if (byte >= 0x20) {
        out_.push_back('\\');
        out_.push_back(c);
      } else {
        const char escaped[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xf]};
        out_.append(escaped, sizeof escaped);
      }
    }
    out_.append(value.data() + run, value.size() - run);
    out_.push_back('"');
  }

  static bool needs_escape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

  // Where the first byte from `from` on that JSON must escape is, or the
  // size. Eight bytes are looked at together: a word in which no byte is a
  // quote, a backslash or below 0x20 is skipped whole. (The tests below can
  // report a byte that is none of those, never miss one: a word they flag
  // is looked at byte by byte.)
  static std::size_t first_to_escape(std::string_view value, std::size_t from) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::size_t at = from;
    while (at + 8 <= value.size()) {
      std::uint64_t word;
      std::memcpy(&word, value.data() + at, sizeof word);
      const std::uint64_t quote = word ^ (ones * '"');
      const std::uint64_t backslash = word ^ (ones * '\\');
      const std::uint64_t flagged =
          ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((word - ones * 0x20) & ~word);
      if ((flagged & highs) == 0) {
        at += 8;
        continue;
      }
      for (const auto end = at + 8; at < end; ++at)
        if (needs_escape(value[at])) return at;
    }
    for (; at < value.size(); ++at)
      if (needs_escape(value[at])) return at;
    return value.size();
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace callgate
