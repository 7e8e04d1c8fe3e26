// Throwaway certificate authorities for TLS tests, made with the `openssl` command in a
// temporary directory: a CA, and server or client certificates it signs.
#ifndef INTAKE_TESTS_TESTING_TEST_PKI_H_
#define INTAKE_TESTS_TESTING_TEST_PKI_H_

#include <string>

#include "tests/testing/text_file.h"  // ReadTextFile, which its users rely on.

namespace intake::testing {

// A PEM certificate and its unencrypted private key, as files.
struct CertFiles {
  std::string cert;
  std::string key;
};

class TestCa {
 public:
  // Makes a CA with common name `name` (an EC P-256 key, valid for two days) in `dir`, which
  // must exist. A failing openssl command is a test failure (ADD_FAILURE).
  TestCa(std::string dir, const std::string& name);

  // The CA's certificate (PEM file), what clients and servers verify peers against.
  const std::string& cert() const { return ca_.cert; }

  // A server certificate for localhost and 127.0.0.1 with common name `name`, signed by this CA.
  CertFiles IssueServer(const std::string& name) const { return Issue(name, true); }
  // A client certificate with common name `name`, signed by this CA.
  CertFiles IssueClient(const std::string& name) const { return Issue(name, false); }

 private:
  CertFiles Issue(const std::string& name, bool server) const;

  std::string dir_;
  CertFiles ca_;
};

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_TEST_PKI_H_
