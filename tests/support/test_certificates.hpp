// A certificate authority and a server certificate made fresh for each test
// run (no key material in the repository), so the fake provider servers
// speak real TLS and callgate's client verifies them against a CA file the
// way it verifies api.twilio.com against the system store.
#pragma once

#include <string>

namespace callgate::testing {

struct TestCertificates {
  std::string ca_pem;           // the CA certificate: what the client trusts
  std::string server_cert_pem;  // for "localhost" and 127.0.0.1, signed by the CA
  std::string server_key_pem;
  std::string ca_file;  // ca_pem written to a temporary file
  // The same, and more signed by the CA, as files (for redis-server's TLS):
  std::string server_cert_file, server_key_file;
  std::string client_cert_file, client_key_file;        // clientAuth, for "callgate-client"
  std::string elsewhere_cert_file, elsewhere_key_file;  // serverAuth, for another host only
};

// Made once per process and kept (generation costs a few milliseconds).
const TestCertificates& test_certificates();

// A self-signed certificate for "localhost" that no CA file vouches for.
TestCertificates untrusted_certificates();

}  // namespace callgate::testing
