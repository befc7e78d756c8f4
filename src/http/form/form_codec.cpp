#include "http/form/form_codec.hpp"

#include <algorithm>
#include <cstring>

namespace callgate::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

std::optional<std::string> decode_form_component(std::string_view text) { return percent_decode(text, true); }

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  // Most names and values (a webhook's sids, statuses, numbers) have no
  // escape at all: copied whole, not a character at a time.
  std::size_t first_special = 0;
  while (first_special < text.size() && text[first_special] != '%' && !(plus_is_space && text[first_special] == '+'))
    ++first_special;
  if (first_special == text.size()) return std::string(text);
  std::string out(text.size(), '\0');
  std::memcpy(out.data(), text.data(), first_special);
  std::size_t length = first_special;
  for (std::size_t i = first_special; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out[length++] = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out[length++] = static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out[length++] = c;
    }
  }
  out.resize(length);
  return out;
}

std::optional<FormFields> parse_form(std::string_view body) {
  FormFields fields;
  fields.reserve(static_cast<std::size_t>(std::count(body.begin(), body.end(), '&')) + 1);
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view piece = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (piece.empty()) continue;
    const auto equals = piece.find('=');
    auto name = decode_form_component(piece.substr(0, equals));
    auto value = decode_form_component(equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string encode_form_component(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(digits[byte >> 4]);
      out.push_back(digits[byte & 0xf]);
    }
  }
  return out;
}

std::string encode_form(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += encode_form_component(name);
    out.push_back('=');
    out += encode_form_component(value);
  }
  return out;
}

std::optional<std::string_view> form_value(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

}  // namespace callgate::http
