// Hostile input through the in-memory wire (issue 11, item 5): every bad datagram is
// dropped and counted by reason, nothing reaches the node's events or taps, the tables a
// stranger can fill stay within their caps, and the legitimate peers keep talking.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "crypto/primitives.h"
#include "sim_lab.h"
#include "util/buffer.h"

namespace zts {
namespace {

using vl1::Drop;
using Ev = vl1::CoreEvent::Type;
namespace proto = vl1::proto;

uint64_t totalDrops(const vl1::Counters& c) {
  return std::accumulate(c.dropped.begin(), c.dropped.end(), uint64_t{0});
}

// An identity with real keys (so HELLOs made with it pass the MAC check) but any address:
// it fails the address proof, as a flooder's made-up identities do.
vl1::Identity madeUpIdentity(uint64_t address) {
  vl1::PublicKey pub{};
  vl1::PrivateKey priv{};
  crypto::randomBytes(priv.data(), priv.size());
  crypto::x25519Public(pub.data(), priv.data());
  crypto::ed25519PublicFromSeed(pub.data() + 32, priv.data() + 32);
  return vl1::Identity(address, pub, priv);
}

// A HELLO from `from` to `to`, armored with the key they share.
std::vector<uint8_t> helloFrom(const vl1::Identity& from, const vl1::Identity& to,
                               uint64_t packetId, int64_t now) {
  std::vector<uint8_t> packet;
  vl1::beginPacket(packet, packetId, to.address(), from.address(), proto::Verb::kHello);
  util::Writer w(packet);
  w.u8(proto::kProtocolVersion);
  w.u8(1);
  w.u8(14);
  w.u16(1);
  w.u64(static_cast<uint64_t>(now));
  uint8_t id[vl1::kIdentityBinaryPublicLen];
  from.toBinary(id, sizeof id, false);
  w.bytes(id, sizeof id);
  uint8_t key[vl1::kAgreedKeyLen];
  EXPECT_TRUE(from.agree(to, key));
  vl1::armor(packet.data(), packet.size(), key, proto::kCipherPoly1305None, false);
  return packet;
}

// A packet of `verb` from a to b as a would armor it.
std::vector<uint8_t> packetFrom(test::SimLab& lab, proto::Verb verb,
                                const std::vector<uint8_t>& payload, uint64_t packetId) {
  std::vector<uint8_t> packet;
  vl1::beginPacket(packet, packetId, lab.bId.address(), lab.aId.address(), verb);
  packet.insert(packet.end(), payload.begin(), payload.end());
  vl1::Peer* b = lab.a->core().peer(lab.bId.address());
  EXPECT_NE(b, nullptr);
  vl1::armor(packet.data(), packet.size(), b->key(), proto::kCipherPoly1305Salsa2012, false);
  return packet;
}

// A lab whose a and b know each other and have a direct path.
void bringUp(test::SimLab& lab) {
  ASSERT_TRUE(lab.bothOnline());
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  ASSERT_TRUE(
      lab.net.runUntil([&] { return lab.b->has(Ev::kDirectPath, lab.aId.address()); }, 3000));
}

void deliver(test::SimLab& lab, test::SimNode& to, const vl1::InetAddress& from,
             const std::vector<uint8_t>& d) {
  to.core().processDatagram(lab.net.now, 0, from, d.data(), d.size());
}

TEST(Hostile, RandomDatagramsOfEverySizeAreEachCountedOnce) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const auto before = core.counters();
  const size_t eventsBefore = lab.b->events.size();
  std::mt19937_64 rng(11);
  const uint8_t stranger[4] = {127, 0, 0, 9};
  const auto from = vl1::InetAddress::v4(stranger, 40000);
  size_t sent = 0;
  for (size_t len = 0; len <= proto::kMaxPacketLen + 64; ++len, ++sent) {
    std::vector<uint8_t> d(len);
    for (auto& x : d) x = static_cast<uint8_t>(rng());
    // A third each: as they come; addressed to b (from unknown sources or from a, whose
    // key they cannot match); fragments addressed to b.
    if (len >= proto::kHeaderLen && len % 3 == 1) {
      util::writeBigEndian(d.data() + proto::kIdxDest, core.address(), 5);
      if (len % 2 == 0) util::writeBigEndian(d.data() + proto::kIdxSource, lab.aId.address(), 5);
    } else if (len > proto::kFragmentHeaderLen && len % 3 == 2) {
      util::writeBigEndian(d.data() + proto::kIdxDest, core.address(), 5);
      d[proto::kIdxFragmentIndicator] = proto::kFragmentIndicator;
    }
    deliver(lab, *lab.b, from, d);
  }
  // Packets from unknown sources wait 5 s for WHOIS, incomplete ones 5 s for their pieces.
  lab.net.runFor(6000);
  EXPECT_EQ(totalDrops(core.counters()) - totalDrops(before), sent);
  for (Drop d : {Drop::kTooShort, Drop::kNotForUs, Drop::kBadMac, Drop::kBadFragment,
                 Drop::kQueueTimeout, Drop::kFragmentTimeout, Drop::kFragmentEvicted})
    EXPECT_GT(core.counters().dropsOf(d), before.dropsOf(d)) << vl1::dropName(d);
  EXPECT_TRUE(lab.b->frames.empty());
  for (size_t i = eventsBefore; i < lab.b->events.size(); ++i)
    EXPECT_NE(lab.b->events[i].type, Ev::kPeerLearned);
  const auto t = core.tableSizes();
  EXPECT_EQ(t.queuedReceives, 0u);
  EXPECT_EQ(t.fragmentsInFlight, 0u);
  EXPECT_TRUE(lab.echo(*lab.a, *lab.b));
}

TEST(Hostile, TruncatedAndReplayedPacketsAreDropped) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const std::vector<uint8_t> payload = {'h', 'e', 'l', 'l', 'o'};
  const auto echo = packetFrom(lab, proto::Verb::kEcho, payload, 0x1122334455667788ULL);
  const auto before = core.counters();
  const uint64_t sentBefore = core.counters().packetsOut;
  deliver(lab, *lab.b, lab.a->endpoint(), echo);  // the genuine one: answered
  EXPECT_EQ(core.counters().packetsOut, sentBefore + 1);
  for (int i = 0; i < 100; ++i) deliver(lab, *lab.b, lab.a->endpoint(), echo);
  EXPECT_EQ(core.counters().dropsOf(Drop::kReplayed), before.dropsOf(Drop::kReplayed) + 100);
  EXPECT_EQ(core.counters().packetsOut, sentBefore + 1);  // no answer to a replay

