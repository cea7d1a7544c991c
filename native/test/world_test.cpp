#include <gtest/gtest.h>

#include "crypto/primitives.h"
#include "test_support.h"
#include "vl1/world.h"

namespace zts {
namespace {

using vl1::InetAddress;
using vl1::World;
using vl1::WorldRoot;

const char* kEarthHex =
    "010000000008eac90a0000017ee95760cdb8b388a469221491aa9acd66cc764cdefd56039f1067ae15e69c6fb42d7b"
    "55"
    "330e3fdaac529c0792fd7340a6aa21aba8a489fdaea44a39bf2d00659ac9c818eb3600927637ef4d1404a44d544684"
    "85"
    "1379751faa79b4c4ea85040175ea065860482402e1eb342052000e6290061a9be0cd293c8b55f1c3d2524808afc549"
    "22"
    "080e3539a75addc3cef0f6ad260d588293bb7786e71efa4b9057dad9867afe12dd04cafe9efeb900ccdef76bc7b97d"
    "ed"
    "904eabc5df09886d9c1514a610036cb9139cc214001a2958978efcec15712dd3948c6e6b3a8e893df01ff493d1f8d9"
    "80"
    "6a860c5420571bf000020468c208862709062605988002001200003005710e3400512709778cde7190003f6681a99e"
    "5a"
    "d1895e9fba33e6212d4454e168bcec7112101bf000956ed8e92e42892cb6f2ec410881a84ab19da50e1287ba3d926c"
    "3a"
    "1f755cccf299a120705500020467c3674227090626059880040000c30254f2bca1f70019270962f865ae7100e2076c"
    "57"
    "de870e6288d7d5e7404408b1545efca37d67f77b87e9e54168c25d3ef1a9abf2905ea5e785c01dff23887ad4232d95"
    "c7"
    "a8fd2c27111a72bd159322dc0002043207fc8a270906200149f0d0db000200000000000000022709cafe04eba9006c"
    "6a"
    "9d1dea55c1616bfe2a2b8f0ff9a8cacaf70374fb1f39e3bef81cbfebef17b7228268a0a2a29d3488c752565c6c965c"
    "bd"
    "6506ec24397cc8a5d9d15285a87f0002045411359b2709062a026ea0d405000000000000000099932709";

constexpr uint64_t kLabWorldId = 525939269986;
constexpr uint64_t kLabTimestamp = 1700000000000;

std::vector<uint8_t> labPlanet() {
  return test::readSharedFile("vectors/stock/planet/planet.bin");
}
std::vector<uint8_t> labKey() {
  return test::readSharedFile("vectors/stock/planet/current.c25519");
}

World mustParse(const std::vector<uint8_t>& bytes) {
  size_t consumed = 0;
  auto w = World::parse(bytes.data(), bytes.size(), &consumed);
  EXPECT_TRUE(w);
  EXPECT_EQ(consumed, bytes.size());
  return w.value_or(World());
}

std::vector<std::string> endpointStrings(const WorldRoot& root) {
  std::vector<std::string> out;
  for (const auto& ep : root.stableEndpoints) out.push_back(ep.toString());
  return out;
}

// A key pair in the current.c25519 layout, derived from a fixed seed so the test is
// deterministic.
std::vector<uint8_t> otherKey() {
  std::vector<uint8_t> key(128);
  for (size_t i = 0; i < 32; ++i) key[64 + i] = static_cast<uint8_t>(i + 1);
  for (size_t i = 0; i < 32; ++i) key[96 + i] = static_cast<uint8_t>(0xa0 + i);
  crypto::x25519Public(key.data(), key.data() + 64);
  crypto::ed25519PublicFromSeed(key.data() + 32, key.data() + 96);
  return key;
}

std::optional<World> labUpdate(uint64_t id, uint64_t timestamp, const std::vector<uint8_t>& key,
                               World::Type type = World::Type::kPlanet) {
  const World base = mustParse(labPlanet());
  return World::make(type, id, timestamp, base.roots(), key.data());
}

TEST(World, EarthMatchesV18) {
  crypto::initialize();
  const auto bytes = test::hex(kEarthHex);
  ASSERT_EQ(bytes.size(), 570u);
  const World w = mustParse(bytes);
  EXPECT_EQ(w.type(), World::Type::kPlanet);
  EXPECT_EQ(w.id(), 149604618u);
  EXPECT_EQ(w.timestamp(), 1644592324813u);
  EXPECT_TRUE(w.verifySignature(w.updatesMustBeSignedBy().data()));
  EXPECT_EQ(test::toHex(w.serialize()), kEarthHex);

  ASSERT_EQ(w.roots().size(), 4u);
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"cafe9efeb9", {"104.194.8.134/9993", "2605:9880:200:1200:30:571:e34:51/9993"}},
      {"778cde7190", {"103.195.103.66/9993", "2605:9880:400:c3:254:f2bc:a1f7:19/9993"}},
      {"62f865ae71", {"50.7.252.138/9993", "2001:49f0:d0db:2::2/9993"}},
      {"cafe04eba9", {"84.17.53.155/9993", "2a02:6ea0:d405::9993/9993"}},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(vl1::addressToString(w.roots()[i].identity.address()), expected[i].first);
    EXPECT_EQ(endpointStrings(w.roots()[i]), expected[i].second);
    EXPECT_FALSE(w.roots()[i].identity.hasPrivate());
  }

