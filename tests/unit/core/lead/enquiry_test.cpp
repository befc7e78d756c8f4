#include "core/lead/enquiry.hpp"
#include "http/form/form_codec.hpp"  // the form a browser sends, as the endpoint reads it

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <ostream>

using namespace callgate;

namespace {

std::variant<Enquiry, FieldErrors> from_json(std::string_view text, const IntakeConfig& intake = {}) {
  return read_enquiry_json(boost::json::parse(text), intake);
}

std::string errors_of(const std::variant<Enquiry, FieldErrors>& result) {
  std::string text;
  if (const auto* errors = std::get_if<FieldErrors>(&result))
    for (const auto& [field, message] : *errors) text += field + ": " + message + "; ";
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(enquiry)

BOOST_AUTO_TEST_CASE(a_complete_json_enquiry) {
  const auto result = from_json(R"({"phone":"098765 43210","consent":true,"name":"Asha Rao","email":"asha@example.in",)"
                                R"("source":"pricing","metadata":{"utm":"diwali","n":3},"extra":"ignored"})");
  const auto* enquiry = std::get_if<Enquiry>(&result);
  BOOST_TEST_REQUIRE(enquiry != nullptr, errors_of(result));
  BOOST_TEST(enquiry->phone.e164 == "+919876543210");
  BOOST_TEST(enquiry->name == "Asha Rao");
  BOOST_TEST(enquiry->email == "asha@example.in");
  BOOST_TEST(enquiry->source == "pricing");
  BOOST_TEST(enquiry->metadata_json == R"({"utm":"diwali","n":3})");
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once) {
  const auto result = from_json(R"({"phone":"12","consent":"yes","email":"a@b","name":["x"],"metadata":"no"})");
  const auto* errors = std::get_if<FieldErrors>(&result);
  BOOST_TEST_REQUIRE(errors != nullptr);
  BOOST_TEST(errors->count("phone") == 1u);
  BOOST_TEST(errors->at("consent") == "must be true or false");
  BOOST_TEST(errors->at("email") == "is not an email address");
  BOOST_TEST(errors->at("name") == "must be a string");
  BOOST_TEST(errors->at("metadata") == "must be an object");
}

BOOST_AUTO_TEST_CASE(consent_must_be_given) {
  BOOST_TEST(errors_of(from_json(R"({"phone":"+919876543210"})")).find("consent: is required") != std::string::npos);
  BOOST_TEST(errors_of(from_json(R"({"phone":"+919876543210","consent":false})")).find("consent: must be true") !=
             std::string::npos);
  BOOST_TEST(errors_of(from_json(R"({"consent":true})")) == "phone: is required; ");
}

BOOST_AUTO_TEST_CASE(lengths_are_bounded) {
  IntakeConfig intake;
  intake.max_name_length = 5;
  intake.max_metadata_bytes = 10;
  const auto result =
      from_json(R"({"phone":"+919876543210","consent":true,"name":"Alexandra","metadata":{"k":"0123456789"}})", intake);
  BOOST_TEST(errors_of(result) == "metadata: is larger than 10 bytes; name: is longer than 5 characters; ");
  BOOST_TEST(
      std::holds_alternative<FieldErrors>(from_json(R"({"phone":")" + std::string(41, '9') + R"(","consent":true})")));
  BOOST_TEST(errors_of(from_json("{\"phone\":\"+919876543210\",\"consent\":true,\"name\":\"a\\u0000b\"}")) ==
             "name: contains control characters; ");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_refused_when_the_config_says_so) {
  IntakeConfig strict;
  strict.unknown_fields = UnknownFields::reject;
  BOOST_TEST(errors_of(from_json(R"({"phone":"+919876543210","consent":true,"fax":"1"})", strict)) ==
             "fax: is not a field callgate knows; ");
  BOOST_TEST(std::holds_alternative<Enquiry>(from_json(R"({"phone":"+919876543210","consent":true,"fax":"1"})")));
}

BOOST_AUTO_TEST_CASE(not_an_object_at_all) {
  BOOST_TEST(errors_of(from_json("[1,2]")) == "body: must be a JSON object; ");
}

BOOST_AUTO_TEST_CASE(html_forms_with_a_checkbox_and_metadata_fields) {
  const auto fields = http::parse_form("phone=%28415%29+555-0100&consent=on&name=Sam&metadata%5Bpage%5D=home");
  IntakeConfig intake;
  intake.default_country_code = "1";
  const auto result = read_enquiry_form(*fields, intake);
  const auto* enquiry = std::get_if<Enquiry>(&result);
  BOOST_TEST_REQUIRE(enquiry != nullptr, errors_of(result));
  BOOST_TEST(enquiry->phone.e164 == "+14155550100");
  BOOST_TEST(enquiry->metadata_json == R"({"page":"home"})");
  BOOST_TEST(errors_of(read_enquiry_form({{"phone", "+14155550100"}}, intake)).find("consent: is required") !=
             std::string::npos);
  BOOST_TEST(errors_of(read_enquiry_form({{"phone", "+14155550100"}, {"consent", "maybe"}}, intake)) ==
             "consent: must be true or false; ");
}

BOOST_AUTO_TEST_SUITE_END()
