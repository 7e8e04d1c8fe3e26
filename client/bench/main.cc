// intake-bench: flags, then one benchmark mode. Everything with behaviour lives in the other
// files of client/bench.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/bench/bench_config.h"
#include "client/bench/delivery_mode.h"
#include "client/bench/disk_floor.h"
#include "client/bench/spawned_intaked.h"
#include "client/bench/submit_mode.h"

ABSL_FLAG(std::string, mode, "submit",
          "What to measure (the performance budget in DESIGN.md); every mode also measures a "
          "bare gRPC echo server in this process carrying the same bytes per call, in the same "
          "run. submit: SubmitCallback throughput and latency at --concurrency calls in "
          "flight, every call from a new caller, as a ratio to the echo server, which is measured "
          "before and after the submit phase: the ratio is to the faster of the two (both are "
          "in \"echo_calls_per_s\"), so a moment when the machine runs slow cannot raise it. "
          "delivery: "
          "leads submitted at --rate per second (open loop) to a listing of a provider that "
          "this run creates and subscribes as; the time from each submission to its lead's "
          "arrival on the provider's SubscribeLeads stream, and the leads lost. delivery also "
          "measures a disk floor in the same run: one thread making leads arriving at --rate "
          "durable as a perfect group commit would (write --floor_commit_bytes, fdatasync, "
          "repeat), in --floor_dir; a design that stores each lead before delivering it cannot "
          "expect better on that disk, so read delivery p99 against it.");
ABSL_FLAG(std::string, target, "",
          "host:port of a running intaked's public listener to measure (started with "
          "--client_rate=0, or a rate that admits the whole load from one client). Empty: start "
          "intaked (see --intaked) on 127.0.0.1 port 0 with a fresh temporary data directory "
          "and no per-client rate limit, and stop it and remove the directory at the end. "
          "Several replicas of one PostgreSQL fleet: their addresses separated by commas; "
          "the calls' channels go to each in turn, and the delivery mode's stream to the "
          "first, so it receives leads submitted through every replica.");
ABSL_FLAG(std::string, admin_target, "",
          "host:port of --target's admin listener, for modes that need it (delivery; submit "
          "does not).");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding --target's admin token (intaked's <data_dir>/admin.token), for modes "
          "that need --admin_target.");
ABSL_FLAG(std::string, intaked, "",
          "The intaked binary to start when --target is empty. Empty: `intaked` in the "
          "directory of this binary.");
ABSL_FLAG(std::string, intaked_flags, "",
          "Flags added to the spawned intaked's command line, separated by spaces (e.g. "
          "\"--metrics_listen=\" to measure without metrics). Ignored with --target.");
ABSL_FLAG(std::string, data_dir_parent, "",
          "Directory in which the spawned intaked's temporary data directory is made (and "
          "removed at the end). Empty: $TMPDIR, else /tmp. /dev/shm puts it on tmpfs, where "
          "fdatasync costs nothing: what remains of the delivery latency is Intake's own. The "
          "report names the file system (\"server\": {\"data_dir_fs\": ..}). Ignored with "
          "--target.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate that the spawned intaked and the echo server both serve TLS with, "
          "so both phases pay for TLS alike; it must name 127.0.0.1 (subjectAltName "
          "IP:127.0.0.1). Needs --tls_key. Empty: plaintext. A self-signed one will do: "
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
          "-subj /CN=bench -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA bundle the clients verify servers with when TLS is on (with --target, the "
          "CA of its certificate). Empty: --tls_cert itself (self-signed).");
ABSL_FLAG(int32_t, concurrency, 64, "Calls kept in flight in each phase. At least 1.");
ABSL_FLAG(int32_t, channels, 8,
          "Channels, one TCP connection each, that the calls in flight are spread over. From "
          "1 to --concurrency.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "How long each phase runs before it is measured. Zero or more.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "How long each phase is measured, after --warmup. Positive.");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(10),
          "Deadline of every call; calls that miss it count as DEADLINE_EXCEEDED. Positive.");
ABSL_FLAG(std::string, listing_id, "",
          "listing_id of every submission in the submit mode, which must name an existing "
          "listing. Empty: the general helpline.");
