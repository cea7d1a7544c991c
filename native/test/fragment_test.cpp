#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "crypto/primitives.h"
#include "test_support.h"
#include "vl1/fragment.h"

namespace zts {
namespace {

using vl1::Reassembler;
namespace proto = vl1::proto;
using Result = Reassembler::Result;

// V11: what a 1538-byte FRAME A->B armored with cipher 1 looks like at MTU 1432.
const char* kV11Head =
    "f0f1f2f3f4f5f6f70b9ec04f218e4df28b72c89a29a0e2059c1fcc3c999d8d2973f8b45c934fb8222a2b70b6724c8a"
    "30"
    "c906e3c11f81e0c1e97e78af8fdb67dfcc27039b7e02edb0e52bad8e9edf9039834dc6be96578a61ea7071e3851217"
    "bc"
    "29acc815a18586759db873f90f5740addf068f80041e51983a8f9e349443093e6b203819003ac01b2c03e917415f4b"
    "b0"
    "cdd0d622e69b8b6f7de9af24a6acb2455c39cf554619cb910665397e741668a14318ab560a2a4c675195e74618038d"
    "15"
    "085b7d967f897e4975bf08c37a36624441513c2dce80f85c09ef2095a74e3f2c7d03ffc422b126e7da3a60f7858aec"
    "bd"
    "3a4edf6b52f7fd0b70990b628bae1e93d17c270a3134512e7d6969370c91cb6dafd7cb8d76e94f3efb215188a6cd29"
    "cd"
    "cd006db724371121f017858ca5d30d993c178235d9d966c423ee0bf3fa98194ab901d9e8162eaa31020ab0a00a05dd"
    "f8"
    "cf8aa713aea015fd1c639b84e66735c8cc467c151ee78599308a6dc87afc35065b0f2d854c1e6fb8ceea998dde2b98"
    "66"
    "449c7f44a3e1695368d608eef6e5dd9778c440855dff90e3d1a5fab7c1754b74b28951470e375ce2792915b9c145d2"
    "82"
    "f309de80cac27672806a78a7fa9b780af80db220f61d91da17ad6ad775b351f81549e1f71051842d5ab5fedc645b21"
    "8a"
    "1fa876a8f2defd3bc36abae55db38656d8718783aedabea8f7a44f910db27a6bb787f61c0a72c6444d3c27ed31d1db"
    "ca"
    "c5f4927d7e927c855d309222b5de79b2d9b22f6555fe86a6eb332b998b876fcc833e132f4bb99c4d5d7e3570e95263"
    "c2"
    "cac76ddb1e13314e005ddf7b8608f3ccf399d6bbf5295cac1548f82544b562297abf69e04ac85325b0284563aa988f"
    "7b"
    "a4f85c6ec46199d79af28a300f24c442f80e3e9ca3f0dd60fd1ae374e489d73e47aa15e8072c2851cb1a052590cdba"
    "12"
    "608758347daaffa04d5460e9b97a7c3dfee7c5bb56e7a426db8f667d402d9457608b692f5a8295e2476890b1ea2ad0"
    "5e"
    "2008b04d255e57323aa099d038585e6d46292fef4a2bb589cf762536f8cab969c92cbc526779cfe8d0cbc5905f9109"
    "4a"
    "b447914c067aabb983103cabaee26caba6497ddfc84e084454089b51d7b5f0b8547dac383703cd42fc2b6f895361f9"
    "7e"
    "bc93faf4d8c48ead7eb4c62716048f259446a355d36e3bf26f04ca06e04cf588711d58e4c68efa352dcdcd5272da6f"
    "6b"
    "eb3f012cf3d2b5524594b5380372e4282cb587823f3c4dcd1fe9903d720ea1af86c99a4cc6d713b394acea2afec856"
    "66"
    "36d3ba688057a5122203337333f9dc268fa490b86e65cec417fc387ed4f7a9d21c1fe005def61b456875f83a8676c3"
    "b5"
    "bde49f933fe2baf2f233404424cfc87f2d16a663e1774e769ffd51e3e6dff381e4ea10c56335515566159d99907f05"
    "b0"
    "75697a1d20e770b47b4b6613f43d595523b68853a611ce7a4dca79c1b2e14a15b66e585fb2b93b1a2dbf4640d4dc01"
    "60"
    "71622aa9ad6106f3eb9b1ac01e76131290cc19dc531c96b9d2853aa18266c11241a782fbdcf39855412ae722eb80c3"
    "9d"
    "77c3bb7455482c18abbd300ee5c973d6b5f2ab00a22f1c96b94e4bc516b859f809133115040886821c427eb775250e"
    "72"
    "e2a1084e09fda4b58e5be3c12eba96468674da6d7e4d13993fb4876f39489118feb06a3a2a73bb896881699f8c10a2"
    "93"
    "c0381f51ba5baabef95d0830bdbd5b97c643737bf0e6b5cac9651d075acc03f3487a282bccc6b86b9b6d22d5b21654"
    "b4"
    "ed71baeabfc89fab894050e652c2df0e03b5376fb060f7ffc19b16fd26149553e16ff908d91dfcbbdc81641be1c1f4"
    "3b"
    "aada6c062b8bbc353f4d39a25e14c4a1444ce196c4413ab95427307b978581ef7cc1bd2f7d3f1e4651a47f318ba58c"
    "6e"
    "9b4db78a338d11ab47fc9aaf52655a768474dfd5095985bc56361cf616bb8e0efd3300fe52633bd108267f48c6be9e"
    "c4"
    "cb653d0cd77f4017821d216f3d0d479ec323aeb3eea0d56a6160d252cc1fb5d8e49dee29dc4bbd3b";

const char* kV11Fragment =
    "f0f1f2f3f4f5f6f70b9ec04f21ff21003361d8795cc6b192b1722ce0f9ec3f647ce53cfc7c9cdc32eb5e9b050a6ca8"
    "ff"
    "3338563d0ffc7f96206e97b71b70aa7e3c93ff1cd4cd6ef70a487b4bcabe259e2d91f8efa312350e83cf591b5961d1"
    "60"
    "420e3ca1ea80bd3d00e1c0d0015bacef47acac6abd42117129ee";

std::vector<uint8_t> peerKey() {
  return test::hex(
      "30fd9cb12354f8ae3f45cf4b3e558740f0e5d80a48860fcd94ab43c75dee443e38e4556a4e36542606d6b8efd9df"
      "83f1");
}

// The V11 plaintext: FRAME on nwid 8056c2e21c000001, ethertype 0x0800, byte i = 7i mod 256.
std::vector<uint8_t> v11Plain() {
  auto p =
      test::hex("f0f1f2f3f4f5f6f70b9ec04f218e4df28b72000000000000000000068056c2e21c0000010800");
  for (unsigned i = 0; i < 1500; ++i) p.push_back(static_cast<uint8_t>(7 * i));
  return p;
}

std::vector<std::vector<uint8_t>> datagrams(const std::vector<uint8_t>& packet, size_t mtu) {
  std::vector<std::vector<uint8_t>> out;
  vl1::forEachDatagram(packet.data(), packet.size(), mtu,
                       [&](const uint8_t* d, size_t n) { out.emplace_back(d, d + n); });
  return out;
}

// A fake packet of `len` bytes with the fragmented flag, cut into datagrams at `mtu`.
std::vector<std::vector<uint8_t>> fakeDatagrams(uint64_t id, size_t len, size_t mtu,
                                                std::vector<uint8_t>* whole = nullptr) {
  std::vector<uint8_t> p(len);
  for (size_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>(i * 13 + id);
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(id >> (56 - 8 * i));
  p[8] = 0x0b;  // a destination not starting with 0xff
  p[proto::kIdxFlags] = proto::kFlagFragmented;
  if (whole != nullptr) *whole = p;
  return datagrams(p, mtu);
}

Result feed(Reassembler& r, const std::vector<uint8_t>& d, int64_t now, std::vector<uint8_t>& out) {
  return vl1::isFragment(d.data(), d.size()) ? r.addFragment(d.data(), d.size(), now, out)
                                             : r.addHead(d.data(), d.size(), now, out);
}

TEST(Fragment, DatagramCount) {
  EXPECT_EQ(vl1::datagramCount(28, 1432), 1u);
  EXPECT_EQ(vl1::datagramCount(1432, 1432), 1u);
  EXPECT_EQ(vl1::datagramCount(1433, 1432), 2u);
  EXPECT_EQ(vl1::datagramCount(1538, 1432), 2u);
  EXPECT_EQ(vl1::datagramCount(1432 + 1416, 1432), 2u);
  EXPECT_EQ(vl1::datagramCount(1432 + 1417, 1432), 3u);
  EXPECT_EQ(vl1::datagramCount(1432 + 6 * 1416, 1432), 7u);
  EXPECT_EQ(vl1::datagramCount(proto::kMaxPacketLen, 1432), 8u);
  EXPECT_EQ(vl1::datagramCount(100, 16), 0u);
}

TEST(Fragment, SplitMatchesV11) {
  ASSERT_TRUE(crypto::initialize());
  const auto key = peerKey();
  auto p = v11Plain();
  ASSERT_EQ(p.size(), 1538u);
  vl1::armor(p.data(), p.size(), key.data(), proto::kCipherPoly1305Salsa2012,
             p.size() > proto::kDefaultPhysicalMtu);
  EXPECT_EQ(p[proto::kIdxFlags], 0xc8);
  const auto d = datagrams(p, proto::kDefaultPhysicalMtu);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(test::toHex(d[0]), test::toHex(test::hex(kV11Head)));
  EXPECT_EQ(test::toHex(d[1]), test::toHex(test::hex(kV11Fragment)));
  EXPECT_FALSE(vl1::isFragment(d[0].data(), d[0].size()));
  EXPECT_TRUE(vl1::isFragment(d[1].data(), d[1].size()));
}

TEST(Fragment, ReassembleV11InBothOrders) {
  const auto key = peerKey();
  const auto head = test::hex(kV11Head);
  const auto frag = test::hex(kV11Fragment);
  const auto plain = v11Plain();
  for (bool headFirst : {true, false}) {
    Reassembler r;
    std::vector<uint8_t> out;
    const auto& first = headFirst ? head : frag;
    const auto& second = headFirst ? frag : head;
    EXPECT_EQ(feed(r, first, 1000, out), Result::kIncomplete);
    EXPECT_EQ(r.inFlight(), 1u);
    ASSERT_EQ(feed(r, second, 1001, out), Result::kComplete);
    EXPECT_EQ(r.inFlight(), 0u);
    ASSERT_EQ(out.size(), 1538u);
    ASSERT_EQ(vl1::dearmor(out.data(), out.size(), key.data()), vl1::DearmorResult::kOk);
    EXPECT_TRUE(
        std::equal(out.begin() + proto::kIdxVerb, out.end(), plain.begin() + proto::kIdxVerb));
  }
}

TEST(Fragment, AnyOrderOfSevenPieces) {
  std::vector<uint8_t> whole;
  const size_t len = 1432 + 6 * 1416;
  auto d = fakeDatagrams(0x1122334455667788ULL, len, 1432, &whole);
  ASSERT_EQ(d.size(), proto::kMaxFragments);
  EXPECT_EQ(d.back()[14], 0x76);
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::shuffle(d.begin(), d.end(), rng);
    Reassembler r;
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < d.size(); ++i) {
      ASSERT_EQ(feed(r, d[i], 0, out), Result::kIncomplete);
    }
    ASSERT_EQ(feed(r, d.back(), 0, out), Result::kComplete);
    EXPECT_EQ(out, whole);
  }
}

TEST(Fragment, TooLongForSevenPiecesIsNotSent) {
  std::vector<uint8_t> p(1432 + 6 * 1416 + 1, 0);
  EXPECT_TRUE(datagrams(p, 1432).empty());
  EXPECT_FALSE(vl1::forEachDatagram(p.data(), p.size(), 1432, [](const uint8_t*, size_t) {}));
  // A larger MTU sends it.
  EXPECT_EQ(datagrams(p, 2800).size(), 4u);
}

TEST(Fragment, RejectsBadNumbersAndTotals) {
  const auto frag = test::hex(kV11Fragment);
  struct Case {
    uint8_t counts;
    const char* why;
  } cases[] = {{0x20, "number 0"}, {0x87, "number 7"},       {0x8f, "number 15"},
               {0x11, "total 1"},  {0x81, "total 8"},        {0x01, "total 0"},
               {0xf1, "total 15"}, {0x23, "number > total"}, {0x22, "number == total"}};
  for (const auto& c : cases) {
    Reassembler r;
    std::vector<uint8_t> out;
    auto f = frag;
    f[14] = c.counts;
    EXPECT_EQ(r.addFragment(f.data(), f.size(), 0, out), Result::kDropped) << c.why;
    EXPECT_EQ(r.inFlight(), 0u) << c.why;
  }
  // The boundaries that are allowed: number 6 of 7.
  Reassembler r;
  std::vector<uint8_t> out;
  auto f = frag;
  f[14] = 0x76;
  EXPECT_EQ(r.addFragment(f.data(), f.size(), 0, out), Result::kIncomplete);
}

TEST(Fragment, RejectsMalformedDatagrams) {
  Reassembler r;
  std::vector<uint8_t> out;
  const auto head = test::hex(kV11Head);
  const auto frag = test::hex(kV11Fragment);
  // A fragment needs at least one data byte; a head needs a full header and the flag.
  for (size_t n = 0; n <= proto::kFragmentHeaderLen; ++n) {
    std::vector<uint8_t> t(frag.begin(), frag.begin() + static_cast<long>(n));
    EXPECT_FALSE(vl1::isFragment(t.data(), t.size()));
    EXPECT_EQ(r.addFragment(t.data(), t.size(), 0, out), Result::kDropped) << n;
  }
  for (size_t n = 0; n < proto::kHeaderLen; ++n) {
    std::vector<uint8_t> t(head.begin(), head.begin() + static_cast<long>(n));
    EXPECT_EQ(r.addHead(t.data(), t.size(), 0, out), Result::kDropped) << n;
  }
  auto unflagged = head;
  unflagged[proto::kIdxFlags] &= static_cast<uint8_t>(~proto::kFlagFragmented);
  EXPECT_EQ(r.addHead(unflagged.data(), unflagged.size(), 0, out), Result::kDropped);
  auto notFragment = frag;
  notFragment[proto::kIdxFragmentIndicator] = 0x8e;
  EXPECT_EQ(r.addFragment(notFragment.data(), notFragment.size(), 0, out), Result::kDropped);
  std::vector<uint8_t> hugeHead(proto::kMaxPacketLen + 1, 0);
  hugeHead[proto::kIdxFlags] = proto::kFlagFragmented;
  EXPECT_EQ(r.addHead(hugeHead.data(), hugeHead.size(), 0, out), Result::kDropped);
  EXPECT_EQ(r.inFlight(), 0u);
}

TEST(Fragment, InconsistentTotalsAndOversizedResults) {
  Reassembler r;
  std::vector<uint8_t> out;
  auto f = test::hex(kV11Fragment);
  f[14] = 0x31;
  EXPECT_EQ(r.addFragment(f.data(), f.size(), 0, out), Result::kIncomplete);
  f[14] = 0x21;  // total 2 disagrees with the total 3 seen first
  EXPECT_EQ(r.addFragment(f.data(), f.size(), 0, out), Result::kDropped);

  // Pieces that add up to more than a packet are dropped at completion.
  Reassembler big;
  std::vector<uint8_t> head(proto::kMaxPacketLen, 0);
  head[proto::kIdxFlags] = proto::kFlagFragmented;
  std::vector<uint8_t> frag(proto::kFragmentHeaderLen + 10, 0);
  frag[proto::kIdxFragmentIndicator] = proto::kFragmentIndicator;
  frag[14] = 0x21;
  EXPECT_EQ(big.addHead(head.data(), head.size(), 0, out), Result::kIncomplete);
  EXPECT_EQ(big.addFragment(frag.data(), frag.size(), 0, out), Result::kDropped);
  EXPECT_EQ(big.inFlight(), 0u);
}

TEST(Fragment, DuplicatesAreIgnored) {
  std::vector<uint8_t> whole;
  const auto d = fakeDatagrams(77, 1432 + 2000, 1432, &whole);
  ASSERT_EQ(d.size(), 3u);
  Reassembler r;
  std::vector<uint8_t> out;
  EXPECT_EQ(feed(r, d[1], 0, out), Result::kIncomplete);
  EXPECT_EQ(feed(r, d[1], 0, out), Result::kIncomplete);
  EXPECT_EQ(feed(r, d[0], 0, out), Result::kIncomplete);
  // A duplicate head with other contents must not replace the first one.
  auto forged = d[0];
  forged[40] ^= 0xff;
  EXPECT_EQ(feed(r, forged, 0, out), Result::kIncomplete);
  EXPECT_EQ(r.inFlight(), 1u);
  ASSERT_EQ(feed(r, d[2], 0, out), Result::kComplete);
  EXPECT_EQ(out, whole);
  // Once complete the slot is gone: a late duplicate starts a new, incomplete entry.
  EXPECT_EQ(feed(r, d[2], 0, out), Result::kIncomplete);
  EXPECT_EQ(r.inFlight(), 1u);
}

TEST(Fragment, ThirtyThirdPacketEvictsTheOldest) {
  Reassembler r;
  std::vector<uint8_t> out;
  std::vector<std::vector<std::vector<uint8_t>>> packets;
  for (uint64_t id = 1; id <= Reassembler::kSlots + 1; ++id) {
    packets.push_back(fakeDatagrams(id, 1500, 1432));
    ASSERT_EQ(packets.back().size(), 2u);
  }
  for (size_t i = 0; i < Reassembler::kSlots; ++i) {
    ASSERT_EQ(feed(r, packets[i][0], static_cast<int64_t>(i), out), Result::kIncomplete);
  }
  EXPECT_EQ(r.inFlight(), Reassembler::kSlots);
  ASSERT_EQ(feed(r, packets[32][0], 40, out), Result::kIncomplete);
  EXPECT_EQ(r.inFlight(), Reassembler::kSlots);
  // Packet 2 (second oldest) is still there and completes, freeing its slot ...
  ASSERT_EQ(feed(r, packets[1][1], 41, out), Result::kComplete);
  ASSERT_EQ(feed(r, packets[32][1], 41, out), Result::kComplete);
  // ... while packet 1's head was evicted, so its fragment alone cannot complete it.
  EXPECT_EQ(feed(r, packets[0][1], 42, out), Result::kIncomplete);
  for (size_t i = 2; i < Reassembler::kSlots; ++i) {
    EXPECT_EQ(feed(r, packets[i][1], 43, out), Result::kComplete) << i;
  }
  EXPECT_EQ(r.inFlight(), 1u);
}

TEST(Fragment, ExpiresAfterFiveSeconds) {
  const auto head = test::hex(kV11Head);
  const auto frag = test::hex(kV11Fragment);
  Reassembler r;
  std::vector<uint8_t> out;
  ASSERT_EQ(r.addHead(head.data(), head.size(), 10000, out), Result::kIncomplete);
  r.expire(10000 + Reassembler::kTimeoutMs - 1);
  EXPECT_EQ(r.inFlight(), 1u);
  r.expire(10000 + Reassembler::kTimeoutMs);
  EXPECT_EQ(r.inFlight(), 0u);
  EXPECT_EQ(r.addFragment(frag.data(), frag.size(), 15001, out), Result::kIncomplete);

  // A stale entry never combines with a late piece, even before expire() runs.
  Reassembler lazy;
  ASSERT_EQ(lazy.addHead(head.data(), head.size(), 0, out), Result::kIncomplete);
  EXPECT_EQ(lazy.addFragment(frag.data(), frag.size(), Reassembler::kTimeoutMs, out),
            Result::kIncomplete);
  ASSERT_EQ(lazy.addHead(head.data(), head.size(), Reassembler::kTimeoutMs + 1, out),
            Result::kComplete);
  EXPECT_EQ(test::toHex(out.data(), 1432), test::toHex(head));
}

TEST(Fragment, RandomDatagramsNeverCrash) {
  std::mt19937 rng(9);
  Reassembler r;
  std::vector<uint8_t> out;
  int completed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> d(rng() % 200);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    // Keep ids few so pieces collide, and make fragments likely.
    if (d.size() > 8) std::memset(d.data(), static_cast<int>(rng() % 4), 8);
    if (d.size() > proto::kFragmentHeaderLen && rng() % 2 == 0) {
      d[proto::kIdxFragmentIndicator] = proto::kFragmentIndicator;
      d[14] = static_cast<uint8_t>(((2 + rng() % 2) << 4) | (rng() % 4));
    }
    if (d.size() > proto::kIdxFlags && rng() % 2 == 0)
      d[proto::kIdxFlags] |= proto::kFlagFragmented;
    const auto res = feed(r, d, i, out);
    if (res == Result::kComplete) {
      ++completed;
      EXPECT_LE(out.size(), proto::kMaxPacketLen);
    }
    EXPECT_LE(r.inFlight(), Reassembler::kSlots);
  }
  EXPECT_GT(completed, 0);  // the mix above does reach completion sometimes
}

}  // namespace
}  // namespace zts
