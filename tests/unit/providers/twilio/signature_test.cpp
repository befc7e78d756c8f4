// Every test vector from the official helper libraries' own tests.
#include "providers/twilio/signature.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::providers;
using callgate::http::FormFields;

namespace {

const FormFields params_a = {{"CallSid", "CA1234567890ABCDE"},
                             {"Caller", "+14158675309"},
                             {"Digits", "1234"},
                             {"From", "+14158675309"},
                             {"To", "+18005551212"}};
const FormFields params_b = {
    {"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}, {"Digits", "1234"}};
const FormFields params_c = {{"Digits", "1234"},
                             {"To", "+18005551212"},
                             {"From", "+14158675310"},
                             {"Caller", "+14158675310"},
                             {"CallSid", "CA1234567890ABCDE"}};

struct Vector {
  const char* url;
  const FormFields* params;
  const char* signature;
};

const FormFields no_params;
const Vector vectors[] = {
    {"https://mycompany.com/myapp.php?foo=1&bar=2", &params_a, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
    {"https://mycompany.com:443/myapp.php?foo=1&bar=2", &params_a, "kvajT1Ptam85bY51eRf/AJRuM3w="},
    {"http://mycompany.com:80/myapp.php?foo=1&bar=2", &params_a, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
    {"http://mycompany.com:1234/myapp.php?foo=1&bar=2", &params_a, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
    {"https://mycompany.com/myapp.php?foo=1&bar=2", &no_params, "zYQTYrRWXE7LtzbG4PfP7/bkkGo="},
    {"https://mycompany.com/myapp.php", &params_a, "1xaxFBvyzXYvWplzNOSs28HWO94="},
    {"https://mycompany.com/myapp.php?foo=1&bar=2", &params_b, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
    {"https://example.com/myapp.php?foo=1&bar=2", &params_c, "L/OH5YylLD5NRKLltdqwSvS0BnU="},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(twilio_signature)

BOOST_AUTO_TEST_CASE(computes_every_official_vector) {
  for (const auto& vector : vectors)
    BOOST_TEST(providers::twilio::compute_signature("12345", vector.url, *vector.params) == vector.signature,
               vector.url);
}

BOOST_AUTO_TEST_CASE(validates_every_official_vector_and_rejects_tampering) {
  for (const auto& vector : vectors) {
    BOOST_TEST(providers::twilio::is_valid_signature("12345", vector.url, *vector.params, vector.signature),
               vector.url);
    BOOST_TEST(!providers::twilio::is_valid_signature("54321", vector.url, *vector.params, vector.signature),
               vector.url);
    auto tampered = *vector.params;
    tampered.emplace_back("Extra", "1");
    BOOST_TEST(!providers::twilio::is_valid_signature("12345", vector.url, tampered, vector.signature), vector.url);
  }
  BOOST_TEST(!providers::twilio::is_valid_signature("12345", vectors[0].url, params_a, ""));
  BOOST_TEST(!providers::twilio::is_valid_signature("", vectors[0].url, params_a, vectors[0].signature));
  BOOST_TEST(!providers::twilio::is_valid_signature("12345", vectors[0].url, params_a, "RSOYDt4T1cUTdK1PDd93/VVr8B8"));
}

BOOST_AUTO_TEST_CASE(the_default_port_may_be_present_or_not) {
  // Signed without the port, requested with it, and the other way round.
  BOOST_TEST(providers::twilio::is_valid_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", params_a,
                                                   "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  BOOST_TEST(providers::twilio::is_valid_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params_a,
                                                   "kvajT1Ptam85bY51eRf/AJRuM3w="));
  BOOST_TEST(providers::twilio::is_valid_signature("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", params_a,
                                                   "0ZXoZLH/DfblKGATFgpif+LLRf4="));
  // A port that is not the default is never dropped.
  BOOST_TEST(!providers::twilio::is_valid_signature("12345", "http://mycompany.com/myapp.php?foo=1&bar=2", params_a,
                                                    "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
  BOOST_TEST(!providers::twilio::url_with_default_port_toggled("http://mycompany.com:1234/x").has_value());
  BOOST_TEST(*providers::twilio::url_with_default_port_toggled("https://a.example/x?y=1") ==
             "https://a.example:443/x?y=1");
}

BOOST_AUTO_TEST_CASE(json_bodies_are_covered_by_body_sha256) {
  const std::string body = R"({"property": "value", "boolean": true})";
  const std::string url =
      "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
      "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  BOOST_TEST(providers::twilio::compute_signature("12345", url, {}) == "a9nBmqA0ju/hNViExpshrM61xv4=");
  BOOST_TEST(providers::twilio::is_valid_json_signature("12345", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
  BOOST_TEST(!providers::twilio::is_valid_json_signature("12345", url, body + " ", "a9nBmqA0ju/hNViExpshrM61xv4="));
  BOOST_TEST(!providers::twilio::is_valid_json_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", body,
                                                         "a9nBmqA0ju/hNViExpshrM61xv4="));
}

BOOST_AUTO_TEST_SUITE_END()
