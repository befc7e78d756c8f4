#include "http/form/form_codec.hpp"

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <cstdio>

using namespace callgate::http;

BOOST_AUTO_TEST_SUITE(form_codec)

BOOST_AUTO_TEST_CASE(parses_provider_webhook_bodies) {
  auto fields = parse_form("CallSid=CA1&From=%2B14155550100&CallStatus=in-progress&Caller=+1+415&Empty=&Flag");
  BOOST_TEST_REQUIRE(fields.has_value());
  BOOST_TEST_REQUIRE(fields->size() == 6u);
  BOOST_TEST(*form_value(*fields, "From") == "+14155550100");
  BOOST_TEST(*form_value(*fields, "Caller") == " 1 415");
  BOOST_TEST(*form_value(*fields, "Empty") == "");
  BOOST_TEST(*form_value(*fields, "Flag") == "");
  BOOST_TEST(!form_value(*fields, "Missing").has_value());
}

BOOST_AUTO_TEST_CASE(keeps_repeated_names_in_order) {
  auto fields = parse_form("StatusCallbackEvent=initiated&&StatusCallbackEvent=ringing&");
  BOOST_TEST_REQUIRE(fields->size() == 2u);
  BOOST_TEST((*fields)[0].second == "initiated");
  BOOST_TEST((*fields)[1].second == "ringing");
}

BOOST_AUTO_TEST_CASE(decodes_escapes_anywhere_in_a_name_or_value) {
  // Escapes first, last, back to back and between plain runs, in names too.
  auto fields = parse_form("%41=%42&a%2Bb=+x%20y+&c=%2b%2B%25&d=++&SpeechResult=yes+please%2C+call%21");
  BOOST_TEST_REQUIRE(fields.has_value());
  BOOST_TEST_REQUIRE(fields->size() == 5u);
  BOOST_TEST((*fields)[0].first == "A");
  BOOST_TEST((*fields)[0].second == "B");
  BOOST_TEST((*fields)[1].first == "a+b");
  BOOST_TEST((*fields)[1].second == " x y ");
  BOOST_TEST((*fields)[2].second == "++%");
  BOOST_TEST((*fields)[3].second == "  ");
  BOOST_TEST((*fields)[4].second == "yes please, call!");
  BOOST_TEST(*form_value(*fields, "c") == "++%");
}

BOOST_AUTO_TEST_CASE(rejects_malformed_escapes) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g0=1", "a=ok&b=%2", "a=x%", "a=%4%41", "a+%=1", "a=b+%g"})
    BOOST_TEST(!parse_form(bad).has_value(), bad);
  BOOST_TEST(parse_form("")->empty());
}

BOOST_AUTO_TEST_CASE(encodes_so_that_it_parses_back) {
  const FormFields fields = {{"To", "+919876543210"},
                             {"Url", "https://x.example/twiml?leadId=a b&c"},
                             {"StatusCallbackEvent", "initiated"},
                             {"StatusCallbackEvent", "ringing"},
                             {"Odd", std::string("caf\xc3\xa9 ~_.-", 10)}};
  const auto body = encode_form(fields);
  BOOST_TEST(body.find("To=%2B919876543210") != std::string::npos, body);
  BOOST_TEST(body.find("StatusCallbackEvent=initiated&StatusCallbackEvent=ringing") != std::string::npos, body);
  BOOST_TEST(body.find("caf%C3%A9+~_.-") != std::string::npos, body);
  BOOST_TEST((*parse_form(body) == fields));
}

BOOST_AUTO_TEST_CASE(encodes_every_byte_and_empty_pieces) {
  // Each of the 256 bytes alone and between plain letters: unreserved as it
  // is, space as '+', the rest %XX in upper-case hex, and the size exact.
  for (int c = 0; c < 256; ++c) {
    const char byte = static_cast<char>(c);
    const bool unreserved = std::isalnum(c) != 0 || byte == '-' || byte == '.' || byte == '_' || byte == '~';
    char escaped[4];
    std::snprintf(escaped, sizeof escaped, "%%%02X", c);
    const std::string alone = unreserved ? std::string(1, byte) : byte == ' ' ? "+" : escaped;
    BOOST_TEST(encode_form_component(std::string_view(&byte, 1)) == alone, c);
    const std::string between = std::string("a") + byte + "b";
    BOOST_TEST(encode_form_component(between) == "a" + alone + "b", c);
    BOOST_TEST(*decode_form_component(encode_form_component(between)) == between, c);
  }
  BOOST_TEST(encode_form_component("") == "");
  BOOST_TEST(encode_form({}) == "");
  BOOST_TEST(encode_form({{"", ""}}) == "=");
  BOOST_TEST(encode_form({{"a", ""}, {"", "b"}, {"c d", "%"}}) == "a=&=b&c+d=%25");
}

BOOST_AUTO_TEST_CASE(percent_decoding_of_paths_keeps_plus) {
  BOOST_TEST(*percent_decode("a+b%20c", false) == "a+b c");
  BOOST_TEST(*percent_decode("a+b%20c", true) == "a b c");
}

BOOST_AUTO_TEST_SUITE_END()