ABSL_FLAG(int32_t, rate, 1000, "Submissions started per second in the delivery mode. Positive.");
ABSL_FLAG(std::string, floor_dir, "",
          "Directory the delivery mode's disk floor writes its scratch file in (removed at the "
          "end); it should be on the disk the server commits to. Empty: the spawned intaked's "
          "data directory; with --target, no floor is measured (\"disk_floor\": null).");
ABSL_FLAG(int32_t, floor_commit_bytes, 65536,
          "Bytes the disk floor writes before each fdatasync: about what one intaked commit of "
          "a single lead writes to the WAL (~16 pages of 4 KiB). From 1 to 16777216 (16 MiB).");

namespace {

constexpr int kExitBadFlags = 2;

// A benchmark mode: runs with the whole configuration and returns the process exit code.
struct Mode {
  const char* name;
  int (*run)(const intake::bench::BenchConfig& config);
  // Whether it sets the server up through AdminService, so that a --target server needs
  // --admin_target and --admin_token_file.
  bool needs_admin;
};
constexpr Mode kModes[] = {{"submit", intake::bench::RunSubmitMode, false},
                           {"delivery", intake::bench::RunDeliveryMode, true}};

constexpr char kUsage[] =
    "intake-bench: load generator for Intake, measured against a bare gRPC echo server in "
    "the same run.\n"
    "Usage: intake-bench [--flag=value ...]\n"
    "Prints one JSON object on stdout and progress on stderr. Exit status: 0 when it ran (even "
    "with failed calls, which it reports), 1 when it could not start or reach a server, 2 for "
    "bad flags.\n";

bool IsOwnFlag(const absl::CommandLineFlag& flag) {
  return absl::EndsWith(flag.Filename(), "client/bench/main.cc");
}

void PrintUsage() {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsOwnFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::cout << kUsage << "\nFlags:\n";
  for (const absl::CommandLineFlag* flag : flags) {
    std::cout << "  --" << flag->Name() << " (default: \"" << flag->DefaultValue() << "\")\n      "
              << flag->Help() << "\n";
  }
}

int BadFlags(absl::string_view problem) {
  std::cerr << "intake-bench: " << problem << " (see --help)\n";
  return kExitBadFlags;
}

// Sets the flags above from argv ("--name=value", "--name value", one dash also accepted).
// Abseil's ParseCommandLine exits with status 1 on a bad flag or --help in this version, and 1
// is this tool's "could not start the server", so the parsing is done here through Abseil's
// flag reflection. Returns the exit code when the process should end now.
std::optional<int> ParseFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      return BadFlags(absl::StrCat("unexpected argument '", argv[i], "'"));
    }
    const size_t equals = arg.find('=');
    const absl::string_view name = arg.substr(0, equals);
    if (name == "help" || name == "helpfull" || name == "helpshort") {
      PrintUsage();
      return 0;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || !IsOwnFlag(*flag)) {
      return BadFlags(absl::StrCat("unknown flag --", name));
    }
    absl::string_view value;
    if (equals != absl::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return BadFlags(absl::StrCat("--", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) return BadFlags(absl::StrCat("--", name, ": ", error));
  }
  return std::nullopt;
}

// The contents of the file at `path` into *out; false if it cannot be read.
bool ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) return false;
  *out = text.str();
  return true;
}

// The TLS flags, read into config->tls; an exit code if they are not a valid combination.
std::optional<int> ReadTls(intake::bench::BenchConfig* config) {
  intake::bench::BenchTls& tls = config->tls;
  tls.cert_path = absl::GetFlag(FLAGS_tls_cert);
  tls.key_path = absl::GetFlag(FLAGS_tls_key);
  const std::string ca_path = absl::GetFlag(FLAGS_tls_ca);
  if (tls.cert_path.empty() != tls.key_path.empty()) {
    return BadFlags("--tls_cert and --tls_key go together");
  }
  if (!tls.enabled()) {
    if (!ca_path.empty()) {
      return BadFlags(
          "--tls_ca needs --tls_cert and --tls_key: the echo baseline must serve TLS too");
    }
    return std::nullopt;
  }
  if (!ReadWholeFile(tls.cert_path, &tls.cert_pem)) {
    return BadFlags(absl::StrCat("--tls_cert: cannot read ", tls.cert_path));
  }
  if (!ReadWholeFile(tls.key_path, &tls.key_pem)) {
    return BadFlags(absl::StrCat("--tls_key: cannot read ", tls.key_path));
  }
  if (ca_path.empty()) {
    tls.ca_pem = tls.cert_pem;
  } else if (!ReadWholeFile(ca_path, &tls.ca_pem)) {
    return BadFlags(absl::StrCat("--tls_ca: cannot read ", ca_path));
  }
  return std::nullopt;
}

