// tokens issue|revoke: provider bearer tokens.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/intakectl/command.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;

// Creates `path` with mode 0600, failing if it exists (a token is never overwritten by
// accident), and writes `token` and a newline to it. Returns "" or what went wrong.
std::string WriteNewSecretFile(const std::string& path, const std::string& token) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::strerror(errno);
  const std::string text = token + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  if (close(fd) != 0 || !written) return std::strerror(written ? errno : write_errno);
  return "";
}

int IssueToken(const Invocation& run) {
  v1::IssueProviderTokenRequest request;
  std::string out_file;
  if (!run.flags.Id("provider", /*required=*/true, request.mutable_provider_id()) ||
      !run.flags.Text("out_file", /*required=*/false, &out_file)) {
    return kExitUsage;
  }
  // Checked before the call so that a taken path does not leave an issued, unrecorded token.
  if (!out_file.empty() && access(out_file.c_str(), F_OK) == 0) {
    UsageError(absl::StrCat("--out_file: ", out_file, " already exists"));
    return kExitUsage;
  }
  const std::optional<Connection> connection =
      Connection::Open(run.global, Listener::kAdmin, Credential::kAdminToken);
  if (!connection) return kExitUsage;
  v1::IssueProviderTokenResponse response;
  const grpc::Status status =
      CallUnary(*connection, &AdminService::Stub::IssueProviderToken, request, &response);
  if (!status.ok()) return ReportRpcError(status, connection->address());

  if (!out_file.empty()) {
    const std::string problem = WriteNewSecretFile(out_file, response.token());
    if (!problem.empty()) {
      std::cerr << "intakectl: cannot write " << out_file << ": " << problem
                << "; revoke the token: intakectl tokens revoke --token_id=" << response.token_id()
                << "\n";
      return kExitFailed;
    }
    response.clear_token();
  }
  if (run.json()) {
    PrintJson(response);
    return kExitOk;
  }
  Record record = {{"provider", request.provider_id()}, {"token id", response.token_id()}};
  if (out_file.empty()) {
    record.emplace_back("token", response.token());
  } else {
    record.emplace_back("token", "written to " + out_file + " (mode 0600)");
  }
  PrintRecord(record, std::cout);
  if (out_file.empty()) {
    std::cerr << "intakectl: the token is shown only this once; hand it to the provider over a "
                 "secure channel\n";
  }
  return kExitOk;
}

int RevokeToken(const Invocation& run) {
  v1::RevokeProviderTokenRequest request;
  if (!run.flags.Text("token_id", /*required=*/true, request.mutable_token_id())) {
    return kExitUsage;
  }
  return RunAdmin(run, &AdminService::Stub::RevokeProviderToken, request,
                  [&](const v1::RevokeProviderTokenResponse&) {
                    std::cout << "revoked " << request.token_id() << "\n";
                  });
}

}  // namespace

std::vector<Command> TokenCommands() {
  return {
      {"tokens",
       "issue",
       "Issue a bearer token for a provider's dashboards (printed once, or written to a file).",
       "intakectl tokens issue --provider=acme --out_file=acme.token",
       {{"provider", "ID", "the provider's id (required)"},
        {"out_file", "PATH",
         "write the token to this new file (mode 0600) instead of printing it"}},
       IssueToken},
      {"tokens",
       "revoke",
       "Revoke a provider token; calls made with it fail from now on.",
       "intakectl tokens revoke --token_id=tok-8c2f0e6a1b9d4c3e7f5a2b10",
       {{"token_id", "ID", "the token's id, from tokens issue (required)"}},
       RevokeToken},
  };
}

}  // namespace intake::ctl
