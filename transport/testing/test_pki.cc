#include "transport/testing/test_pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace transport::testing {

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("TestPki: ") + what);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const bool ok = cert != nullptr
                      ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  check(ok, "PEM_write");
}

}  // namespace

struct TestPki::Issued {
  std::unique_ptr<EVP_PKEY, KeyFree> key;
  std::unique_ptr<X509, CertFree> cert;
};

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {}
TestPki::~TestPki() = default;

// A fresh key and an unsigned certificate for it: version 3, the next serial, CN = name,
// valid from an hour ago for a week (or, expired, from two days ago until yesterday).
std::unique_ptr<TestPki::Issued> TestPki::start_certificate(const std::string& name, bool expired) {
  auto issued = std::make_unique<Issued>();
  issued->key.reset(EVP_EC_gen("P-256"));
  check(issued->key != nullptr, "EVP_EC_gen");
  issued->cert.reset(X509_new());
  X509* cert = issued->cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial_++);
  X509_gmtime_adj(X509_getm_notBefore(cert), expired ? -2 * 86400 : -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), expired ? -86400 : 7 * 86400);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_pubkey(cert, issued->key.get());
  return issued;
}

// Signs, writes name.pem and name.key, and keeps the pair for certificates it may sign.
PemFiles TestPki::finish(const std::string& name, std::unique_ptr<Issued> issued,
                         EVP_PKEY* signer) {
  check(X509_sign(issued->cert.get(), signer, EVP_sha256()) > 0, "X509_sign");
  PemFiles files{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  write_pem(files.cert, issued->cert.get(), nullptr);
  write_pem(files.key, nullptr, issued->key.get());
  issued_[name] = std::move(issued);
  return files;
}

PemFiles TestPki::make_ca(const std::string& name) {
  std::unique_ptr<Issued> issued = start_certificate(name, /*expired=*/false);
  X509* cert = issued->cert.get();
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  EVP_PKEY* key = issued->key.get();
  return finish(name, std::move(issued), key);
}

PemFiles TestPki::make_leaf(const std::string& name, const Leaf& leaf) {
  auto found = issued_.find(leaf.ca);
  check(found != issued_.end(), "unknown CA");
  const Issued& ca = *found->second;
  std::unique_ptr<Issued> issued = start_certificate(name, leaf.expired);
  X509* cert = issued->cert.get();
  X509_set_issuer_name(cert, X509_get_subject_name(ca.cert.get()));
  std::string san;
  for (const std::string& d : leaf.dns) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const std::string& ip : leaf.ips) san += (san.empty() ? "IP:" : ",IP:") + ip;
  add_extension(cert, ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, ca.cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(cert, ca.cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  if (!san.empty()) add_extension(cert, ca.cert.get(), NID_subject_alt_name, san);
  add_extension(cert, ca.cert.get(), NID_authority_key_identifier, "keyid:always");
  return finish(name, std::move(issued), ca.key.get());
}

void TestPki::replace(const PemFiles& from, const PemFiles& to) {
  for (auto [src, dst] : {std::pair{from.key, to.key}, std::pair{from.cert, to.cert}}) {
    const std::string tmp = dst + ".tmp";
    std::filesystem::copy_file(src, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, dst);
  }
}

}  // namespace transport::testing
