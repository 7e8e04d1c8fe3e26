#include "server/store/pii_cipher.h"

#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>

namespace intake::store {
namespace {

constexpr char kKdfContext[crypto_kdf_CONTEXTBYTES + 1] = "intakepi";

void InitSodiumOnce() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) {
    std::cerr << "intaked: libsodium failed to initialise\n";
    std::abort();
  }
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Fields as <varint length><bytes>..., the plaintext of a sealed box.
std::string EncodeFields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) {
    uint64_t n = f.size();
    do {
      out.push_back(static_cast<char>((n & 0x7F) | (n > 0x7F ? 0x80 : 0)));
      n >>= 7;
    } while (n != 0);
    out += f;
  }
  return out;
}

bool DecodeFields(absl::string_view in, std::vector<std::string>* fields) {
  while (!in.empty()) {
    uint64_t n = 0;
    int shift = 0;
    while (true) {
      if (in.empty() || shift > 56) return false;
      const auto byte = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      n |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) break;
      shift += 7;
    }
    if (n > in.size()) return false;
    fields->emplace_back(in.substr(0, n));
    in.remove_prefix(n);
  }
  return true;
}

}  // namespace

std::string PiiCipher::NewKeyHex() {
  InitSodiumOnce();
  unsigned char key[crypto_kdf_KEYBYTES];
  crypto_kdf_keygen(key);
  std::string hex(sizeof key * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key, sizeof key);
  hex.pop_back();
  sodium_memzero(key, sizeof key);
  return hex;
}

namespace {

// The data key from its hex form into `key`; false if it is not 64 hex digits.
bool ParseDataKey(absl::string_view key_hex, unsigned char (&key)[crypto_kdf_KEYBYTES]) {
  InitSodiumOnce();
  size_t len = 0;
  return key_hex.size() == crypto_kdf_KEYBYTES * 2 &&
         sodium_hex2bin(key, crypto_kdf_KEYBYTES, key_hex.data(), key_hex.size(), nullptr, &len,
                        nullptr) == 0 &&
         len == crypto_kdf_KEYBYTES;
}

absl::Status NotADataKey() {
  return absl::FailedPreconditionError("the data key must be 64 hex digits");
}

}  // namespace

absl::StatusOr<std::string> DeriveDataSubkey(absl::string_view key_hex, absl::string_view context,
                                             size_t bytes) {
  if (context.size() != crypto_kdf_CONTEXTBYTES || context == kKdfContext ||
      bytes < crypto_kdf_BYTES_MIN || bytes > crypto_kdf_BYTES_MAX) {
    return absl::InvalidArgumentError("a subkey needs an 8-character context and 16 to 64 bytes");
  }
  unsigned char key[crypto_kdf_KEYBYTES];
  if (!ParseDataKey(key_hex, key)) return NotADataKey();
  const std::string ctx(context);  // NUL-terminated, as libsodium reads it.
  std::string subkey(bytes, '\0');
  crypto_kdf_derive_from_key(Bytes(subkey), subkey.size(), 1, ctx.c_str(), key);
  sodium_memzero(key, sizeof key);
  return subkey;
}

absl::StatusOr<std::unique_ptr<PiiCipher>> PiiCipher::FromKeyHex(absl::string_view key_hex) {
  unsigned char key[crypto_kdf_KEYBYTES];
  if (!ParseDataKey(key_hex, key)) return NotADataKey();
  std::unique_ptr<PiiCipher> cipher(new PiiCipher());
  cipher->box_key_.resize(crypto_secretbox_KEYBYTES);
  cipher->hash_key_.resize(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(Bytes(cipher->box_key_), cipher->box_key_.size(), 1, kKdfContext, key);
  crypto_kdf_derive_from_key(Bytes(cipher->hash_key_), cipher->hash_key_.size(), 2, kKdfContext,
                             key);
  cipher->payload_key_.resize(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(Bytes(cipher->payload_key_), cipher->payload_key_.size(), 3,
                             kKdfContext, key);
  unsigned char id[crypto_kdf_BYTES_MIN];
  crypto_kdf_derive_from_key(id, sizeof id, 4, kKdfContext, key);
  cipher->key_id_.resize(2 * 8 + 1);
  sodium_bin2hex(cipher->key_id_.data(), cipher->key_id_.size(), id, 8);
  cipher->key_id_.pop_back();
  sodium_memzero(key, sizeof key);
  return cipher;
}

std::string PiiCipher::Seal(const std::vector<std::string>& fields) const {
  const std::string plain = EncodeFields(fields);
  std::string sealed(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  unsigned char* nonce = Bytes(sealed);
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, Bytes(plain), plain.size(), nonce,
                        Bytes(box_key_));
  return sealed;
}

absl::StatusOr<std::vector<std::string>> PiiCipher::Open(absl::string_view sealed) const {
  constexpr size_t kOverhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < kOverhead) return absl::DataLossError("sealed record is truncated");
  std::string plain(sealed.size() - kOverhead, '\0');
  const unsigned char* nonce = Bytes(sealed);
  if (crypto_secretbox_open_easy(Bytes(plain), nonce + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 Bytes(box_key_)) != 0) {
    return absl::DataLossError("sealed record does not open with the data key");
  }
  std::vector<std::string> fields;
  if (!DecodeFields(plain, &fields)) return absl::DataLossError("sealed record is malformed");
  return fields;
}

namespace {

std::string KeyedHash(absl::string_view data, const std::string& key) {
  std::string hash(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(), Bytes(data),
                     data.size(), Bytes(key), key.size());
  return hash;
}

}  // namespace

std::string PiiCipher::PhoneHash(absl::string_view e164) const {
  return KeyedHash(e164, hash_key_);
}

std::string PiiCipher::PayloadHash(absl::string_view payload) const {
  return KeyedHash(payload, payload_key_);
}

}  // namespace intake::store
