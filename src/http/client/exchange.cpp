#include "http/client/exchange.hpp"

#include "core/crypto.hpp"

#include <algorithm>
#include <cctype>

namespace callgate::http {

namespace {

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string credentials(user);
  credentials += ':';
  credentials += password;
  return "Basic " + base64_encode(credentials);
}

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    const bool allowed =
        std::isalnum(byte) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!allowed) return false;
  }
  return true;
}

// Horizontal tab and visible text (obs-text, bytes over 0x7f, too); no other control.
bool is_field_value(std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

bool is_target(std::string_view target) {
  if (target.empty()) return false;
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

// Headers wire_request writes itself, or that would change how the body is
// framed: one of them among the request's own would be a second Host or
// Content-Length, or a Transfer-Encoding beside the Content-Length.
bool is_framing_header(std::string_view name) {
  for (const std::string_view own : {"Host", "User-Agent", "Content-Length", "Transfer-Encoding"})
    if (name.size() == own.size() && std::equal(name.begin(), name.end(), own.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

std::optional<std::string> wire_request(const ClientRequest& request, std::string_view target, std::string_view host,
                                        std::string_view user_agent) {
  if (!is_target(target) || !is_field_value(host) || !is_field_value(user_agent)) return std::nullopt;
  using boost::beast::http::verb;
  const bool content_length = !request.body.empty() || request.method == verb::post || request.method == verb::put ||
                              request.method == verb::options;
  const auto method = boost::beast::http::to_string(request.method);
  std::size_t size = method.size() + target.size() + host.size() + user_agent.size() + request.body.size() + 64;
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name) || !is_field_value(value) || is_framing_header(name)) return std::nullopt;
    size += name.size() + value.size() + 4;
  }
  std::string out;
  out.reserve(size);
  out.append(method.data(), method.size());
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\n";
  append_field(out, "Host", host);
  append_field(out, "User-Agent", user_agent);
  for (const auto& [name, value] : request.headers) append_field(out, name, value);
  if (content_length) append_field(out, "Content-Length", std::to_string(request.body.size()));
  out += "\r\n";
  out += request.body;
  return out;
}

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
