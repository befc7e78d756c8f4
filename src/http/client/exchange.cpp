#include "http/client/exchange.hpp"

#include "core/crypto.hpp"

namespace callgate::http {

ClientRequest make_form_post(std::string url, const FormFields& fields, std::string_view user,
                             std::string_view password) {
  ClientRequest request;
  request.method = boost::beast::http::verb::post;
  request.url = std::move(url);
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  request.headers = {
      {"Authorization", "Basic " + base64_encode(credentials)},
      {"Accept", "application/json"},
      {"Content-Type", "application/x-www-form-urlencoded"},
  };
  request.body = encode_form(fields);
  return request;
}

}  // namespace callgate::http
