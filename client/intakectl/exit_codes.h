// intakectl's exit codes, one per failure class, and the mapping from a gRPC status to them.
// Scripts depend on these numbers: add new ones, never renumber.
#ifndef INTAKE_CLIENT_INTAKECTL_EXIT_CODES_H_
#define INTAKE_CLIENT_INTAKECTL_EXIT_CODES_H_

#include "grpcpp/support/status_code_enum.h"

namespace intake::ctl {

// Success.
inline constexpr int kExitOk = 0;
// Bad command line: unknown command or flag, a missing or malformed flag value, or input the
// CLI can tell is bad without asking the server (malformed id, unknown region, ...). Nothing
// was sent.
inline constexpr int kExitUsage = 2;
// The server could not be reached, did not answer within --timeout, or answered UNAVAILABLE
// (draining or busy); safe to retry. `health` also uses it for NOT_SERVING.
inline constexpr int kExitUnreachable = 3;
// The token was missing on the server's side, unknown or revoked (UNAUTHENTICATED), or of the
// wrong kind (PERMISSION_DENIED).
inline constexpr int kExitDenied = 4;
// The provider, listing, lead or token named does not exist (NOT_FOUND).
inline constexpr int kExitNotFound = 5;
// The server refused the input (INVALID_ARGUMENT, OUT_OF_RANGE); each field violation is
// printed on stderr.
inline constexpr int kExitInvalid = 6;
// Any other failure: ALREADY_EXISTS, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, UNIMPLEMENTED,
// INTERNAL and the rest, or a local file that could not be written.
inline constexpr int kExitFailed = 7;

// The exit code for a call that ended with `code`; kExitOk for OK.
int ExitCodeFor(grpc::StatusCode code);

// The table above, for `intakectl --help`.
extern const char kExitCodeHelp[];

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_EXIT_CODES_H_
