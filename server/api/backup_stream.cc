#include "server/api/backup_stream.h"

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "server/api/convert.h"
#include "server/api/status.h"

namespace intake::api {

BackupStream::BackupStream(store::Storage* store, BlockingExecutor* executor,
                           StreamRegistry* registry)
    : store_(*store), executor_(*executor), registry_(*registry) {
  if (grpc::Status admitted = registry_.Add(this, ""); !admitted.ok()) {
    Finish(admitted);
    return;
  }
  executor_.Run([this] { MakeCopy(); });
}

void BackupStream::MakeCopy() {
  store::BackupOptions options;
  options.cancelled = [this] { return stop_requested_.load(); };
  absl::StatusOr<std::unique_ptr<store::BackupFile>> file = store_.Backup(options);
  if (!file.ok()) {
    FinishWith(ToGrpcStatus(file.status()));
    return;
  }
  file_ = *std::move(file);
  crypto_hash_sha256_init(&sha256_);
  const store::BackupInfo& info = file_->info();
  v1::BackupInfo* out = message_.mutable_info();
  out->set_instance_id(info.instance_id);
  out->set_schema_version(info.schema_version);
  out->set_head_sequence(info.head_sequence);
  out->set_size_bytes(info.size_bytes);
  ToProto(info.snapshot_time, out->mutable_snapshot_time());
  out->set_data_key_id(info.data_key_id);
  StartWrite(&message_);
}

void BackupStream::OnWriteDone(bool ok) {
  if (!ok) {
    FinishWith(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
  } else if (hash_sent_) {
    Close(grpc::Status::OK);
  } else if (std::optional<grpc::Status> ended = Ended()) {
    Close(*ended);
  } else {
    executor_.Run([this] { SendNext(); });
  }
}

void BackupStream::SendNext() {
  absl::StatusOr<std::string> chunk = file_->Read(offset_, kChunkBytes);
  if (!chunk.ok()) {
    FinishWith(ToGrpcStatus(chunk.status()));
    return;
  }
  message_.Clear();
  if (chunk->empty()) {
    if (offset_ != file_->info().size_bytes) {
      FinishWith(grpc::Status(grpc::StatusCode::DATA_LOSS, "the backup copy was cut short"));
      return;
    }
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&sha256_, hash);
    message_.set_sha256(absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(hash), sizeof hash)));
    hash_sent_ = true;
  } else {
    crypto_hash_sha256_update(&sha256_, reinterpret_cast<const unsigned char*>(chunk->data()),
                              chunk->size());
    offset_ += static_cast<int64_t>(chunk->size());
    message_.set_chunk(*std::move(chunk));
  }
  StartWrite(&message_);
}

void BackupStream::End(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (!ended_) ended_ = std::move(status);
  stop_requested_ = true;
}

std::optional<grpc::Status> BackupStream::Ended() {
  absl::MutexLock lock(&mu_);
  return ended_;
}

void BackupStream::FinishWith(const grpc::Status& status) {
  std::optional<grpc::Status> ended = Ended();
  Close(ended ? *ended : status);
}

void BackupStream::Close(const grpc::Status& status) {
  file_.reset();
  Finish(status);
}

void BackupStream::OnDone() {
  registry_.Remove(this);
  delete this;
}

}  // namespace intake::api
