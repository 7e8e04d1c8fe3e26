#include "server/store/pii_cipher.h"

#include <sodium.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace intake::store {
namespace {

std::unique_ptr<PiiCipher> NewCipher() { return *PiiCipher::FromKeyHex(PiiCipher::NewKeyHex()); }

TEST(PiiCipherTest, SealedFieldsOpenOnlyWithTheSameKey) {
  auto cipher = NewCipher();
  const std::vector<std::string> fields = {"Jordan", "+12127365000", "", std::string(3000, 'm'),
                                           std::string("\0\x01", 2)};
  const std::string sealed = cipher->Seal(fields);
  EXPECT_EQ(sealed.find("Jordan"), std::string::npos);
  EXPECT_EQ(cipher->Open(sealed).value(), fields);
  EXPECT_NE(cipher->Seal(fields), sealed) << "a fresh nonce every time";
  EXPECT_EQ(NewCipher()->Open(sealed).status().code(), absl::StatusCode::kDataLoss);
  std::string tampered = sealed;
  tampered.back() ^= 1;
  EXPECT_EQ(cipher->Open(tampered).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(cipher->Open("short").status().code(), absl::StatusCode::kDataLoss);
}

TEST(PiiCipherTest, PhoneHashIsStablePerKeyAndKeyed) {
  const std::string key = PiiCipher::NewKeyHex();
  auto a = *PiiCipher::FromKeyHex(key);
  auto b = *PiiCipher::FromKeyHex(key);
  EXPECT_EQ(a->PhoneHash("+12127365000"), b->PhoneHash("+12127365000"));
  EXPECT_NE(a->PhoneHash("+12127365000"), a->PhoneHash("+12127365001"));
  EXPECT_NE(a->PhoneHash("+12127365000"), NewCipher()->PhoneHash("+12127365000"));
  EXPECT_EQ(a->PhoneHash("x").size(), 32u);
}

TEST(PiiCipherTest, PayloadHashIsStablePerKeyAndKeyed) {
  const std::string key = PiiCipher::NewKeyHex();
  auto a = *PiiCipher::FromKeyHex(key);
  EXPECT_EQ(a->PayloadHash("payload"), (*PiiCipher::FromKeyHex(key))->PayloadHash("payload"));
  EXPECT_NE(a->PayloadHash("payload"), a->PayloadHash("payloae"));
  EXPECT_NE(a->PayloadHash("payload"), NewCipher()->PayloadHash("payload"));
  EXPECT_NE(a->PayloadHash("+12127365000"), a->PhoneHash("+12127365000")) << "a key of its own";
  std::string unkeyed(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(unkeyed.data()), unkeyed.size(),
                     reinterpret_cast<const unsigned char*>("payload"), 7, nullptr, 0);
  EXPECT_NE(a->PayloadHash("payload"), unkeyed);
  EXPECT_EQ(a->PayloadHash("payload").size(), 32u);
}

TEST(PiiCipherTest, KeyIdNamesTheKeyWithoutRevealingIt) {
  const std::string key = PiiCipher::NewKeyHex();
  auto a = *PiiCipher::FromKeyHex(key);
  EXPECT_EQ(a->key_id(), (*PiiCipher::FromKeyHex(key))->key_id());
  EXPECT_NE(a->key_id(), NewCipher()->key_id());
  ASSERT_EQ(a->key_id().size(), 16u);
  EXPECT_EQ(a->key_id().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(key.find(a->key_id()), std::string::npos) << "not a piece of the key";
}

TEST(PiiCipherTest, KeyMustBe64HexDigits) {
  EXPECT_EQ(PiiCipher::NewKeyHex().size(), 64u);
  for (const std::string& bad :
       std::vector<std::string>{"", "abc", std::string(64, 'g'), std::string(66, 'a')}) {
    EXPECT_EQ(PiiCipher::FromKeyHex(bad).status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

// Replicas that share data.key derive the same subkey; each purpose gets its own, and none is
// the data key or the PII keys.
TEST(DeriveDataSubkeyTest, SameKeySameSubkeyOtherContextOtherSubkey) {
  const std::string key = PiiCipher::NewKeyHex();
  const absl::StatusOr<std::string> a = DeriveDataSubkey(key, "pagetokn", 32);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->size(), 32u);
  EXPECT_EQ(DeriveDataSubkey(key, "pagetokn", 32).value(), *a);
  EXPECT_NE(DeriveDataSubkey(key, "keycheck", 32).value(), *a);
  EXPECT_NE(DeriveDataSubkey(PiiCipher::NewKeyHex(), "pagetokn", 32).value(), *a);
  EXPECT_EQ(DeriveDataSubkey(std::string(64, 'g'), "pagetokn", 32).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (const auto& [context, bytes] : std::vector<std::pair<std::string, size_t>>{
           {"intakepi", 32}, {"short", 32}, {"too-long-1", 32}, {"pagetokn", 8}}) {
    EXPECT_EQ(DeriveDataSubkey(key, context, bytes).status().code(),
              absl::StatusCode::kInvalidArgument)
        << context << " " << bytes;
  }
}

}  // namespace
}  // namespace intake::store
