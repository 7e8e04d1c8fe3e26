// What the fault tests that load a real intaked share: a server with a provider ready to take
// leads, submissions at a fixed rate, and the server's heap as /proc shows it.
#ifndef INTAKE_TESTS_E2E_LOAD_HELPERS_H_
#define INTAKE_TESTS_E2E_LOAD_HELPERS_H_

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/bench/admin_setup.h"
#include "client/bench/channels.h"
#include "client/bench/open_loop.h"
#include "client/bench/synthetic_submissions.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"

namespace intake::testing {

// "RssAnon" of /proc/<pid>/status in KiB: the heap, where a queue would grow.
inline int64_t AnonymousKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8));
  }
  return -1;
}

// A server with a provider, its listing and token, and stubs.
struct ServerWithProvider {
  std::unique_ptr<IntakedProcess> process;
  bench::BenchProvider provider;
};

inline ServerWithProvider StartWithProvider(const std::string& data_dir) {
  ServerWithProvider s;
  s.process = IntakedProcess::Start({}, data_dir);
  if (s.process == nullptr) return s;
  absl::StatusOr<bench::BenchProvider> provider = bench::SetUpBenchProvider(
      s.process->AdminChannel(), s.process->AdminToken(), absl::Seconds(10));
  EXPECT_TRUE(provider.ok()) << provider.status();
  if (provider.ok()) s.provider = *provider;
  return s;
}

// Submits to `server`'s provider listing at `rate` per second for `duration` (after a 2 s
// warm-up), from `tag`'s callers; returns the measured calls.
inline bench::OpenLoopResult SubmitAtRate(const ServerWithProvider& server, const std::string& tag,
                                          int rate, absl::Duration duration) {
  const bench::SyntheticSubmissions submissions(tag, 0, server.provider.listing_id);
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      bench::OpenChannels(server.process->listen_address(), 4, {});
  std::vector<std::unique_ptr<v1::IntakeService::Stub>> stubs;
  stubs.reserve(channels.size());
  for (const auto& channel : channels) stubs.push_back(v1::IntakeService::NewStub(channel));
  struct Call {
    grpc::ClientContext context;
    v1::SubmitCallbackRequest request;
    v1::SubmitCallbackResponse response;
  };
  return bench::RunOpenLoop(bench::OpenLoopOptions{rate, absl::Seconds(2), duration},
                            [&](uint64_t index, bool, bench::CallDone done) {
                              auto* call = new Call;
                              call->context.set_deadline(bench::DeadlineIn(absl::Seconds(10)));
                              submissions.Fill(index, &call->request);
                              stubs[index % stubs.size()]->async()->SubmitCallback(
                                  &call->context, &call->request, &call->response,
                                  [call, done = std::move(done)](const grpc::Status& status) {
                                    delete call;
                                    done(status.error_code());
                                  });
                            });
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_LOAD_HELPERS_H_
