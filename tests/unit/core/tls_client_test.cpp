// The client side of TLS every outbound connection shares: what is loaded,
// and what a handshake will hold the server's certificate to.
#include "core/tls_client.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <string>

namespace {

struct Session {
  explicit Session(boost::asio::ssl::context& context) : ssl(SSL_new(context.native_handle())) {}
  ~Session() { SSL_free(ssl); }
  SSL* ssl;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_client)

BOOST_AUTO_TEST_CASE(servers_are_verified_with_tls_1_2_or_newer) {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  callgate::verify_servers(context, "");
  BOOST_TEST(SSL_CTX_get_verify_mode(context.native_handle()) == SSL_VERIFY_PEER);
  BOOST_TEST(SSL_CTX_get_min_proto_version(context.native_handle()) == TLS1_2_VERSION);
}

BOOST_AUTO_TEST_CASE(a_ca_file_that_cannot_be_read_is_named) {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  try {
    callgate::verify_servers(context, "/nonexistent/ca.pem");
    BOOST_FAIL("no error for a missing CA file");
  } catch (const std::runtime_error& failure) {
    BOOST_TEST(std::string(failure.what()).find("cannot load the CA certificates from /nonexistent/ca.pem") == 0u,
               failure.what());
  }
}

BOOST_AUTO_TEST_CASE(a_name_is_sent_as_sni_and_checked_an_address_is_checked_as_one) {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
  callgate::verify_servers(context, "");
  Session named(context);
  BOOST_TEST_REQUIRE(callgate::expect_peer(named.ssl, "redis.example.test"));
  BOOST_TEST(std::string(SSL_get_servername(named.ssl, TLSEXT_NAMETYPE_host_name)) == "redis.example.test");
  BOOST_TEST(std::string(X509_VERIFY_PARAM_get0_host(SSL_get0_param(named.ssl), 0)) == "redis.example.test");

  Session addressed(context);
  BOOST_TEST_REQUIRE(callgate::expect_peer(addressed.ssl, "127.0.0.1"));
  BOOST_TEST(SSL_get_servername(addressed.ssl, TLSEXT_NAMETYPE_host_name) == nullptr);  // no SNI for an address
  BOOST_TEST(X509_VERIFY_PARAM_get0_host(SSL_get0_param(addressed.ssl), 0) == nullptr);
  char* address = X509_VERIFY_PARAM_get1_ip_asc(SSL_get0_param(addressed.ssl));  // the caller frees it
  BOOST_TEST_REQUIRE(address != nullptr);
  BOOST_TEST(std::string(address) == "127.0.0.1");
  OPENSSL_free(address);
}

BOOST_AUTO_TEST_SUITE_END()
