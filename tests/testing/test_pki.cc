#include "tests/testing/test_pki.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace intake::testing {
namespace {

constexpr char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

void Openssl(const std::string& dir, const std::string& args) {
  const std::string command =
      absl::StrCat("cd '", dir, "' && openssl ", args, " >>openssl.log 2>&1");
  const int status = std::system(command.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "openssl " << args << " failed:\n" << ReadTextFile(dir + "/openssl.log");
  }
}

}  // namespace

TestCa::TestCa(std::string dir, const std::string& name) : dir_(std::move(dir)) {
  ca_ = {absl::StrCat(dir_, "/", name, ".pem"), absl::StrCat(dir_, "/", name, ".key")};
  Openssl(dir_, absl::StrCat("req -x509 ", kNewKey, " -days 2 -subj '/CN=", name, "' -keyout '",
                             ca_.key, "' -out '", ca_.cert, "'"));
}

CertFiles TestCa::Issue(const std::string& name, bool server) const {
  const std::string base = absl::StrCat(dir_, "/", name);
  const std::string extensions = base + ".ext";
  {
    std::ofstream ext(extensions);
    ext << "basicConstraints=CA:FALSE\n";
    if (server) {
      ext << "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    } else {
      ext << "extendedKeyUsage=clientAuth\n";
    }
  }
  CertFiles files{base + ".pem", base + ".key"};
  Openssl(dir_, absl::StrCat("req ", kNewKey, " -subj '/CN=", name, "' -keyout '", files.key,
                             "' -out '", base, ".csr'"));
  Openssl(dir_, absl::StrCat("x509 -req -in '", base, ".csr' -CA '", ca_.cert, "' -CAkey '",
                             ca_.key, "' -CAcreateserial -days 2 -extfile '", extensions,
                             "' -out '", files.cert, "'"));
  return files;
}

}  // namespace intake::testing
