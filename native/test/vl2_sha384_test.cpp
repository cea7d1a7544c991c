#include <gtest/gtest.h>

#include <string>

#include "crypto/primitives.h"
#include "test_support.h"
#include "vl2/certificate_of_membership.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

std::string sha384Hex(const std::vector<uint8_t>& in) {
  uint8_t out[crypto::kSha384Len];
  crypto::sha384(out, in.data(), in.size());
  return test::toHex(out, sizeof out);
}

std::vector<uint8_t> ascii(const std::string& s) {
  return {s.begin(), s.end()};
}

TEST(Vl2Sha384, StandardVectors) {
  crypto::initialize();
  // FIPS 180-2 appendix D examples.
  EXPECT_EQ(sha384Hex(ascii("abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baec"
            "a134c825a7");
  EXPECT_EQ(sha384Hex({}),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2"
            "f14898b95b");
  EXPECT_EQ(sha384Hex(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b"
            "1fe3c8452b");
}

TEST(Vl2Sha384, PaddingBoundaries) {
  crypto::initialize();
  // Lengths around the 112/128-byte padding edges; expected values from an independent
  // SHA-384 (OpenSSL via Python's hashlib), input byte i = 7*i mod 256.
  const std::pair<size_t, const char*> cases[] = {
      {111,
       "0e07dbe3a06921ecf592290797728554366c98285033aa79394dd6f7a39e20d5acb14eb307cb4e3dc28bb9"
       "9a122c43e7"},
      {112,
       "44716227fafa9d5b225200d1ac73a37c574dd7a890433be121e7aa2143a921a7282a49053bb5a921c2d11d"
       "89efe44e63"},
      {127,
       "101b507234e59db36edd7f903eb3adbf0b5a6abb3f305be500de8556d37d5b142a2736ac437a1eae9bc930"
       "d58ab12b21"},
      {128,
       "1f2e7f5020a66aaf910acce311ebeef5293d0b52cd6bc9ca281192c14ae35f1229cf8071ca311e282c3276"
       "b2a9a205d5"},
      {129,
       "f5f939753928417c37260b111eddf10fdd6e2891b0f97d7c15906d05e5ab82038ec4810a23ab9d0acb21cc"
       "a85eef26bc"},
      {1000,
       "81003a03bf67b8523ba96128e711facaac9f7a01ac065d3a2a83832eef6a237814d36ba50696e09a31424a"
       "2eaedd9e57"},
  };
  for (const auto& [n, want] : cases) {
    std::vector<uint8_t> in(n);
    for (size_t i = 0; i < n; ++i) in[i] = static_cast<uint8_t>(7 * i);
    EXPECT_EQ(sha384Hex(in), want) << n;
  }
}

TEST(Vl2Sha384, IdentityHashMatchesV2) {
  const auto b = test::identityB();
  std::vector<uint8_t> in = test::hex("0b9ec04f21");
  in.insert(in.end(), b.publicKey().begin(), b.publicKey().end());
  EXPECT_EQ(sha384Hex(in),
            "3cbde04d2bd9779eb0856f9732414d03c8274bb069827b78d1a35752e1c4b36640aa6496190d73149cc7a6"
            "d24a53cd16");
  const auto words = vl2::identityHashWords(b);
  EXPECT_EQ(words[0], 0x3cbde04d2bd9779eULL);
  EXPECT_EQ(words[1], 0xb0856f9732414d03ULL);
  EXPECT_EQ(words[2], 0xc8274bb069827b78ULL);
  EXPECT_EQ(words[3], 0xd1a35752e1c4b366ULL);
}

}  // namespace
}  // namespace zts
