#include "providers/public_url.hpp"

#include "http/form/form_codec.hpp"

#include <boost/url/parse.hpp>

namespace callgate::providers {
namespace {

// A forwarded value is used only if it is plain: one value (no list from a
// chain of proxies), no characters that could reshape the URL.
bool is_plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (const char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

}  // namespace

std::string public_url_of(const http::Request& request, const boost::asio::ip::address& peer,
                          const ServerConfig& server) {
  if (!any_contains(server.trusted_proxies, peer)) {
    // The common case, on every webhook: the base URL as configured (the
    // config loader checked it), without a path that is only "/".
    std::string_view base = server.public_base_url;
    if (const auto authority = base.find("://"); authority != std::string_view::npos) {
      const auto path = base.find('/', authority + 3);
      if (path != std::string_view::npos && path + 1 == base.size()) base.remove_suffix(1);
    }
    std::string url;
    url.reserve(base.size() + request.target().size());
    url.append(base).append(request.target());
    return url;
  }
  const auto base = boost::urls::parse_absolute_uri(server.public_base_url);
  if (!base) return server.public_base_url + std::string(request.target());
  std::string scheme(base->scheme());
  std::string authority(base->encoded_authority());
  if (any_contains(server.trusted_proxies, peer)) {
    const auto proto = request["X-Forwarded-Proto"];
    if (proto == "https" || proto == "http") scheme = std::string(proto);
    const auto host = request["X-Forwarded-Host"];
    if (is_plain_host(host)) authority = std::string(host);
  }
  std::string path(base->encoded_path());
  if (path == "/") path.clear();
  return scheme + "://" + authority + path + std::string(request.target());
}

std::string with_websocket_scheme(std::string url) {
  if (url.starts_with("https://")) return "wss://" + url.substr(8);
  if (url.starts_with("http://")) return "ws://" + url.substr(7);
  return url;
}

std::string websocket_url(std::string_view public_base_url, std::string_view path) {
  return with_websocket_scheme(std::string(public_base_url) + std::string(path));
}

std::string callback_url(std::string_view public_base_url, std::string_view path, std::string_view lead_id) {
  return std::string(public_base_url) + std::string(path) + "?leadId=" + http::encode_form_component(lead_id);
}

}  // namespace callgate::providers
