// The data directory: the SQLite database and the secrets intaked generates on first start.
#ifndef INTAKE_SERVER_STORE_DATA_DIR_H_
#define INTAKE_SERVER_STORE_DATA_DIR_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace intake::store {

// Creates `path` (and missing parents) if needed, the last component with mode 0700, and
// checks that it is a directory intaked can write. Returns kFailedPrecondition with the path
// and the system's reason otherwise.
absl::Status PrepareDataDir(const std::string& path);

// Returns the contents of the secret file at `path` without surrounding white space.
// Returns kNotFound if there is no such file, kFailedPrecondition if it cannot be read or
// is empty. The secret never appears in a returned message.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

// Like ReadSecretFile, but first creates a missing file with mode 0600 holding `generate()`.
// Creation is atomic (O_EXCL, then fsync of the file and its directory), so two processes
// starting at once agree on one secret.
absl::StatusOr<std::string> ReadOrCreateSecretFile(const std::string& path,
                                                   absl::FunctionRef<std::string()> generate);

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_DATA_DIR_H_
