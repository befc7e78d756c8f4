#include "core/phone_mask.hpp"

namespace callgate {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A URL escape such as %20 or %2B ends at position end (exclusive).
bool escape_ends_at(std::string_view text, std::size_t end) {
  return end >= 3 && text[end - 3] == '%' && is_hex(text[end - 2]) && is_hex(text[end - 1]);
}

// Length of a separator allowed between the digits of a phone number at pos, or 0.
std::size_t separator_length(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '+') return 1;
  if (c == '%' && pos + 2 < text.size()) {
    const std::string_view escape = text.substr(pos, 3);
    if (escape == "%20" || escape == "%2D" || escape == "%2d" || escape == "%28" || escape == "%29") return 3;
  }
  return 0;
}

// Up to two separators in a row ("(415) 555": ") ") followed by a digit;
// their total length, or 0.
std::size_t separators_before_digit(std::string_view text, std::size_t pos) {
  std::size_t length = 0;
  for (int count = 0; count < 2 && pos + length < text.size(); ++count) {
    const std::size_t sep = separator_length(text, pos + length);
    if (sep == 0) break;
    length += sep;
    if (pos + length < text.size() && is_digit(text[pos + length])) return length;
  }
  return 0;
}

// A number starts after a non-alphanumeric or after an escape such as %2B.
bool starts_token(std::string_view text, std::size_t pos) {
  return pos == 0 || !is_alnum(text[pos - 1]) || escape_ends_at(text, pos);
}

constexpr int kMinDigits = 7;
constexpr int kMaxDigits = 15;
constexpr int kDigitsKept = 3;

}  // namespace

void append_masked_phone_numbers(std::string& out, std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!is_digit(text[pos]) || !starts_token(text, pos)) {
      out.push_back(text[pos++]);
      continue;
    }
    // Walk the candidate run: digits with one or two separators between them.
    std::size_t end = pos;
    std::size_t last_digit_end = pos;
    int digits = 0;
    while (end < text.size()) {
      if (is_digit(text[end])) {
        ++digits;
        last_digit_end = ++end;
      } else if (std::size_t gap = separators_before_digit(text, end); gap != 0) {
        end += gap;
      } else {
        break;
      }
    }
    const bool stands_alone =
        last_digit_end == text.size() || !is_alnum(text[last_digit_end]) || text[last_digit_end] == '%';
    if (digits < kMinDigits || digits > kMaxDigits || !stands_alone) {
      out.append(text.substr(pos, last_digit_end - pos));
      pos = last_digit_end;
      continue;
    }
    int seen = 0;
    for (std::size_t i = pos; i < last_digit_end; ++i) {
      if (text[i] == '%') {  // an escaped separator such as %20: its hex digits are not the number's
        out.append(text.substr(i, 3));
        i += 2;
      } else if (is_digit(text[i])) {
        ++seen;
        out.push_back(seen > digits - kDigitsKept ? text[i] : '*');
      } else {
        out.push_back(text[i]);
      }
    }
    pos = last_digit_end;
  }
}

std::string mask_phone_numbers(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_masked_phone_numbers(out, text);
  return out;
}

}  // namespace callgate