  // Every truncation of another genuine packet, and the packet with a flipped byte.
  const auto other = packetFrom(lab, proto::Verb::kEcho, payload, 0x0102030405060708ULL);
  const auto mid = core.counters();
  for (size_t len = 0; len < other.size(); ++len)
    deliver(lab, *lab.b, lab.a->endpoint(),
            std::vector<uint8_t>(other.begin(), other.begin() + len));
  auto flipped = other;
  flipped.back() ^= 1;
  deliver(lab, *lab.b, lab.a->endpoint(), flipped);
  EXPECT_EQ(totalDrops(core.counters()) - totalDrops(mid), other.size() + 1);
  EXPECT_EQ(core.counters().dropsOf(Drop::kBadMac) - mid.dropsOf(Drop::kBadMac),
            other.size() - proto::kHeaderLen + 1);
  EXPECT_EQ(core.counters().packetsOut, sentBefore + 1);
  EXPECT_TRUE(lab.echo(*lab.a, *lab.b));
}

TEST(Hostile, OksForPacketIdsNeverSentAreDropped) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const auto before = core.counters();
  const size_t replies = lab.b->count(Ev::kEchoReply);
  for (uint64_t i = 1; i <= 200; ++i) {
    std::vector<uint8_t> body;
    util::Writer w(body);
    w.u8(static_cast<uint8_t>(proto::Verb::kEcho));
    w.u64(0xdead000000000000ULL + i);  // never sent by b
    deliver(lab, *lab.b, lab.a->endpoint(), packetFrom(lab, proto::Verb::kOk, body, i));
  }
  EXPECT_EQ(core.counters().dropsOf(Drop::kUnexpectedReply),
            before.dropsOf(Drop::kUnexpectedReply) + 200);
  EXPECT_EQ(lab.b->count(Ev::kEchoReply), replies);
}

TEST(Hostile, APeerClaimingAnothersAddressWithAnotherKeyIsRefused) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const auto before = core.counters();
  const uint8_t elsewhere[4] = {127, 0, 0, 66};
  const auto from = vl1::InetAddress::v4(elsewhere, 41000);
  for (uint64_t i = 1; i <= 20; ++i) {
    const auto impostor = madeUpIdentity(lab.aId.address());
    deliver(lab, *lab.b, from, helloFrom(impostor, lab.bId, 0x5000 + i, lab.net.now));
  }
  EXPECT_EQ(core.counters().dropsOf(Drop::kIdentityCollision),
            before.dropsOf(Drop::kIdentityCollision) + 20);
  ASSERT_NE(core.peer(lab.aId.address()), nullptr);
  EXPECT_TRUE(core.peer(lab.aId.address())->identity().samePublic(lab.aId));
  EXPECT_EQ(core.peer(lab.aId.address())->findPath(-1, from), nullptr);
  EXPECT_TRUE(lab.echo(*lab.a, *lab.b));
}

