#include "http/form/form_codec.hpp"

#include <array>
#include <cstring>

namespace callgate::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

namespace {

// Appends text, percent-decoded, to out; false on a malformed escape. Runs
// of plain characters (most names and values: sids, statuses, numbers have
// no escape at all) are copied whole, not a character at a time.
bool append_decoded(std::string& out, std::string_view text, bool plus_is_space) {
  const char* const end = text.data() + text.size();
  // memchr, not a loop over characters: it looks at many bytes per step.
  auto next_special = [end, plus_is_space](const char* at) {
    const auto* stop = static_cast<const char*>(std::memchr(at, '%', static_cast<std::size_t>(end - at)));
    if (!stop) stop = end;
    if (plus_is_space)
      if (const auto* plus = static_cast<const char*>(std::memchr(at, '+', static_cast<std::size_t>(stop - at))))
        stop = plus;
    return stop;
  };
  const char* at = next_special(text.data());
  if (at == end) {
    out.append(text.data(), text.size());
    return true;
  }
  out.reserve(out.size() + text.size());
  const char* plain = text.data();
  while (at != end) {
    out.append(plain, static_cast<std::size_t>(at - plain));
    if (*at == '+') {
      out.push_back(' ');
      ++at;
    } else {
      if (end - at < 3) return false;
      const int high = hex_value(at[1]);
      const int low = hex_value(at[2]);
      if (high < 0 || low < 0) return false;
      out.push_back(static_cast<char>(high * 16 + low));
      at += 3;
    }
    plain = at;
    at = next_special(at);
  }
  out.append(plain, static_cast<std::size_t>(end - plain));
  return true;
}

}  // namespace

std::optional<std::string> decode_form_component(std::string_view text) { return percent_decode(text, true); }

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  if (!append_decoded(out, text, plus_is_space)) return std::nullopt;
  return out;
}

std::optional<FormFields> parse_form(std::string_view body) {
  // Each name and value is decoded straight into its place in the list.
  std::optional<FormFields> parsed(std::in_place);
  FormFields& fields = *parsed;
  fields.reserve(8);
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view piece = body.substr(0, amp);
    body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
    if (piece.empty()) continue;
    const auto equals = piece.find('=');
    auto& [name, value] = fields.emplace_back();
    if (!append_decoded(name, piece.substr(0, equals), true) ||
        (equals != std::string_view::npos && !append_decoded(value, piece.substr(equals + 1), true)))
      return std::nullopt;
  }
  return parsed;
}

namespace {

// What form encoding writes for each byte: itself (unreserved), '+' (a
// space) or %XX, padded to four bytes so a byte's encoding is copied in one
// move without a branch. A Create Call body is ~1 KB of URLs, and appending
// a character at a time was a tenth of an enquiry's instructions
// (bench/enquiry-instructions).
struct FormByte {
  char text[3];
  unsigned char length;
};

constexpr std::array<FormByte, 256> kFormBytes = [] {
  constexpr char digits[] = "0123456789ABCDEF";
  std::array<FormByte, 256> table{};
  for (int c = 0; c < 256; ++c) {
    auto& entry = table[static_cast<std::size_t>(c)];
    if (is_unreserved(static_cast<char>(c))) {
      entry = {{static_cast<char>(c), 0, 0}, 1};
    } else if (c == ' ') {
      entry = {{'+', 0, 0}, 1};
    } else {
      entry = {{'%', digits[c >> 4], digits[c & 0xf]}, 3};
    }
  }
  return table;
}();

// Writes text encoded at out, which has room for 3 * text.size() + 1 bytes
// (each encoding is copied whole, four bytes); returns the end.
char* write_encoded(char* out, std::string_view text) {
  for (const char c : text) {
    const FormByte& encoded = kFormBytes[static_cast<unsigned char>(c)];
    std::memcpy(out, &encoded, sizeof encoded);
    out += encoded.length;
  }
  return out;
}

static_assert(sizeof(FormByte) == 4);

}  // namespace

std::string encode_form_component(std::string_view text) {
  std::string out(3 * text.size() + 1, '\0');
  out.resize(static_cast<std::size_t>(write_encoded(out.data(), text) - out.data()));
  return out;
}

std::string encode_form(const FormFields& fields) {
  std::size_t room = 1;
  for (const auto& [name, value] : fields) room += 3 * (name.size() + value.size()) + 2;  // '=' and '&'
  std::string out(room, '\0');
  char* at = out.data();
  for (const auto& [name, value] : fields) {
    if (at != out.data()) *at++ = '&';
    at = write_encoded(at, name);
    *at++ = '=';
    at = write_encoded(at, value);
  }
  out.resize(static_cast<std::size_t>(at - out.data()));
  return out;
}

}  // namespace callgate::http