  const World& earth = World::earth();
  EXPECT_EQ(earth.serialize(), bytes);
  EXPECT_EQ(&earth, &World::earth());
}

TEST(World, EarthRootsAreValidIdentities) {
  for (const auto& root : World::earth().roots()) {
    EXPECT_TRUE(root.identity.locallyValidate()) << root.identity.toString(false);
  }
}

TEST(World, StockLabPlanet) {
  crypto::initialize();
  const auto bytes = labPlanet();
  ASSERT_EQ(bytes.size(), 257u);
  const World w = mustParse(bytes);
  EXPECT_EQ(w.type(), World::Type::kPlanet);
  EXPECT_EQ(w.id(), kLabWorldId);
  EXPECT_EQ(w.timestamp(), kLabTimestamp);
  EXPECT_EQ(test::toHex(w.updatesMustBeSignedBy().data(), 64),
            "c90786c4c47594e6fa56a4ff50bee4fcebc3625490e7d944c5ba00fdd3b668162a2085df76fc00e6fa7075"
            "f4554289b1124b45fc65933e68fbb38cf42dd283d4");
  EXPECT_EQ(test::toHex(w.signature().data(), 96),
            "c969f8ce9d3e3640b66a359dcd3db841512904a54c13ef418a7720c296f75eed145aeb89b9d7e086401b1c"
            "7ace722eab65b932a729bd471f7d88ed14d5a5ab045259ec569606e298847ae8787af5f4aa816f956d0cf9"
            "79f3c125271c260aaf10");
  ASSERT_EQ(w.roots().size(), 1u);
  EXPECT_EQ(w.roots()[0].identity.toString(false),
            "ed0bbf42fd:0:dc15b456ee238850238fc72c2d4dc31ef788a0c1fe96d278b18b473c93ea62005b4cf975"
            "07465678047f0645c4ab208c62996255ca05e773f30b92ef7e61f560");
  EXPECT_EQ(endpointStrings(w.roots()[0]), std::vector<std::string>{"127.0.0.1/9993"});
  EXPECT_TRUE(w.verifySignature(w.updatesMustBeSignedBy().data()));
  EXPECT_EQ(w.serialize(), bytes);
  EXPECT_TRUE(w.roots()[0].identity.locallyValidate());
}

TEST(World, MakeReproducesStockPlanet) {
  crypto::initialize();
  const auto key = labKey();
  ASSERT_EQ(key.size(), 128u);
  const World stock = mustParse(labPlanet());
  EXPECT_EQ(test::toHex(key.data(), 64), test::toHex(stock.updatesMustBeSignedBy().data(), 64));

  auto root = vl1::Identity::fromString(stock.roots()[0].identity.toString(false));
  ASSERT_TRUE(root);
  WorldRoot wr{*root, {*InetAddress::parse("127.0.0.1/9993")}};
  auto made = World::make(World::Type::kPlanet, kLabWorldId, kLabTimestamp, {wr}, key.data());
  ASSERT_TRUE(made);
  EXPECT_EQ(test::toHex(made->serialize()), test::toHex(labPlanet()));

  // A root given with its secret half is published, and kept, as public only.
  auto secret = vl1::Identity::fromString(
      "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bb"
      "d9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4e"
      "bf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e");
  ASSERT_TRUE(secret && secret->hasPrivate());
  auto withSecret = World::make(World::Type::kPlanet, kLabWorldId, kLabTimestamp,
                                {WorldRoot{*secret, {}}}, key.data());
  ASSERT_TRUE(withSecret);
  EXPECT_FALSE(withSecret->roots()[0].identity.hasPrivate());
  const auto wire = withSecret->serialize();
  EXPECT_EQ(wire.size(), 177u + 1 + 71 + 1);
  ASSERT_TRUE(World::parse(wire.data(), wire.size()));
  EXPECT_TRUE(withSecret->verifySignature(key.data()));
}