TEST(Hostile, HelloFloodFromManyIdentitiesIsBounded) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const auto before = core.counters();
  const size_t peersBefore = core.tableSizes().peers;
  const size_t checksBefore = lab.b->identityChecksRequested;
  const uint8_t flooder[4] = {127, 0, 0, 77};
  std::mt19937_64 rng(5);
  constexpr size_t kFlood = 3000;
  // All in one millisecond, then 1,000 more spread over 2 s.
  size_t maxPending = 0;
  auto send = [&](size_t i) {
    uint64_t addr = rng() & 0xffffffffffULL;
    if (vl1::isReservedAddress(addr)) addr = 0x1000000000ULL + i;
    const auto id = madeUpIdentity(addr);
    deliver(lab, *lab.b, vl1::InetAddress::v4(flooder, static_cast<uint16_t>(1024 + i)),
            helloFrom(id, lab.bId, rng(), lab.net.now));
    maxPending = std::max(maxPending, core.tableSizes().pendingIdentities);
  };
  for (size_t i = 0; i < kFlood; ++i) send(i);
  for (size_t i = 0; i < 1000; ++i) {
    send(kFlood + i);
    lab.net.runFor(2);
  }
  lab.net.runFor(100);
  const auto& c = core.counters();
  const uint64_t refused =
      (c.dropsOf(Drop::kUnknownHelloRateLimited) - before.dropsOf(Drop::kUnknownHelloRateLimited)) +
      (c.dropsOf(Drop::kNewIdentityRateLimited) - before.dropsOf(Drop::kNewIdentityRateLimited)) +
      (c.dropsOf(Drop::kIdentityChecksBusy) - before.dropsOf(Drop::kIdentityChecksBusy)) +
      (c.dropsOf(Drop::kInvalidIdentity) - before.dropsOf(Drop::kInvalidIdentity));
  EXPECT_EQ(refused, kFlood + 1000);
  EXPECT_GT(c.dropsOf(Drop::kUnknownHelloRateLimited),
            before.dropsOf(Drop::kUnknownHelloRateLimited));
  EXPECT_GT(c.dropsOf(Drop::kNewIdentityRateLimited),
            before.dropsOf(Drop::kNewIdentityRateLimited));
  // The proof of work was asked for at most a burst plus 20 a second, over about 2 s.
  const size_t checks = lab.b->identityChecksRequested - checksBefore;
  EXPECT_GT(checks, 0u);
  EXPECT_LE(checks, 64u + 20u * 3u);
  EXPECT_LE(maxPending, 64u);
  EXPECT_EQ(core.tableSizes().peers, peersBefore);
  EXPECT_LE(core.tableSizes().rejectedIdentities, checks);
  EXPECT_TRUE(lab.echo(*lab.a, *lab.b));
}

TEST(Hostile, FragmentFloodsStayWithinTheReassemblyTable) {
  test::SimLab lab;
  bringUp(lab);
  auto& core = lab.b->core();
  const auto before = core.counters();
  const uint8_t flooder[4] = {127, 0, 0, 88};
  const auto from = vl1::InetAddress::v4(flooder, 42000);
  std::mt19937_64 rng(9);
  constexpr size_t kPackets = 5000;
  for (size_t i = 0; i < kPackets; ++i) {
    const uint64_t id = rng();
    const unsigned total = 2 + static_cast<unsigned>(rng() % 6);
    // Every piece but the head: never complete.
    for (unsigned n = 1; n < total; ++n) {
      std::vector<uint8_t> f(proto::kFragmentHeaderLen + 1400, 0x33);
      util::writeBigEndian(f.data(), id, 8);
      util::writeBigEndian(f.data() + proto::kIdxDest, core.address(), 5);
      f[proto::kIdxFragmentIndicator] = proto::kFragmentIndicator;
      f[14] = static_cast<uint8_t>((total << 4) | n);
      deliver(lab, *lab.b, from, f);
      EXPECT_LE(core.tableSizes().fragmentsInFlight, vl1::Reassembler::kSlots);
    }
  }
  lab.net.runFor(6000);
  const auto& c = core.counters();
  EXPECT_EQ((c.dropsOf(Drop::kFragmentEvicted) - before.dropsOf(Drop::kFragmentEvicted)) +
                (c.dropsOf(Drop::kFragmentTimeout) - before.dropsOf(Drop::kFragmentTimeout)),
            kPackets);
  EXPECT_EQ(core.tableSizes().fragmentsInFlight, 0u);
  EXPECT_TRUE(lab.echo(*lab.a, *lab.b));
}

}  // namespace
}  // namespace zts