// The configuration the flags describe, or the reason it is not a valid one.
std::optional<int> ReadConfig(intake::bench::BenchConfig* config) {
  config->target = absl::GetFlag(FLAGS_target);
  config->admin_target = absl::GetFlag(FLAGS_admin_target);
  config->admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  config->intaked = absl::GetFlag(FLAGS_intaked);
  if (config->intaked.empty()) config->intaked = intake::bench::IntakedNextToThisBinary();
  config->intaked_args = absl::StrSplit(absl::GetFlag(FLAGS_intaked_flags), ' ', absl::SkipEmpty());
  config->data_dir_parent = absl::GetFlag(FLAGS_data_dir_parent);
  if (std::optional<int> exit_code = ReadTls(config)) return exit_code;
  config->concurrency = absl::GetFlag(FLAGS_concurrency);
  config->channels = absl::GetFlag(FLAGS_channels);
  config->warmup = absl::GetFlag(FLAGS_warmup);
  config->duration = absl::GetFlag(FLAGS_duration);
  config->call_timeout = absl::GetFlag(FLAGS_call_timeout);
  config->listing_id = absl::GetFlag(FLAGS_listing_id);
  config->rate = absl::GetFlag(FLAGS_rate);
  config->floor_dir = absl::GetFlag(FLAGS_floor_dir);
  config->floor_commit_bytes = absl::GetFlag(FLAGS_floor_commit_bytes);
  if (config->concurrency < 1) return BadFlags("--concurrency must be at least 1");
  if (config->channels < 1 || config->channels > config->concurrency) {
    return BadFlags("--channels must be from 1 to --concurrency");
  }
  if (config->warmup < absl::ZeroDuration() || config->warmup == absl::InfiniteDuration()) {
    return BadFlags("--warmup must be zero or more, and finite");
  }
  if (config->duration <= absl::ZeroDuration() || config->duration == absl::InfiniteDuration()) {
    return BadFlags("--duration must be positive and finite");
  }
  if (config->call_timeout <= absl::ZeroDuration() ||
      config->call_timeout == absl::InfiniteDuration()) {
    return BadFlags("--call_timeout must be positive and finite");
  }
  if (config->rate < 1) return BadFlags("--rate must be at least 1");
  if (config->floor_commit_bytes < 1 ||
      config->floor_commit_bytes > intake::bench::kDiskFloorFileBytes) {
    return BadFlags(absl::StrCat("--floor_commit_bytes must be from 1 to ",
                                 intake::bench::kDiskFloorFileBytes));
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef NDEBUG
  // As intaked does (server/main.cc): Debian's Abseil checks every Mutex acquisition, gRPC's
  // included, for lock-order cycles, in one graph behind one global lock: 4-6 % of this
  // process's CPU under load (perf), spent by the echo server it hosts and by every client.
  // The echo baseline should run as intaked runs.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  if (std::optional<int> exit_code = ParseFlags(argc, argv)) return *exit_code;
  intake::bench::BenchConfig config;
  if (std::optional<int> exit_code = ReadConfig(&config)) return *exit_code;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  for (const Mode& m : kModes) {
    if (mode != m.name) continue;
    if (m.needs_admin && !config.target.empty() &&
        (config.admin_target.empty() || config.admin_token_file.empty())) {
      return BadFlags(absl::StrCat("--mode=", mode, " with --target needs --admin_target and ",
                                   "--admin_token_file"));
    }
    return m.run(config);
  }
  std::vector<std::string> names;
  for (const Mode& m : kModes) names.emplace_back(m.name);
  return BadFlags(absl::StrCat("unknown --mode=", mode, "; modes: ", absl::StrJoin(names, ", ")));
}
