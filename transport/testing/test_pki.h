#pragma once
// TestPki: certificates made in the test, with OpenSSL, written as PEM files to a directory:
// certificate authorities, server and client certificates signed by them, and expired ones.
// Nothing is read from the repository, so no checked-in key ever expires or leaks.
//
// Keys are P-256 (fast to make); certificates are X.509 v3 with the extensions verifiers
// insist on (basic constraints, key usage, subject alternative names).

#include <map>
#include <memory>
#include <string>
#include <vector>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace transport::testing {

struct PemFiles {
  std::string cert;  // path of the certificate
  std::string key;   // path of its private key
};

class TestPki {
 public:
  // Files go to `dir`, which must exist.
  explicit TestPki(std::string dir);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // A self-signed CA called `name` (files name.pem, name.key).
  PemFiles make_ca(const std::string& name);

  struct Leaf {
    std::string ca;                                       // the CA that signs it
    std::vector<std::string> dns = {"localhost"};         // subjectAltName DNS entries
    std::vector<std::string> ips = {"127.0.0.1", "::1"};  // subjectAltName IP entries
    bool expired = false;                                 // valid from two days ago until yesterday
  };
  // A certificate for servers and clients alike (extendedKeyUsage serverAuth, clientAuth).
  PemFiles make_leaf(const std::string& name, const Leaf& leaf);

  // Writes `from`'s certificate and key over `to`'s files (as a rotation would), replacing the
  // files whole (a rename), so a reader sees the old or the new file, never half of one.
  static void replace(const PemFiles& from, const PemFiles& to);

 private:
  struct Issued;
  std::unique_ptr<Issued> start_certificate(const std::string& name, bool expired);
  PemFiles finish(const std::string& name, std::unique_ptr<Issued> issued, ::evp_pkey_st* signer);
  std::string dir_;
  std::map<std::string, std::unique_ptr<Issued>> issued_;
  long serial_ = 1;
};

}  // namespace transport::testing
