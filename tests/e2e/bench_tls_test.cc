// intake-bench with TLS on both sides: the spawned intaked and the echo baseline serve the
// same certificate, and the clients verify it.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/bench_run.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace intake::testing {
namespace {

TEST(BenchTlsTest, MeasuresEchoAndIntakedBothOverTls) {
  TempDir dir;
  TestCa ca(dir.path(), "bench-ca");
  const CertFiles server = ca.IssueServer("bench");
  const BenchRun run = RunBench(
      dir, absl::StrCat("--duration=1s --warmup=0s --concurrency=4 --channels=2 --tls_cert=",
                        server.cert, " --tls_key=", server.key, " --tls_ca=", ca.cert()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, R"("tls": true)")) << run.out;
  // Both phases made calls, and none failed (a TLS mismatch fails every call).
  EXPECT_TRUE(absl::StrContains(run.out, R"("errors": 0, "error_codes": {}}, "submit")"))
      << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, R"("errors": 0, "error_codes": {}}, "ratio")")) << run.out;
  EXPECT_FALSE(absl::StrContains(run.out, R"("ok": 0,)")) << run.out;
}

TEST(BenchTlsTest, RefusesHalfATlsConfiguration) {
  TempDir dir;
  TestCa ca(dir.path(), "bench-ca");
  const CertFiles server = ca.IssueServer("bench");
  EXPECT_EQ(RunBench(dir, "--tls_cert=" + server.cert).exit_code, 2);
  // TLS to intaked against a plaintext echo would not compare like with like.
  EXPECT_EQ(RunBench(dir, "--tls_ca=" + ca.cert()).exit_code, 2);
  EXPECT_EQ(RunBench(dir, absl::StrCat("--tls_cert=", dir.File("none"), " --tls_key=", server.key))
                .exit_code,
            2);
}

}  // namespace
}  // namespace intake::testing
