// The client side of TLS as callgate speaks it everywhere it connects out
// (the providers' HTTPS, the voice agent's wss://, Redis's rediss://):
// TLS 1.2 or newer, the peer's certificate verified against a CA file or
// the system's store, and checked against the host that was asked for.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <string>

typedef struct ssl_st SSL;

namespace callgate {

// Sets context up to verify servers: the minimum version, peer
// verification, and the CA certificates (ca_file, or the system's store
// when empty). Throws std::runtime_error saying which could not be loaded.
void verify_servers(boost::asio::ssl::context& context, const std::string& ca_file);

// Before a handshake: the certificate must be for host, an IP address
// (checked as one) or a name (checked, and sent as SNI for a server or
// proxy that routes by it). False when OpenSSL refused the setting.
bool expect_peer(SSL* ssl, const std::string& host);

}  // namespace callgate
