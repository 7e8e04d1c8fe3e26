// Authentication: who a call comes from, decided once per call before any handler runs.
#ifndef INTAKE_SERVER_API_AUTH_H_
#define INTAKE_SERVER_API_AUTH_H_

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "server/store/storage.h"

namespace intake::api {

// The caller of an RPC, as the gate established it. Handlers take identity only from here,
// never from a field of the request.
struct Principal {
  // kPublic: IntakeService with no intake keys configured (anyone). kIntakeKey: IntakeService
  // with a valid intake key (a site's backend or a gateway, submitting for many people).
  enum class Kind { kPublic, kIntakeKey, kAdmin, kProvider };
  Kind kind = Kind::kPublic;
  std::string provider_id;  // Set for kProvider only.
  std::string token_hash;   // The SHA-256 of a provider's token, so revocation finds its streams.
  std::string token_id;     // A provider token's id, for the accounting of disclosures.
};

// What an RPC requires.
enum class Access {
  kIntake,    // IntakeService: open, or one of the intake keys when they are configured.
  kProvider,  // ProviderService: a provider token.
  kAdmin,     // AdminService: the admin token.
};

// The SHA-256 of `token`, 32 raw bytes: what is stored and compared instead of tokens.
std::string TokenHash(absl::string_view token);

// A file of secrets, one per line ('#' comments and blank lines ignored), held as hashes
// and re-read whenever the file changes (rotation needs no restart). Thread-safe.
class SecretFile {
 public:
  // Reads `path` now. kFailedPrecondition if it cannot be read or holds no secret.
  static absl::StatusOr<std::unique_ptr<SecretFile>> Open(std::string path);

  // True if `token` is one of the file's secrets, compared by hash in constant time. If the
  // file has changed it is re-read first; if it has become unreadable or empty, nothing
  // matches until it is fixed (fail closed).
  bool Matches(absl::string_view token) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit SecretFile(std::string path) : path_(std::move(path)) {}
  void ReloadIfChanged() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  absl::Mutex mu_;
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) = {};
  ino_t inode_ ABSL_GUARDED_BY(mu_) = 0;
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  std::vector<std::string> hashes_ ABSL_GUARDED_BY(mu_);
};

class Authenticator {
 public:
  struct Options {
    // The admin token file (one token).
    std::string admin_token_path;
    // If set, IntakeService requires one of the keys in this file.
    std::string intake_keys_path;
  };

  // Reads the secret files and loads `provider_tokens` (the store's active tokens).
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const Options& options, const std::vector<store::ProviderToken>& provider_tokens);

  // The gate. Reads `authorization: Bearer <token>` and returns the caller if it may make a
  // call that needs `access`. kUnauthenticated for a missing or malformed header or an
  // unknown token; kPermissionDenied for a valid token of the wrong kind (a provider token
  // on AdminService). Messages never contain the token. Never blocks on I/O beyond a stat()
  // of the secret files. Thread-safe.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context, Access access)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Keep the in-memory token set in step with the store: called after the store has
  // committed the issue or revocation, before the RPC replies.
  void AddProviderToken(const store::ProviderToken& token) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveProviderToken(const store::ProviderToken& token) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Authenticator() = default;
  // A provider token as the gate knows it.
  struct ProviderTokenOwner {
    std::string provider_id;
    std::string token_id;
  };
  // The provider owning the token with this hash and the token's id; nullopt for none.
  std::optional<ProviderTokenOwner> ProviderOf(const std::string& hash) ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<SecretFile> admin_token_;
  std::unique_ptr<SecretFile> intake_keys_;  // Null: IntakeService is open.
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, ProviderTokenOwner> provider_by_hash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_AUTH_H_
