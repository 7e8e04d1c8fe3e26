// TLS for intaked's listeners: the server certificate and key (re-read from disk while the
// server runs, so a renewal needs no restart), and optional client-certificate CAs (mTLS).
#ifndef INTAKE_SERVER_API_TLS_H_
#define INTAKE_SERVER_API_TLS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"

namespace intake::api {

struct TlsOptions {
  // PEM files of the server's certificate chain (leaf first) and its private key. Both empty:
  // plaintext listeners. Each names its flag in errors: --tls_cert, --tls_key.
  std::string cert_path;
  std::string key_path;
  // PEM CA bundles that client certificates must chain to, per listener; empty: no client
  // certificate is asked for. --tls_client_ca (admin), --tls_client_ca_public (public).
  std::string admin_client_ca_path;
  std::string public_client_ca_path;
  // How often the files are checked for changes. A renewed certificate (cert-manager,
  // certbot) is served to new connections within this long; connections already open keep
  // the certificate they were made with.
  absl::Duration reload_interval = absl::Minutes(1);

  bool enabled() const { return !cert_path.empty() || !key_path.empty(); }
};

// Checks a TLS configuration before any listener starts: a certificate needs its key and the
// reverse; a client CA needs a certificate; every file must be readable PEM; the key must be
// the certificate's; a CA file must hold at least one certificate; the reload interval must
// be at least a second. Returns kFailedPrecondition with one line naming the flag and file
// (never a file's contents), or OK (also when TLS is off).
absl::Status CheckTlsOptions(const TlsOptions& options);

// The credentials of one listener: plaintext when TLS is off; otherwise TLS that watches
// the certificate, key and `client_ca_path` (empty: no client certificate asked for; else
// required and verified against it). Call after CheckTlsOptions succeeded.
std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(const TlsOptions& options,
                                                             const std::string& client_ca_path);

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_TLS_H_
