#include "server/api/tls.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace intake::api {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::Status Problem(absl::string_view flag, absl::string_view path, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("--", flag, "=", path, ": ", what));
}

absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) return Problem(flag, path, "cannot be read");
  return text.str();
}

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// A key protected by a passphrase cannot be used unattended: refuse it rather than prompt.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

// Every certificate in a PEM file, in order; none if it holds none.
std::vector<Certificate> ReadCertificates(const std::string& pem) {
  std::vector<Certificate> certs;
  Bio bio = MemoryBio(pem);
  while (bio != nullptr) {
    Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  return certs;
}

absl::Status CheckCaFile(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadPem(flag, path);
  if (!pem.ok()) return pem.status();
  if (ReadCertificates(*pem).empty()) return Problem(flag, path, "holds no PEM certificate");
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTlsOptions(const TlsOptions& options) {
  const bool has_ca =
      !options.admin_client_ca_path.empty() || !options.public_client_ca_path.empty();
  if (!options.enabled()) {
    if (has_ca) {
      return absl::FailedPreconditionError(
          "--tls_client_ca and --tls_client_ca_public need --tls_cert and --tls_key");
    }
    return absl::OkStatus();
  }
  if (options.cert_path.empty()) return absl::FailedPreconditionError("--tls_key needs --tls_cert");
  if (options.key_path.empty()) return absl::FailedPreconditionError("--tls_cert needs --tls_key");
  if (options.reload_interval < absl::Seconds(1)) {
    return absl::FailedPreconditionError("--tls_reload_interval must be at least 1s");
  }

  absl::StatusOr<std::string> cert_pem = ReadPem("tls_cert", options.cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  const std::vector<Certificate> chain = ReadCertificates(*cert_pem);
  if (chain.empty()) return Problem("tls_cert", options.cert_path, "holds no PEM certificate");

  absl::StatusOr<std::string> key_pem = ReadPem("tls_key", options.key_path);
  if (!key_pem.ok()) return key_pem.status();
  Bio key_bio = MemoryBio(*key_pem);
  const PrivateKey key(
      key_bio == nullptr ? nullptr
                         : PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return Problem("tls_key", options.key_path,
                   "holds no PEM private key (or one protected by a passphrase)");
  }
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    return Problem("tls_key", options.key_path,
                   absl::StrCat("is not the key of the certificate in ", options.cert_path));
  }
  if (!options.admin_client_ca_path.empty()) {
    if (absl::Status s = CheckCaFile("tls_client_ca", options.admin_client_ca_path); !s.ok()) {
      return s;
    }
  }
  if (!options.public_client_ca_path.empty()) {
    return CheckCaFile("tls_client_ca_public", options.public_client_ca_path);
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(const TlsOptions& options,
                                                             const std::string& client_ca_path) {
  if (!options.enabled()) return grpc::InsecureServerCredentials();
  const auto interval = static_cast<unsigned int>(absl::ToInt64Seconds(options.reload_interval));
  // gRPC reads the files again every interval and serves what they then hold to new
  // connections; renewals should replace the files by rename, as certbot and cert-manager do.
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.key_path, options.cert_path, client_ca_path, interval);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (client_ca_path.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

}  // namespace intake::api
