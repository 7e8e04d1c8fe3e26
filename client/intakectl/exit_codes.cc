#include "client/intakectl/exit_codes.h"

namespace intake::ctl {

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitDenied;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalid;
    default:
      return kExitFailed;
  }
}

const char kExitCodeHelp[] =
    "Exit codes:\n"
    "  0  ok\n"
    "  2  usage: unknown command or flag, bad flag value, or input the CLI can tell is bad\n"
    "     (malformed id, unknown region, ...); nothing was sent\n"
    "  3  unreachable: cannot connect, no answer within --timeout, or UNAVAILABLE (draining,\n"
    "     busy; safe to retry); `health` also exits 3 when the server is NOT_SERVING\n"
    "  4  denied: UNAUTHENTICATED (missing, unknown or revoked token) or PERMISSION_DENIED\n"
    "     (a token of the wrong kind)\n"
    "  5  not found: NOT_FOUND\n"
    "  6  invalid: INVALID_ARGUMENT or OUT_OF_RANGE; each field violation on stderr\n"
    "  7  failed: any other error (ALREADY_EXISTS, FAILED_PRECONDITION, RESOURCE_EXHAUSTED,\n"
    "     UNIMPLEMENTED, INTERNAL, ...), or a local file that could not be written\n";

}  // namespace intake::ctl
