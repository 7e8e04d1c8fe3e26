#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/api/lead_stream.h"

namespace intake::api {
namespace {

// Remembers how it was ended.
class RecordingStream : public EndableStream {
 public:
  void End(grpc::Status status) override { ends.push_back(status.error_code()); }
  std::vector<grpc::StatusCode> ends;
};

const std::string kToken(32, 'a');
const std::string kOtherToken(32, 'b');

TEST(StreamRegistryTest, RevokingATokenEndsItsStreamsOnly) {
  StreamRegistry registry;
  RecordingStream mine, other, admin;
  ASSERT_TRUE(registry.Add(&mine, kToken).ok());
  ASSERT_TRUE(registry.Add(&other, kOtherToken).ok());
  ASSERT_TRUE(registry.Add(&admin, "").ok());
  registry.Revoke(kToken);
  EXPECT_EQ(mine.ends, std::vector<grpc::StatusCode>{grpc::StatusCode::UNAUTHENTICATED});
  EXPECT_TRUE(other.ends.empty());
  EXPECT_TRUE(admin.ends.empty());
  registry.Revoke("");
  EXPECT_TRUE(admin.ends.empty()) << "the admin token's streams are not revoked this way";
}

// A stream that authenticated an instant before its token was revoked registers after the
// revocation: it must be refused, not left streaming leads.
TEST(StreamRegistryTest, AStreamOfARevokedTokenIsRefused) {
  StreamRegistry registry;
  registry.Revoke(kToken);
  RecordingStream late;
  EXPECT_EQ(registry.Add(&late, kToken).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(registry.size(), 0u);
  RecordingStream other;
  EXPECT_TRUE(registry.Add(&other, kOtherToken).ok());
}

TEST(StreamRegistryTest, DrainingEndsEveryStreamAndRefusesNewOnes) {
  StreamRegistry registry;
  RecordingStream provider, admin;
  ASSERT_TRUE(registry.Add(&provider, kToken).ok());
  ASSERT_TRUE(registry.Add(&admin, "").ok());
  registry.DrainAll();
  EXPECT_EQ(provider.ends, std::vector<grpc::StatusCode>{grpc::StatusCode::UNAVAILABLE});
  EXPECT_EQ(admin.ends, std::vector<grpc::StatusCode>{grpc::StatusCode::UNAVAILABLE});
  RecordingStream late;
  EXPECT_EQ(registry.Add(&late, "").error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(StreamRegistryTest, ATokenHoldsAtMostItsCapOfStreams) {
  StreamRegistry registry(/*max_per_token=*/2);
  RecordingStream first, second, third, other;
  ASSERT_TRUE(registry.Add(&first, kToken).ok());
  ASSERT_TRUE(registry.Add(&second, kToken).ok());
  EXPECT_EQ(registry.Add(&third, kToken).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(registry.Add(&other, kOtherToken).ok());
  registry.Remove(&third);  // Never registered: changes nothing.
  EXPECT_EQ(registry.size(), 3u);
  registry.Remove(&first);
  EXPECT_TRUE(registry.Add(&third, kToken).ok());
}

}  // namespace
}  // namespace intake::api
