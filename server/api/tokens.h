// server/api: the gRPC face of Intake (services, authentication, proto<->domain conversion,
// status mapping). This header makes the bearer tokens that authentication checks.
#ifndef INTAKE_SERVER_API_TOKENS_H_
#define INTAKE_SERVER_API_TOKENS_H_

#include <string>

namespace intake::api {

// Returns a new bearer token: 32 bytes from libsodium's CSPRNG, URL-safe base64 without
// padding (43 characters), so it travels unchanged in an `authorization` header and a shell.
// Thread-safe.
std::string NewBearerToken();

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_TOKENS_H_
