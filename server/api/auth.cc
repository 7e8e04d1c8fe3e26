#include "server/api/auth.h"

#include <sodium.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace intake::api {
namespace {

constexpr absl::string_view kBearer = "bearer ";

// The token of an `authorization: Bearer <token>` header.
absl::StatusOr<std::string> BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range("authorization");
  if (begin == end) return absl::UnauthenticatedError("missing authorization: Bearer token");
  if (std::next(begin) != end) {
    return absl::UnauthenticatedError("more than one authorization header");
  }
  const absl::string_view value(begin->second.data(), begin->second.size());
  if (value.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
    return absl::UnauthenticatedError("malformed authorization header; want 'Bearer <token>'");
  }
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(kBearer.size()));
  if (token.empty()) return absl::UnauthenticatedError("empty bearer token");
  return std::string(token);
}

bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string TokenHash(absl::string_view token) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()),
                     reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return hash;
}

absl::StatusOr<std::unique_ptr<SecretFile>> SecretFile::Open(std::string path) {
  std::unique_ptr<SecretFile> file(new SecretFile(std::move(path)));
  absl::MutexLock lock(&file->mu_);
  file->ReloadIfChanged();
  if (file->hashes_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(file->path_, " cannot be read or holds no secret"));
  }
  return file;
}

void SecretFile::ReloadIfChanged() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    hashes_.clear();
    size_ = -1;
    return;
  }
  if (st.st_ino == inode_ && st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
      st.st_mtim.tv_nsec == mtime_.tv_nsec) {
    return;
  }
  inode_ = st.st_ino;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  hashes_.clear();
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line)) {
    const absl::string_view secret = absl::StripAsciiWhitespace(line);
    if (secret.empty() || absl::StartsWith(secret, "#")) continue;
    hashes_.push_back(TokenHash(secret));
  }
}

bool SecretFile::Matches(absl::string_view token) {
  const std::string hash = TokenHash(token);
  absl::MutexLock lock(&mu_);
  ReloadIfChanged();
  bool match = false;
  for (const std::string& h : hashes_) match |= SameHash(h, hash);
  return match;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const Options& options, const std::vector<store::ProviderToken>& provider_tokens) {
  std::unique_ptr<Authenticator> auth(new Authenticator());
  absl::StatusOr<std::unique_ptr<SecretFile>> admin = SecretFile::Open(options.admin_token_path);
  if (!admin.ok()) return admin.status();
  auth->admin_token_ = *std::move(admin);
  if (!options.intake_keys_path.empty()) {
    absl::StatusOr<std::unique_ptr<SecretFile>> keys = SecretFile::Open(options.intake_keys_path);
    if (!keys.ok()) return keys.status();
    auth->intake_keys_ = *std::move(keys);
  }
  for (const store::ProviderToken& token : provider_tokens) auth->AddProviderToken(token);
  return auth;
}

std::optional<Authenticator::ProviderTokenOwner> Authenticator::ProviderOf(
    const std::string& hash) {
  absl::MutexLock lock(&mu_);
  auto it = provider_by_hash_.find(hash);
  // The map finds the entry by hash; confirming in constant time costs nothing and keeps
  // every token comparison free of early exits.
  if (it == provider_by_hash_.end() || !SameHash(it->first, hash)) return std::nullopt;
  return it->second;
}

absl::StatusOr<Principal> Authenticator::Authenticate(const grpc::ServerContextBase& context,
                                                      Access access) {
  if (access == Access::kIntake && intake_keys_ == nullptr) return Principal{};
  absl::StatusOr<std::string> token = BearerToken(context);
  if (!token.ok()) return token.status();

  if (access == Access::kIntake) {
    if (intake_keys_->Matches(*token)) return Principal{Principal::Kind::kIntakeKey, "", "", ""};
    return absl::UnauthenticatedError("unknown intake key");
  }
  const bool is_admin = admin_token_->Matches(*token);
  std::string hash = TokenHash(*token);
  std::optional<ProviderTokenOwner> owner = is_admin ? std::nullopt : ProviderOf(hash);
  if (!is_admin && !owner) return absl::UnauthenticatedError("unknown token");
  if (access == Access::kAdmin) {
    if (is_admin) return Principal{Principal::Kind::kAdmin, "", "", ""};
    return absl::PermissionDeniedError("AdminService needs the admin token");
  }
  if (is_admin) return absl::PermissionDeniedError("ProviderService needs a provider token");
  return Principal{Principal::Kind::kProvider, std::move(owner->provider_id), std::move(hash),
                   std::move(owner->token_id)};
}

void Authenticator::AddProviderToken(const store::ProviderToken& token) {
  absl::MutexLock lock(&mu_);
  provider_by_hash_[token.token_sha256] = ProviderTokenOwner{token.provider_id, token.token_id};
}

void Authenticator::RemoveProviderToken(const store::ProviderToken& token) {
  absl::MutexLock lock(&mu_);
  provider_by_hash_.erase(token.token_sha256);
}

}  // namespace intake::api
