// Phone numbers as people type them, normalized to E.164 ("+919876543210").
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace callgate {

struct PhoneNumber {
  std::string e164;          // "+" then 8 to 15 digits
  std::string country_code;  // "91", "1", "44", ...
};

struct PhoneNumberError {
  std::string message;  // for the 422 answer's "fields": {"phone": message}
};

// Accepts "+91 98765 43210", "0091-98765-43210", "(415) 555-0100" (with the
// default country code "1"), "098765 43210" (a national number with its
// trunk 0, with "91"), "919876543210" (the country code without "+", where
// the length says so). Spaces, dashes, dots and brackets are ignored;
// anything else is an error. default_country_code is digits only ("91").
//
// The length and leading-digit rules of the countries callgate serves most
// (NANP, India, UK, Australia, Singapore, UAE) are checked; other countries
// get E.164's own rule (8 to 15 digits, no leading zero).
std::variant<PhoneNumber, PhoneNumberError> normalize_phone_number(std::string_view input,
                                                                   std::string_view default_country_code);

}  // namespace callgate
