// The Create-call request callgate sends, checked against Twilio's own
// OpenAPI description (CreateCallRequest in twilio_api_v2010.json): every
// field name exists, every value fits its declared type, enum and format,
// only array fields repeat, and the required fields are there. Skipped,
// saying so, where the reference file is not present (it lives outside the
// repository, in ../shared/reference, or wherever CALLGATE_REFERENCE_DIR
// points).
#include "core/lead/call_status.hpp"
#include "http/form/form_codec.hpp"
#include "providers/twilio/client.hpp"
#include "providers/twilio/settings.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace callgate;
using namespace callgate::providers;
namespace json = boost::json;

namespace {

std::filesystem::path reference_file() {
  if (const char* directory = std::getenv("CALLGATE_REFERENCE_DIR"))
    return std::filesystem::path(directory) / "twilio_api_v2010.json";
  return std::filesystem::path(CALLGATE_SOURCE_DIR) / ".." / "shared" / "reference" / "twilio_api_v2010.json";
}

struct ReferencePresent {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result present = std::filesystem::exists(reference_file());
    if (!present)
      present.message() << "SKIPPED: Twilio's OpenAPI description is not at " << reference_file().string()
                        << " (set CALLGATE_REFERENCE_DIR to check the Create-call request against it)";
    return present;
  }
};

json::value load_reference() {
  std::ifstream file(reference_file(), std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return json::parse(text.str());
}

const json::object& create_call_schema(const json::value& reference) {
  return reference.at("paths")
      .at("/2010-04-01/Accounts/{AccountSid}/Calls.json")
      .at("post")
      .at("requestBody")
      .at("content")
      .at("application/x-www-form-urlencoded")
      .at("schema")
      .as_object();
}

bool is_integer(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Everything optional switched on, so every field callgate can send is checked.
Config fully_configured() {
  Config config;
  config.server.public_base_url = "https://gw.example.com";
  auto& twilio = twilio::settings_of(config);
  twilio.account_sid = "AC0123456789abcdef0123456789abcdef";
  twilio.auth_token = "token";
  twilio.phone_number = "+14155550100";
  twilio.record_calls = true;
  twilio.ring_timeout_seconds = 30;
  twilio.time_limit_seconds = 900;
  twilio.machine_detection = "DetectMessageEnd";
  return config;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_openapi_conformance, *boost::unit_test::precondition(ReferencePresent()))

BOOST_AUTO_TEST_CASE(every_field_sent_is_declared_and_fits_its_type) {
  const auto reference = load_reference();
  const auto& schema = create_call_schema(reference);
  BOOST_TEST(schema.at("title").as_string() == "CreateCallRequest");
  const auto& properties = schema.at("properties").as_object();

  const auto request = providers::twilio::build_create_call_request(fully_configured(), {"lead-1", "+14155550123"});
  const auto fields = http::parse_form(request.body);
  BOOST_TEST_REQUIRE(fields.has_value());

  std::map<std::string, int> occurrences;
  for (const auto& [name, value] : *fields) {
    ++occurrences[name];
    const auto* declared = properties.if_contains(name);
    BOOST_TEST_REQUIRE(declared != nullptr, name << " is not a CreateCallRequest field");
    const auto& property = declared->as_object();
    const std::string type(property.at("type").as_string());
    const auto* item_schema = type == "array" ? &property.at("items").as_object() : &property;
    const std::string value_type(item_schema->at("type").as_string());
    if (value_type == "boolean")
      BOOST_TEST((value == "true" || value == "false"), name << "=" << value);
    else if (value_type == "integer")
      BOOST_TEST(is_integer(value), name << "=" << value);
    else
      BOOST_TEST(value_type == "string", name << " has type " << value_type);
    if (const auto* allowed = item_schema->if_contains("enum")) {
      const auto& options = allowed->as_array();
      BOOST_TEST((std::find(options.begin(), options.end(), json::value(value)) != options.end()),
                 name << "=" << value << " is not in its enum");
    }
    if (const auto* format = item_schema->if_contains("format"); format && format->as_string() == "uri") {
      const auto url = boost::urls::parse_absolute_uri(value);
      BOOST_TEST((url && (url->scheme() == "https" || url->scheme() == "http")), name << "=" << value);
    }
  }
  for (const auto& [name, count] : occurrences)
    if (count > 1)
      BOOST_TEST(properties.at(name).as_object().at("type").as_string() == "array", name << " repeats but is no array");

  for (const auto& required : schema.at("required").as_array())
    BOOST_TEST(occurrences.contains(std::string(required.as_string())), required.as_string() << " is required");
  // Twilio needs one of Url, Twiml or ApplicationSid; callgate always sends Url.
  BOOST_TEST(occurrences.contains("Url"));
  // Recording on: both sides on their own channel, each step reported back.
  BOOST_TEST(occurrences["RecordingChannels"] == 1);
  BOOST_TEST(occurrences["RecordingStatusCallback"] == 1);
  BOOST_TEST(occurrences["RecordingStatusCallbackEvent"] == 3);
  BOOST_TEST(http::form_value(*fields, "RecordingStatusCallback").value_or("") ==
             "https://gw.example.com/webhook/twilio/recording?leadId=lead-1");
  // The documented values for the events callgate asks for.
  const auto& events = properties.at("StatusCallbackEvent").as_object().at("description").as_string();
  for (const char* event : {"initiated", "ringing", "answered", "completed"})
    BOOST_TEST(std::string_view(events).find(event) != std::string_view::npos, event);
}

BOOST_AUTO_TEST_CASE(the_call_statuses_twilio_declares_are_all_understood) {
  const auto reference = load_reference();
  const auto& statuses = reference.at("components").at("schemas").at("call_enum_status").at("enum").as_array();
  BOOST_TEST(statuses.size() >= 8u);
  for (const auto& status : statuses) BOOST_TEST(parse_call_status(status.as_string()).has_value(), status.as_string());
}

BOOST_AUTO_TEST_SUITE_END()
