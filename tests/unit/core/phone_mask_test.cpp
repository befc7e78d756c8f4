#include "core/phone_mask.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;

BOOST_AUTO_TEST_SUITE(phone_mask)

BOOST_AUTO_TEST_CASE(masks_numbers_in_the_forms_people_write_them) {
  BOOST_TEST(mask_phone_numbers("+919876543210") == "+*********210");
  BOOST_TEST(mask_phone_numbers("+91 98765 43210") == "+** ***** **210");
  BOOST_TEST(mask_phone_numbers("(415) 555-0100") == "(***) ***-*100");
  BOOST_TEST(mask_phone_numbers("call 09876543210 now") == "call ********210 now");
  BOOST_TEST(mask_phone_numbers("1234567") == "****567");
}

BOOST_AUTO_TEST_CASE(masks_url_encoded_numbers_in_query_strings_and_forms) {
  BOOST_TEST(mask_phone_numbers("/webhook?To=%2B14155550100&From=%2B918041234567") ==
             "/webhook?To=%2B********100&From=%2B*********567");
  BOOST_TEST(mask_phone_numbers("phone=%2B91%2098765%2043210") == "phone=%2B**%20*****%20**210");
  BOOST_TEST(mask_phone_numbers("phone=+91+98765+43210") == "phone=+**+*****+**210");
  BOOST_TEST(mask_phone_numbers("{\"phone\":\"+14155550100\"}") == "{\"phone\":\"+********100\"}");
}

BOOST_AUTO_TEST_CASE(leaves_what_is_not_a_phone_number) {
  for (const char* text : {"127.0.0.1", "10.20.30.40:8080", "version 1.2.3", "/leads/01HZX3K9Q2", "status 200",
                           "CA1234567890abcdef1234567890abcdef", "0123456789abcdef0123456789abcdef", "123456",
                           "1234567890123456789", "duration_us=1234"})
    BOOST_TEST(mask_phone_numbers(text) == text);
}

BOOST_AUTO_TEST_CASE(never_leaves_more_than_three_digits_of_any_number) {
  const std::string masked = mask_phone_numbers("a +44 20 7946 0958 b 5550100999 c");
  BOOST_TEST(masked == "a +** ** **** *958 b *******999 c");
}

BOOST_AUTO_TEST_SUITE_END()
