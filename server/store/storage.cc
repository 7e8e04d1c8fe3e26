#include "server/store/storage.h"

#include "server/domain/status_macros.h"

namespace intake::store {

absl::StatusOr<uint32_t> Storage::PurgeLeads(absl::Time older_than) {
  uint32_t purged = 0;
  int batch = 0;
  do {
    INTAKE_ASSIGN_OR_RETURN(batch, PurgeLeadBatch(older_than, kPurgeBatch));
    purged += static_cast<uint32_t>(batch);
  } while (batch == kPurgeBatch);
  if (purged > 0) INTAKE_RETURN_IF_ERROR(ClearOldCopies());
  return purged;
}

}  // namespace intake::store
