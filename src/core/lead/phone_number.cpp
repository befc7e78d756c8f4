#include "core/lead/phone_number.hpp"

#include <array>

namespace callgate {
namespace {

// National significant number rules per country code.
struct CountryRule {
  std::string_view code;
  std::size_t min_digits;
  std::size_t max_digits;
  std::string_view allowed_first_digits;
};

constexpr std::array<CountryRule, 6> kCountryRules = {{
    {"1", 10, 10, "23456789"},    // NANP: area codes never start with 0 or 1
    {"91", 10, 10, "123456789"},  // India: mobiles 6-9, landlines with STD code 1-5 and 8
    {"44", 9, 10, "123789"},      // UK
    {"61", 9, 9, "23478"},        // Australia
    {"65", 8, 8, "3689"},         // Singapore
    {"971", 8, 9, "2345679"},     // UAE: mobiles start with 5
}};

const CountryRule* rule_for(std::string_view digits) {
  for (const auto& rule : kCountryRules)
    if (digits.starts_with(rule.code)) return &rule;
  return nullptr;
}

PhoneNumberError error(std::string message) { return PhoneNumberError{std::move(message)}; }

}  // namespace

std::variant<PhoneNumber, PhoneNumberError> normalize_phone_number(std::string_view input,
                                                                   std::string_view default_country_code) {
  std::string digits;
  bool international = false;
  bool seen_digit = false;
  for (const char c : input) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      seen_digit = true;
    } else if (c == '+' && !seen_digit && !international) {
      international = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
      continue;
    } else {
      return error("may contain only digits, spaces, dashes, dots, brackets and a leading +");
    }
  }
  if (digits.empty()) return error("is empty");
  if (digits.size() > 20) return error("is too long for a phone number");

  if (!international && digits.starts_with("00")) {  // the international call prefix
    digits.erase(0, 2);
    international = true;
  }
  if (!international) {
    const CountryRule* home = rule_for(default_country_code);
    const std::size_t code_length = default_country_code.size();
    if (home != nullptr && home->code == default_country_code && digits.starts_with(default_country_code) &&
        digits.size() >= code_length + home->min_digits && digits.size() <= code_length + home->max_digits) {
      // The country code typed without "+": "919876543210".
    } else {
      if (digits.front() == '0')
        digits.erase(0, 1);  // trunk prefix
      else if (default_country_code == "1" && digits.size() == 11 && digits.front() == '1')
        digits.erase(0, 1);
      digits.insert(0, default_country_code);
    }
  }

  if (digits.front() == '0') return error("country code cannot start with 0");
  if (digits.size() < 8 || digits.size() > 15) return error("must have 8 to 15 digits with the country code");
  if (const CountryRule* rule = rule_for(digits)) {
    const std::string_view national = std::string_view(digits).substr(rule->code.size());
    if (national.size() < rule->min_digits || national.size() > rule->max_digits) {
      const auto expected = rule->min_digits == rule->max_digits
                                ? std::to_string(rule->min_digits)
                                : std::to_string(rule->min_digits) + " to " + std::to_string(rule->max_digits);
      return error("must have " + expected + " digits after +" + std::string(rule->code));
    }
    if (rule->allowed_first_digits.find(national.front()) == std::string_view::npos)
      return error("is not a valid number for +" + std::string(rule->code));
    return PhoneNumber{"+" + digits, std::string(rule->code)};
  }
  return PhoneNumber{"+" + digits, ""};
}

}  // namespace callgate
