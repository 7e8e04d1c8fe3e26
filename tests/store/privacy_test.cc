// Store (SQLite): what erasure, purges and retention leave in the database file and its WAL.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/store/retention_sweeper.h"
#include "tests/store/store_fixture.h"

namespace intake::store {
namespace {

// What SQLite promises beyond Storage's contract (tests/store/storage_conformance_test.cc
// runs the privacy requests themselves on both backends): no file keeps a copy.
class PrivacyTest : public StoreFixture {};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The promise behind EraseCaller: afterwards neither raw file holds the sealed bytes. Many
// leads, merges and feedback around the erased ones, so the pages that held them were written
// to the WAL several times and checkpointed, as in a real database.
TEST_F(PrivacyTest, AfterTheErasureNeitherTheDatabaseNorTheWalHoldsTheSealedBytes) {
  AddProvider("a");
  std::vector<std::string> erased;
  for (int i = 0; i < 600; ++i) {
    Submission s = TestSubmission(absl::StrCat("+1212736", 5000 + i % 300));
    s.message = std::string(40 + (i * 37) % 900, 'm');  // Some rows overflow their page.
    const std::string lead = NewLead(s);  // Every second one merges into an earlier lead.
    if (i % 300 == 17) erased.push_back(lead);
    if (i % 7 == 0) {
      ASSERT_TRUE(store_->AcknowledgeLead("a", lead).ok());
    }
  }
  ASSERT_EQ(erased.size(), 2u);
  ASSERT_EQ(erased[0], erased[1]) << "the second submission merged into the first";
  const std::string sealed =
      Column(absl::StrCat("SELECT hex(sealed) FROM leads WHERE lead_id = '", erased[0], "'"))[0];
  ASSERT_GT(sealed.size(), 200u);
  const std::string needle = absl::HexStringToBytes(sealed);
  // Any 16 bytes of the ciphertext would do: search for each such slice.
  const auto holds_any_slice = [&](const std::string& haystack) {
    for (size_t at = 0; at + 16 <= needle.size(); at += 16) {
      if (haystack.find(needle.substr(at, 16)) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(holds_any_slice(FileBytes(path()) + FileBytes(path() + "-wal")));

  ASSERT_EQ(store_->EraseCaller("+12127365017").value_or(99), 1u);
  EXPECT_FALSE(holds_any_slice(FileBytes(path()))) << "the database file";
  EXPECT_FALSE(holds_any_slice(FileBytes(path() + "-wal"))) << "the WAL";
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u);
  const std::string phone_hash = TestCipher().PhoneHash("+12127365017");
  EXPECT_EQ(FileBytes(path()).find(phone_hash), std::string::npos) << "the keyed phone hash";
}

TEST_F(PrivacyTest, PurgesAndRetentionSweepsEmptyTheWal) {
  AddProvider("a");
  NewLead(TestSubmission("+12127365000"));
  NewLead(TestSubmission("+12127365111"));
  clock_.Advance(absl::Hours(2));
  ASSERT_GT(std::filesystem::file_size(path() + "-wal"), 0u);
  ASSERT_EQ(store_->PurgeLeads(clock_.Now() - absl::Hours(1)).value_or(99), 2u);
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u) << "after a purge";

  NewLead(TestSubmission("+12127365222"));
  clock_.Advance(absl::Hours(2));
  ASSERT_GT(std::filesystem::file_size(path() + "-wal"), 0u);
  RetentionSweeper::Options options;
  options.pii_retention = absl::Hours(1);
  options.pause = absl::ZeroDuration();
  RetentionSweeper sweeper(store_.get(), &clock_, options);
  const RetentionSweeper::Sweep sweep = sweeper.SweepOnce();
  ASSERT_TRUE(sweep.status.ok()) << sweep.status;
  EXPECT_EQ(sweep.erased_leads, 1);
  EXPECT_EQ(std::filesystem::file_size(path() + "-wal"), 0u) << "after a retention sweep";
}

}  // namespace
}  // namespace intake::store
