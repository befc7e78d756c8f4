// Signature Version 4 against AWS's published test suite (the "aws4
// test suite": every case signs with key AKIDEXAMPLE, region us-east-1,
// service "service", at 2015-08-30T12:36:00Z). The expected Authorization
// values are the suite's; the requests are rebuilt here from its .req files.
#include "aws/sigv4.hpp"

#include "core/crypto.hpp"

#include <boost/test/unit_test.hpp>

using namespace callgate;
using namespace callgate::aws;

namespace {

const Credentials kSuiteKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kSuiteScope{"us-east-1", "service"};

SignableRequest suite_request(std::string method, std::string path,
                              std::vector<std::pair<std::string, std::string>> query = {},
                              std::vector<std::pair<std::string, std::string>> extra_headers = {}) {
  SignableRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  for (auto& header : extra_headers) request.headers.push_back(std::move(header));
  return request;
}

std::string suite_authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         std::string(signed_headers) + ", Signature=" + std::string(signature);
}

struct SuiteCase {
  const char* name;
  SignableRequest request;
  const char* signed_headers;
  const char* signature;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4)

BOOST_AUTO_TEST_CASE(get_vanilla_step_by_step) {
  const auto request = suite_request("GET", "/");
  const auto canonical = canonical_request(request);
  BOOST_TEST(canonical.text ==
             "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(string_to_sign("20150830T123600Z", kSuiteScope, canonical.text) ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  BOOST_TEST(
      authorization(request, kSuiteKey, kSuiteScope) ==
      suite_authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

BOOST_AUTO_TEST_CASE(the_signing_key_chain) {
  // AWS's documented derivation example (IAM, 2012-02-15, us-east-1).
  const auto key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", {"us-east-1", "iam"});
  BOOST_TEST(hex_encode(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

BOOST_AUTO_TEST_CASE(the_suites_cases) {
  const std::vector<SuiteCase> cases = {
      {"get-vanilla", suite_request("GET", "/"), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key", suite_request("GET", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key-case", suite_request("GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}}),
       "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-unreserved",
       suite_request("GET", "/",
                     {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}}),
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", suite_request("GET", "/", {{"\xe1\x88\xb4", "bar"}}), "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved", suite_request("GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
       "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", suite_request("GET", "/\xe1\x88\xb4"), "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-header-key-duplicate",
       suite_request("GET", "/", {}, {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}}),
       "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       suite_request(
           "GET", "/", {},
           {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"}, {"My-Header1", "value2"}}),
       "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       suite_request("GET", "/", {}, {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", suite_request("POST", "/"), "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query", suite_request("POST", "/", {{"Param1", "value1"}}), "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      {"post-vanilla-query-nonunreserved", suite_request("POST", "/", {{"@#$%^", ""}, {"+", "/,?><`\";:\\|][{}"}}),
       "host;x-amz-date", "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
      {"post-vanilla-query-space", suite_request("POST", "/", {{"p", ""}}), "host;x-amz-date",
       "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"},
      {"post-header-key-sort", suite_request("POST", "/", {}, {{"My-Header1", "value1"}}), "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", suite_request("POST", "/", {}, {{"My-Header1", "VALUE1"}}),
       "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
  };
  for (const auto& suite_case : cases)
    BOOST_TEST(authorization(suite_case.request, kSuiteKey, kSuiteScope) ==
                   suite_authorization(suite_case.signed_headers, suite_case.signature),
               suite_case.name);
}

BOOST_AUTO_TEST_CASE(post_x_www_form_urlencoded_signs_the_body) {
  auto request = suite_request("POST", "/", {}, {{"Content-Type", "application/x-www-form-urlencoded"}});
  request.body = "Param1=value1";
  BOOST_TEST(canonical_request(request).text ==
             "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
             "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
             "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  BOOST_TEST(authorization(request, kSuiteKey, kSuiteScope) ==
             suite_authorization("content-type;host;x-amz-date",
                                 "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
  // One byte of the body changed is another signature.
  request.body = "Param1=value2";
  BOOST_TEST(authorization(request, kSuiteKey, kSuiteScope).find("ff11897932ad") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(get_vanilla_with_session_token) {
  const Credentials temporary{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"};
  SignableRequest request;
  request.method = "GET";
  request.headers = {{"Host", "example.amazonaws.com"}};
  sign(request, temporary, kSuiteScope,
       WallTime(std::chrono::seconds(1'440'938'160)));  // 2015-08-30T12:36:00Z
  BOOST_TEST_REQUIRE(request.headers.size() == 4u);
  BOOST_TEST(request.headers[1].first == "X-Amz-Date");
  BOOST_TEST(request.headers[1].second == "20150830T123600Z");
  BOOST_TEST(request.headers[2].first == "X-Amz-Security-Token");
  BOOST_TEST(request.headers[2].second == temporary.session_token);
  BOOST_TEST(request.headers[3].first == "Authorization");
  BOOST_TEST(request.headers[3].second ==
             suite_authorization("host;x-amz-date;x-amz-security-token",
                                 "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"));
}

BOOST_AUTO_TEST_CASE(amz_dates_and_encoding) {
  BOOST_TEST(amz_date(WallTime(std::chrono::seconds(0))) == "19700101T000000Z");
  BOOST_TEST(amz_date(WallTime(std::chrono::milliseconds(1'440'938'160'999))) == "20150830T123600Z");
  BOOST_TEST(amz_date(WallTime(std::chrono::seconds(4'102'444'799))) == "20991231T235959Z");
  BOOST_TEST(uri_encode("a b/c~", false) == "a%20b%2Fc~");
  BOOST_TEST(uri_encode("a b/c~", true) == "a%20b/c~");
  BOOST_TEST(uri_encode("\xe1\x88\xb4", false) == "%E1%88%B4");
}

BOOST_AUTO_TEST_SUITE_END()
