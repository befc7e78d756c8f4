#include "test_certificates.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace callgate::testing {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const { Free(pointer); }
};
using KeyPointer = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertificatePointer = std::unique_ptr<X509, Deleter<X509, X509_free>>;

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

KeyPointer make_key() {
  KeyPointer key(EVP_EC_gen("P-256"));
  require(key != nullptr, "key generation");
  return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  require(extension != nullptr, "extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// A CA (is_authority), or a leaf for alt_names used as usage (serverAuth or clientAuth).
CertificatePointer make_certificate(EVP_PKEY* key, const char* common_name, long serial, X509* issuer,
                                    EVP_PKEY* issuer_key, bool is_authority,
                                    const char* alt_names = "DNS:localhost,IP:127.0.0.1",
                                    const char* usage = "serverAuth") {
  CertificatePointer certificate(X509_new());
  X509* raw = certificate.get();
  X509_set_version(raw, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(raw), serial);
  X509_gmtime_adj(X509_getm_notBefore(raw), -3600);
  X509_gmtime_adj(X509_getm_notAfter(raw), 7 * 86400);
  X509_set_pubkey(raw, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(raw), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : raw;
  X509_set_issuer_name(raw, X509_get_subject_name(signer));
  if (is_authority) {
    add_extension(raw, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(raw, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(raw, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(raw, signer, NID_subject_alt_name, alt_names);
    add_extension(raw, signer, NID_ext_key_usage, usage);
  }
  require(X509_sign(raw, issuer_key, EVP_sha256()) > 0, "signing");
  return certificate;
}

std::string pem_of(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

// Files the process wrote, removed when it exits.
struct TemporaryFiles {
  std::vector<std::filesystem::path> paths;
  ~TemporaryFiles() {
    std::error_code ignored;
    for (const auto& path : paths) std::filesystem::remove(path, ignored);
  }
};

std::string write_temporary(const std::string& name, const std::string& text) {
  static TemporaryFiles written;
  const auto path =
      std::filesystem::temp_directory_path() / ("callgate-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << text;
  written.paths.push_back(path);
  return path.string();
}

}  // namespace

const TestCertificates& test_certificates() {
  static const TestCertificates certificates = [] {
    auto authority_key = make_key();
    auto authority = make_certificate(authority_key.get(), "callgate test CA", 1, nullptr, authority_key.get(), true);
    auto server_key = make_key();
    auto server = make_certificate(server_key.get(), "localhost", 2, authority.get(), authority_key.get(), false);
    auto client_key = make_key();
    auto client = make_certificate(client_key.get(), "callgate test client", 4, authority.get(), authority_key.get(),
                                   false, "DNS:callgate-client", "clientAuth");
    auto elsewhere_key = make_key();
    auto elsewhere = make_certificate(elsewhere_key.get(), "redis.elsewhere.test", 5, authority.get(),
                                      authority_key.get(), false, "DNS:redis.elsewhere.test", "serverAuth");
    TestCertificates made;
    made.ca_pem = pem_of(authority.get());
    made.server_cert_pem = pem_of(server.get());
    made.server_key_pem = pem_of(server_key.get());
    made.ca_file = write_temporary("ca.pem", made.ca_pem);
    made.server_cert_file = write_temporary("server.pem", made.server_cert_pem);
    made.server_key_file = write_temporary("server.key", made.server_key_pem);
    made.client_cert_file = write_temporary("client.pem", pem_of(client.get()));
    made.client_key_file = write_temporary("client.key", pem_of(client_key.get()));
    made.elsewhere_cert_file = write_temporary("elsewhere.pem", pem_of(elsewhere.get()));
    made.elsewhere_key_file = write_temporary("elsewhere.key", pem_of(elsewhere_key.get()));
    return made;
  }();
  return certificates;
}

TestCertificates untrusted_certificates() {
  auto key = make_key();
  auto self_signed = make_certificate(key.get(), "localhost", 3, nullptr, key.get(), false);
  TestCertificates made;
  made.server_cert_pem = pem_of(self_signed.get());
  made.server_key_pem = pem_of(key.get());
  return made;
}

}  // namespace callgate::testing