TEST(World, SignatureCoversEveryField) {
  crypto::initialize();
  const auto bytes = labPlanet();
  const World w = mustParse(bytes);
  // Flip one bit per byte outside the signature itself; either parsing fails or the
  // signature no longer verifies.
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i >= 81 && i < 81 + 96) continue;
    auto bad = bytes;
    bad[i] ^= 0x01;
    auto p = World::parse(bad.data(), bad.size());
    if (!p) continue;
    EXPECT_FALSE(p->verifySignature(w.updatesMustBeSignedBy().data())) << i;
  }
  auto bad = bytes;
  bad[81] ^= 0x01;  // R
  EXPECT_FALSE(mustParse(bad).verifySignature(w.updatesMustBeSignedBy().data()));
  bad = bytes;
  bad[81 + 95] ^= 0x01;  // embedded digest
  EXPECT_FALSE(mustParse(bad).verifySignature(w.updatesMustBeSignedBy().data()));
}

TEST(World, AcceptsUpdate) {
  crypto::initialize();
  const World current = mustParse(labPlanet());
  const auto key = labKey();

  auto newer = labUpdate(kLabWorldId, kLabTimestamp + 1, key);
  ASSERT_TRUE(newer);
  EXPECT_TRUE(current.acceptsUpdate(*newer));
  EXPECT_FALSE(newer->acceptsUpdate(current));  // older

  auto same = labUpdate(kLabWorldId, kLabTimestamp, key);
  ASSERT_TRUE(same);
  EXPECT_FALSE(current.acceptsUpdate(*same));

  auto otherId = labUpdate(kLabWorldId + 1, kLabTimestamp + 1, key);
  ASSERT_TRUE(otherId);
  EXPECT_FALSE(current.acceptsUpdate(*otherId));

  auto moon = labUpdate(kLabWorldId, kLabTimestamp + 1, key, World::Type::kMoon);
  ASSERT_TRUE(moon);
  EXPECT_FALSE(current.acceptsUpdate(*moon));

  const auto other = otherKey();
  auto forged = labUpdate(kLabWorldId, kLabTimestamp + 1, other);
  ASSERT_TRUE(forged);
  EXPECT_TRUE(forged->verifySignature(other.data()));
  EXPECT_FALSE(current.acceptsUpdate(*forged));

  // Key rotation: the update names a new key, which then governs the next update.
  const World base = mustParse(labPlanet());
  auto rotated = World::make(World::Type::kPlanet, kLabWorldId, kLabTimestamp + 1, base.roots(),
                             key.data(), other.data());
  ASSERT_TRUE(rotated);
  EXPECT_TRUE(current.acceptsUpdate(*rotated));
  auto next = labUpdate(kLabWorldId, kLabTimestamp + 2, other);
  auto stale = labUpdate(kLabWorldId, kLabTimestamp + 2, key);
  ASSERT_TRUE(next && stale);
  EXPECT_TRUE(rotated->acceptsUpdate(*next));
  EXPECT_FALSE(rotated->acceptsUpdate(*stale));

  // An update that travelled as bytes is judged the same way.
  const auto wire = newer->serialize();
  auto reparsed = World::parse(wire.data(), wire.size());
  ASSERT_TRUE(reparsed);
  EXPECT_TRUE(current.acceptsUpdate(*reparsed));
}

