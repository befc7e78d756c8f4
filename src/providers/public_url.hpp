// The URL a provider called, which is what it signed. Rebuilt from
// server.public_base_url and the request target, never from the Host
// header (which anyone can set). Behind a reverse proxy listed in
// server.trusted_proxies, X-Forwarded-Proto and X-Forwarded-Host say what
// the provider saw instead.
#pragma once

#include "core/config.hpp"
#include "http/server/responses.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>

namespace callgate::providers {

std::string public_url_of(const http::Request& request, const boost::asio::ip::address& peer,
                          const ServerConfig& server);

// The same URL as a WebSocket's: http -> ws, https -> wss.
std::string with_websocket_scheme(std::string url);
// {public_base_url}{path} with the WebSocket scheme: where a provider opens a media stream.
std::string websocket_url(std::string_view public_base_url, std::string_view path);

// {public_base_url}{path}?leadId={lead_id}[&token=...], for the URLs
// callgate hands a provider to call back.
std::string callback_url(std::string_view public_base_url, std::string_view path, std::string_view lead_id);

}  // namespace callgate::providers
