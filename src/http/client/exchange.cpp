#include "http/client/exchange.hpp"

#include "core/crypto.hpp"

namespace callgate::http {

namespace {

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  return "Basic " + base64_encode(credentials);
}

}  // namespace

ClientRequest make_get(std::string url, std::string_view user, std::string_view password) {
  ClientRequest request;
  request.method = boost::beast::http::verb::get;
  request.url = std::move(url);
  request.headers = {
      {"Authorization", basic_authorization(user, password)},
      {"Accept", "application/json"},
  };
  return request;
}

ClientRequest make_form_post(std::string url, const FormFields& fields, std::string_view user,
                             std::string_view password) {
  auto request = make_get(std::move(url), user, password);
  request.method = boost::beast::http::verb::post;
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body = encode_form(fields);
  return request;
}

}  // namespace callgate::http