TEST(World, MoonRoundTrip) {
  crypto::initialize();
  const auto key = labKey();
  auto moon = labUpdate(0x1234, 42, key, World::Type::kMoon);
  ASSERT_TRUE(moon);
  auto bytes = moon->serialize();
  EXPECT_EQ(bytes.size(), labPlanet().size() + 2);
  EXPECT_EQ(bytes.back(), 0);
  const World back = mustParse(bytes);
  EXPECT_EQ(back.type(), World::Type::kMoon);
  EXPECT_EQ(back.serialize(), bytes);
  EXPECT_TRUE(back.verifySignature(key.data()));

  // The trailing dictionary of a moon is read and skipped.
  bytes[bytes.size() - 1] = 3;
  bytes.insert(bytes.end(), {'a', 'b', 'c'});
  size_t consumed = 0;
  ASSERT_TRUE(World::parse(bytes.data(), bytes.size(), &consumed));
  EXPECT_EQ(consumed, bytes.size());
  ASSERT_FALSE(World::parse(bytes.data(), bytes.size() - 1));
}

TEST(World, EveryTruncationFails) {
  for (const auto& bytes : {labPlanet(), test::hex(kEarthHex)}) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      // Copy to an exact-size heap buffer so ASan catches any read past `n`.
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
      EXPECT_FALSE(World::parse(cut.data(), cut.size())) << n;
    }
  }
}

TEST(World, RandomMutationsNeverCrash) {
  const auto good = test::hex(kEarthHex);
  uint32_t state = 12345;  // fixed LCG so a failure reproduces
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  for (int i = 0; i < 3000; ++i) {
    auto bytes = good;
    for (uint32_t k = next() % 8 + 1; k > 0; --k) bytes[next() % bytes.size()] = next() >> 24;
    bytes.resize(next() % (bytes.size() + 1));
    size_t consumed = 0;
    if (auto w = World::parse(bytes.data(), bytes.size(), &consumed)) {
      EXPECT_LE(consumed, bytes.size());
      EXPECT_LE(w->serialize().size(), consumed);
    }
  }
}

TEST(World, TrailingBytesAreReportedNotConsumed) {
  auto bytes = labPlanet();
  bytes.push_back(0xee);
  size_t consumed = 0;
  ASSERT_TRUE(World::parse(bytes.data(), bytes.size(), &consumed));
  EXPECT_EQ(consumed, bytes.size() - 1);
}

TEST(World, RejectsMalformed) {
  const auto good = labPlanet();
  auto bad = good;
  bad[0] = 2;  // unknown type
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));
  bad = good;
  bad[0] = 0;
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  bad = good;
  bad[177] = 5;  // root count over the limit
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  // Nil endpoints at and over the per-root limit.
  bad = std::vector<uint8_t>(good.begin(), good.begin() + 249);
  bad.push_back(32);
  bad.insert(bad.end(), 32, 0x00);
  EXPECT_TRUE(World::parse(bad.data(), bad.size()));
  bad[249] = 33;
  bad.push_back(0x00);
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  bad = good;
  bad[183] = 1;  // identity type other than 0
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  bad = good;
  bad[250] = 0x09;  // unknown InetAddress type
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  // A root serialized with its private key.
  bad = std::vector<uint8_t>(good.begin(), good.begin() + 248);
  bad.push_back(64);
  bad.insert(bad.end(), 64, 0x11);
  bad.insert(bad.end(), good.begin() + 249, good.end());
  EXPECT_FALSE(World::parse(bad.data(), bad.size()));

  EXPECT_FALSE(World::parse(nullptr, 0));
}

TEST(World, MakeRefusesOversizedWorlds) {
  crypto::initialize();
  const auto key = labKey();
  const World base = mustParse(labPlanet());
  std::vector<WorldRoot> roots(5, base.roots()[0]);
  EXPECT_FALSE(World::make(World::Type::kPlanet, 1, 1, roots, key.data()));
  roots.resize(4);
  EXPECT_TRUE(World::make(World::Type::kPlanet, 1, 1, roots, key.data()));
  roots[3].stableEndpoints.assign(33, *InetAddress::parse("10.0.0.1/9993"));
  EXPECT_FALSE(World::make(World::Type::kPlanet, 1, 1, roots, key.data()));
  roots[3].stableEndpoints.resize(32);
  auto ok = World::make(World::Type::kPlanet, 1, 1, roots, key.data());
  ASSERT_TRUE(ok);
  const auto wire = ok->serialize();
  EXPECT_TRUE(World::parse(wire.data(), wire.size()));
}

}  // namespace
}  // namespace zts
