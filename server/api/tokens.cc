#include "server/api/tokens.h"

#include <sodium.h>

#include <cstdlib>
#include <iostream>

namespace intake::api {
namespace {

void InitSodiumOnce() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) {
    // No CSPRNG means no safe token can be made; this is a broken machine, not bad input.
    std::cerr << "intaked: libsodium failed to initialise\n";
    std::abort();
  }
}

}  // namespace

std::string NewBearerToken() {
  InitSodiumOnce();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string token(sodium_base64_ENCODED_LEN(sizeof bytes, kVariant), '\0');
  sodium_bin2base64(token.data(), token.size(), bytes, sizeof bytes, kVariant);
  token.resize(token.size() - 1);  // The encoded length counts the terminating NUL.
  sodium_memzero(bytes, sizeof bytes);
  return token;
}

}  // namespace intake::api
