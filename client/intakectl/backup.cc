// backup: a consistent copy of the server's database, streamed into a local file.
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/intakectl/command.h"
#include "client/intakectl/unary_call.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

// The file being written: "<out>.partial" until it is complete and checked, then renamed to
// <out>, so <out> is only ever a whole backup (an older one stays until the new one is good).
class PartialFile {
 public:
  explicit PartialFile(std::string out) : out_(std::move(out)), partial_(out_ + ".partial") {}
  ~PartialFile() {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(partial_.c_str());
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // Each returns "" or what went wrong.
  std::string Open() {
    // 0600: the copy holds hashes and sealed personal data.
    fd_ = open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    return fd_ < 0 ? Problem(partial_) : "";
  }
  std::string Write(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Problem(partial_);
      done += static_cast<size_t>(n);
    }
    return "";
  }
  // Makes the file durable under its final name.
  std::string Commit() {
    if (fsync(fd_) != 0) return Problem(partial_);
    close(fd_);
    fd_ = -1;
    if (rename(partial_.c_str(), out_.c_str()) != 0) return Problem(out_);
    committed_ = true;
    const std::string::size_type slash = out_.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : out_.substr(0, slash + 1);
    const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || fsync(dir_fd) != 0) {
      if (dir_fd >= 0) close(dir_fd);
      return Problem(dir);
    }
    close(dir_fd);
    return "";
  }

 private:
  static std::string Problem(const std::string& path) {
    return absl::StrCat(path, ": ", strerror(errno));
  }

  const std::string out_;
  const std::string partial_;
  int fd_ = -1;
  bool committed_ = false;
};

int Fail(absl::string_view problem) {
  std::cerr << "intakectl: backup failed: " << problem << "\n";
  return kExitFailed;
}

int Backup(const Invocation& run) {
  std::string out;
  if (!run.flags.Text("out", /*required=*/true, &out)) return kExitUsage;
  const std::optional<Connection> connection =
      Connection::Open(run.global, Listener::kAdmin, Credential::kAdminToken);
  if (!connection) return kExitUsage;
  PartialFile file(out);
  if (std::string problem = file.Open(); !problem.empty()) return Fail(problem);

  // No deadline: a large database takes as long as it takes; Ctrl-C stops it.
  std::unique_ptr<grpc::ClientContext> context = connection->StreamContext();
  v1::AdminService::Stub stub(connection->channel());
  std::unique_ptr<grpc::ClientReader<v1::BackupDatabaseResponse>> reader =
      stub.BackupDatabase(context.get(), v1::BackupDatabaseRequest());
  v1::BackupDatabaseResponse message;
  v1::BackupDatabaseResponse summary;  // info and sha256, for the output
  int64_t received = 0;
  crypto_hash_sha256_state sha256;
  crypto_hash_sha256_init(&sha256);
  std::string problem;
  while (problem.empty() && reader->Read(&message)) {
    if (message.has_info()) {
      *summary.mutable_info() = message.info();
    } else if (!message.sha256().empty()) {
      summary.set_sha256(message.sha256());
    } else {
      crypto_hash_sha256_update(&sha256,
                                reinterpret_cast<const unsigned char*>(message.chunk().data()),
                                message.chunk().size());
      received += static_cast<int64_t>(message.chunk().size());
      problem = file.Write(message.chunk());
    }
  }
  if (!problem.empty()) {
    context->TryCancel();
    reader->Finish();
    return Fail(problem);
  }
  if (const grpc::Status status = reader->Finish(); !status.ok()) {
    return ReportRpcError(status, connection->address());
  }
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha256, hash);
  const std::string hash_hex =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
  if (!summary.has_info() || received != summary.info().size_bytes() ||
      hash_hex != summary.sha256()) {
    return Fail(absl::StrCat("the copy received (", received,
                             " bytes) does not match what the server sent (",
                             summary.info().size_bytes(), " bytes, SHA-256 ", summary.sha256(),
                             "); nothing was written to ", out));
  }
  if (std::string commit_problem = file.Commit(); !commit_problem.empty()) {
    return Fail(commit_problem);
  }

  const v1::BackupInfo& info = summary.info();
  if (run.json()) {
    // What the server sent but the bytes, which are in the file: the first message's info
    // and the last one's sha256.
    google::protobuf::Struct printed;
    if (!google::protobuf::util::JsonStringToMessage(
             ToJson(info, /*multiline=*/false),
             (*printed.mutable_fields())["info"].mutable_struct_value())
             .ok()) {
      return Fail("cannot print the backup's info as JSON");
    }
    (*printed.mutable_fields())["sha256"].set_string_value(summary.sha256());
    PrintJson(printed);
  } else {
    PrintRecord({{"file", out},
                 {"bytes", std::to_string(info.size_bytes())},
                 {"sha256", summary.sha256()},
                 {"instance", info.instance_id()},
                 {"schema version", std::to_string(info.schema_version())},
                 {"events up to", std::to_string(info.head_sequence())},
                 {"snapshot time", FormatTimestamp(info.snapshot_time())},
                 {"data key id", info.data_key_id()}},
                std::cout);
  }
  std::cerr << "intakectl: IMPORTANT: the callers' data in " << out
            << " is sealed with the server's data key (id " << info.data_key_id()
            << "), which is NOT in the backup. Without that key (data.key in the server's "
               "data directory) the callers' data in every backup is lost for good: keep a copy "
               "of data.key, apart from the backups.\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> BackupCommands() {
  return {
      {"",
       "backup",
       "Copy the server's database, consistent and while it serves, into a local file. The "
       "file is replaced only once the whole copy has arrived and its SHA-256 matches. The "
       "callers' data in it needs the server's data.key, which is not in the copy: keep that "
       "key too. Restore: stop intaked, put the file in place of intake.db in its data "
       "directory (removing intake.db-wal and intake.db-shm), beside its data.key; start it.",
       "intakectl backup --out=intake-2024-05-01.db",
       {{"out", "FILE", "where to write the copy (required); replaced if it exists"}},
       Backup},
  };
}

}  // namespace intake::ctl
