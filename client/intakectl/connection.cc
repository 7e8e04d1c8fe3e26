#include "client/intakectl/connection.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace intake::ctl {
namespace {

constexpr char kDefaultAdminAddress[] = "127.0.0.1:50052";
constexpr char kDefaultPublicAddress[] = "127.0.0.1:50051";
constexpr char kLocalAdminTokenPath[] = "var/admin.token";

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// Reads the file `flag` names into *out; false after a usage error.
bool ReadFlagFile(absl::string_view flag, const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return UsageError(absl::StrCat("--", flag, ": cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// The first line of a token file that is neither blank nor a '#' comment, as intaked reads
// its secret files.
std::string FirstSecret(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const absl::string_view secret = absl::StripAsciiWhitespace(line);
    if (!secret.empty() && !absl::StartsWith(secret, "#")) return std::string(secret);
  }
  return "";
}

// The token from `path`; false after a usage error.
bool TokenFromFile(const std::string& path, std::string* token) {
  std::string text;
  if (!ReadFlagFile("token_file", path, &text)) return false;
  *token = FirstSecret(text);
  if (token->empty()) return UsageError(absl::StrCat("--token_file: ", path, " holds no token"));
  return true;
}

bool ResolveToken(const GlobalOptions& options, Credential credential, std::string* token) {
  if (credential == Credential::kNone) return true;
  if (!options.token_file.empty()) return TokenFromFile(options.token_file, token);
  if (credential == Credential::kIntakeKey) return true;
  *token = Env("INTAKE_TOKEN");
  if (!token->empty()) return true;
  if (credential == Credential::kAdminToken) {
    std::error_code ignored;
    if (std::filesystem::exists(kLocalAdminTokenPath, ignored)) {
      return TokenFromFile(kLocalAdminTokenPath, token);
    }
    return UsageError(
        "no admin token: pass --token_file=PATH or set INTAKE_TOKEN (or run where "
        "./var/admin.token is)");
  }
  return UsageError(
      "this command needs a provider token: pass --token_file=PATH or set "
      "INTAKE_TOKEN");
}

bool ChannelCredentials(const GlobalOptions& options,
                        std::shared_ptr<grpc::ChannelCredentials>* credentials) {
  if (options.tls_ca.empty() && options.tls_cert.empty() && options.tls_key.empty()) {
    *credentials = grpc::InsecureChannelCredentials();
    return true;
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return UsageError("--tls_cert and --tls_key go together (client certificate for mTLS)");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca.empty() && !ReadFlagFile("tls_ca", options.tls_ca, &ssl.pem_root_certs)) {
    return false;
  }
  if (!options.tls_cert.empty() &&
      (!ReadFlagFile("tls_cert", options.tls_cert, &ssl.pem_cert_chain) ||
       !ReadFlagFile("tls_key", options.tls_key, &ssl.pem_private_key))) {
    return false;
  }
  *credentials = grpc::SslCredentials(ssl);
  return true;
}

}  // namespace

std::optional<Connection> Connection::Open(const GlobalOptions& options, Listener listener,
                                           Credential credential) {
  Connection connection;
  connection.address_ = options.addr;
  if (connection.address_.empty()) {
    connection.address_ =
        listener == Listener::kAdmin ? Env("INTAKE_ADDR") : Env("INTAKE_PUBLIC_ADDR");
  }
  if (connection.address_.empty()) {
    connection.address_ =
        listener == Listener::kAdmin ? kDefaultAdminAddress : kDefaultPublicAddress;
  }
  connection.timeout_ = options.timeout;
  if (!ResolveToken(options, credential, &connection.token_)) return std::nullopt;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (!ChannelCredentials(options, &credentials)) return std::nullopt;
  connection.channel_ = grpc::CreateChannel(connection.address_, credentials);
  return connection;
}

std::unique_ptr<grpc::ClientContext> Connection::CallContext() const {
  std::unique_ptr<grpc::ClientContext> context = StreamContext();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

std::unique_ptr<grpc::ClientContext> Connection::StreamContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  return context;
}

}  // namespace intake::ctl
