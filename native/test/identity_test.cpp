#include <gtest/gtest.h>

#include "crypto/primitives.h"
#include "test_support.h"
#include "vl1/identity.h"

namespace zts {
namespace {

TEST(Identity, MemoryHardDigestMatchesV1) {
  crypto::initialize();
  auto a = vl1::Identity::fromString(test::kIdentityA);
  ASSERT_TRUE(a);
  std::vector<uint8_t> scratch(vl1::kMemoryHardScratchLen);
  vl1::Digest d;
  vl1::memoryHardDigest(a->publicKey().data(), d, scratch.data());
  EXPECT_EQ(test::toHex(d.data(), d.size()),
            "10b1afd388c4c1561f184ed54cd5bd012a1c8edf5a5975200bb15608dba0b5ebb9faa360a0c6bf99cf684e"
            "015bf5bda9d347a4867a5515fa48c6c58e4df28b72");
  EXPECT_TRUE(a->locallyValidate());
}

TEST(Identity, BinaryRoundTripAndTruncation) {
  auto a = vl1::Identity::fromString(test::kIdentityA);
  ASSERT_TRUE(a);
  uint8_t buf[vl1::kIdentityBinarySecretLen];
  ASSERT_EQ(a->toBinary(buf, sizeof buf, false), vl1::kIdentityBinaryPublicLen);
  for (size_t n = 0; n < vl1::kIdentityBinaryPublicLen; ++n) {
    size_t consumed = 0;
    EXPECT_FALSE(vl1::Identity::fromBinary(buf, n, consumed)) << n;
  }
  size_t consumed = 0;
  auto back = vl1::Identity::fromBinary(buf, vl1::kIdentityBinaryPublicLen, consumed);
  ASSERT_TRUE(back);
  EXPECT_EQ(consumed, vl1::kIdentityBinaryPublicLen);
  EXPECT_TRUE(back->samePublic(*a));
}

}  // namespace
}  // namespace zts
