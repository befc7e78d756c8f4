#include "core/lead/phone_number.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

namespace {

std::string normalized(std::string_view input, std::string_view country = "91") {
  auto result = normalize_phone_number(input, country);
  if (auto* error = std::get_if<PhoneNumberError>(&result)) return "error: " + error->message;
  return std::get<PhoneNumber>(result).e164;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(phone_number)

BOOST_AUTO_TEST_CASE(international_forms_from_several_countries) {
  BOOST_TEST(normalized("+91 98765 43210") == "+919876543210");
  BOOST_TEST(normalized("+91-80-4123-4567") == "+918041234567");  // Bengaluru landline
  BOOST_TEST(normalized("0091 98765 43210") == "+919876543210");
  BOOST_TEST(normalized("+1 (415) 555-0100") == "+14155550100");
  BOOST_TEST(normalized("+44 20 7946 0958") == "+442079460958");
  BOOST_TEST(normalized("+61 2 9876 5432") == "+61298765432");
  BOOST_TEST(normalized("+65 6123 4567") == "+6561234567");
  BOOST_TEST(normalized("+971 50 123 4567") == "+971501234567");
  BOOST_TEST(normalized("+49 30 1234567") == "+49301234567");  // no rule: E.164's own
  BOOST_TEST(normalized("+49.30.1234567") == "+49301234567");
}

BOOST_AUTO_TEST_CASE(national_forms_take_the_default_country) {
  BOOST_TEST(normalized("98765 43210") == "+919876543210");
  BOOST_TEST(normalized("098765-43210") == "+919876543210");  // trunk 0
  BOOST_TEST(normalized("919876543210") == "+919876543210");  // code without +
  BOOST_TEST(normalized("(415) 555-0100", "1") == "+14155550100");
  BOOST_TEST(normalized("1 415 555 0100", "1") == "+14155550100");  // NANP trunk 1
  BOOST_TEST(normalized("020 7946 0958", "44") == "+442079460958");
}

BOOST_AUTO_TEST_CASE(invalid_numbers_say_why) {
  BOOST_TEST(normalized("") == "error: is empty");
  BOOST_TEST(normalized("  ") == "error: is empty");
  BOOST_TEST(normalized("call me") == "error: may contain only digits, spaces, dashes, dots, brackets and a leading +");
  BOOST_TEST(normalized("+91 98765 4321x") ==
             "error: may contain only digits, spaces, dashes, dots, brackets and a leading +");
  BOOST_TEST(normalized("98765+43210") ==
             "error: may contain only digits, spaces, dashes, dots, brackets and a leading +");
  BOOST_TEST(normalized("++919876543210") ==
             "error: may contain only digits, spaces, dashes, dots, brackets and a leading +");
  BOOST_TEST(normalized("+91 98765 4321") == "error: must have 10 digits after +91");
  BOOST_TEST(normalized("+91 98765 432100") == "error: must have 10 digits after +91");
  BOOST_TEST(normalized("+91 0876543210") == "error: is not a valid number for +91");
  BOOST_TEST(normalized("+1 (015) 555-0100") == "error: is not a valid number for +1");
  BOOST_TEST(normalized("+44 20 7946") == "error: must have 9 to 10 digits after +44");
  BOOST_TEST(normalized("+0 123456789") == "error: country code cannot start with 0");
  BOOST_TEST(normalized("+49 123") == "error: must have 8 to 15 digits with the country code");
  BOOST_TEST(normalized("+49 1234 5678 9012 3456") == "error: must have 8 to 15 digits with the country code");
  BOOST_TEST(normalized(std::string(40, '9')) == "error: is too long for a phone number");
}

BOOST_AUTO_TEST_CASE(the_country_code_is_reported) {
  auto result = normalize_phone_number("+971 50 123 4567", "91");
  BOOST_REQUIRE(std::holds_alternative<PhoneNumber>(result));
  BOOST_TEST(std::get<PhoneNumber>(result).country_code == "971");
}

BOOST_AUTO_TEST_SUITE_END()
