// Two nodes and a root on the in-memory wire: coming online, learning each other through
// the root, relayed then direct ECHO, loss, and hostile input.
#include <gtest/gtest.h>

#include "crypto/primitives.h"
#include "sim_lab.h"
#include "test_support.h"
#include "util/hex.h"

namespace zts {
namespace {

using vl1::CoreEvent;
using Ev = CoreEvent::Type;

using Lab = test::SimLab;

TEST(NodeCore, NodesComeOnlineThroughTheRoot) {
  Lab lab;
  ASSERT_TRUE(lab.bothOnline());
  EXPECT_TRUE(lab.a->has(Ev::kOnline));
  EXPECT_TRUE(lab.a->has(Ev::kDirectPath, lab.rootId.address()));
  // The root reports where it sees us.
  ASSERT_EQ(lab.a->core().externalAddresses().count(lab.rootId.address()), 1u);
  EXPECT_EQ(lab.a->core().externalAddresses().at(lab.rootId.address()), lab.a->endpoint());
}

TEST(NodeCore, EchoIsRelayedFirstThenDirect) {
  Lab lab;
  ASSERT_TRUE(lab.bothOnline());
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  EXPECT_GT(lab.root->core().counters().relayed, 0u);
  EXPECT_TRUE(lab.a->has(Ev::kPeerLearned, lab.bId.address()));
  EXPECT_TRUE(lab.b->has(Ev::kPeerLearned, lab.aId.address()));

  // RENDEZVOUS from the root makes them greet each other directly.
  ASSERT_TRUE(lab.net.runUntil(
      [&] {
        return lab.a->has(Ev::kDirectPath, lab.bId.address()) &&
               lab.b->has(Ev::kDirectPath, lab.aId.address());
      },
      2000));
  const uint64_t relayedBefore = lab.root->core().counters().relayed;
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  ASSERT_TRUE(lab.echo(*lab.b, *lab.a));
  EXPECT_EQ(lab.root->core().counters().relayed, relayedBefore);
  const auto& reply = lab.a->events.back();
  EXPECT_EQ(reply.type, Ev::kEchoReply);
  EXPECT_EQ(std::string(reply.data.begin(), reply.data.end()), "ping");
}

// The root goes away: direct paths between nodes keep working. It comes back restarted,
// knowing no one: the nodes greet it within 5 s (a backoff that grows with its silence, up
// to 4 s; back within seconds, before its path stops counting as alive, an unanswered echo
// tells), so a new peer can look them up; a dead root is not flooded meanwhile.
TEST(NodeCore, ARootThatComesBackIsGreetedWithinFiveSeconds) {
  for (const int64_t downMs : {0, 2000, 10000, 30000, 120000, 600000}) {
    Lab lab;
    lab.net.start();
    ASSERT_TRUE(
        lab.net.runUntil([&] { return lab.a->core().online() && lab.b->core().online(); }, 1000));
    ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
    ASSERT_TRUE(
        lab.net.runUntil([&] { return lab.a->has(Ev::kDirectPath, lab.bId.address()); }, 2000));
    lab.root->down = true;
    const uint64_t sentBefore = lab.net.sent;
    for (int64_t t = 0; t < downMs; t += 10000) {
      lab.net.runFor(std::min<int64_t>(10000, downMs - t));
      ASSERT_TRUE(lab.echo(*lab.a, *lab.b, 500)) << "direct echo at " << t << " ms down";
    }
    // Both nodes together, HELLOs, echoes and heartbeats: at most about one datagram a
    // second (a retry every 500 ms would be 4).
    EXPECT_LT(lab.net.sent - sentBefore, static_cast<uint64_t>(downMs / 1000 + 50));
    lab.root->restart(lab.net.now);
    const int64_t back = lab.net.now;
    ASSERT_TRUE(lab.net.runUntil(
        [&] {
          return lab.root->core().peer(lab.aId.address()) != nullptr &&
                 lab.root->core().peer(lab.bId.address()) != nullptr;
        },
        5000))
        << "down " << downMs << " ms";
    std::printf("[ figures  ] root down %lld s: greeted %lld ms after its return\n",
                static_cast<long long>(downMs / 1000), static_cast<long long>(lab.net.now - back));
  }
}

TEST(NodeCore, LabLoopbackPathsCarryLargePacketsWhole) {
  Lab lab;
  ASSERT_TRUE(lab.bothOnline());
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  ASSERT_TRUE(lab.directPath(*lab.a, lab.bId));
  // A packet of a full-size frame and more, over a direct lab (loopback) path: one
  // datagram, not a head and fragments.
  std::vector<uint8_t> big(4000, 0x5a);
  const size_t before = lab.a->count(Ev::kEchoReply);
  lab.a->core().sendEcho(lab.net.now, lab.bId.address(), big.data(), big.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return lab.a->count(Ev::kEchoReply) > before; }, 2000));
  EXPECT_EQ(lab.a->events.back().data.size(), big.size());
  EXPECT_GT(lab.net.largest, big.size());
}

TEST(NodeCore, KeepsWorkingWithTenPercentLossDuplicationAndReordering) {
  Lab lab(7);
  lab.net.wire.loss = 0.10;
  lab.net.wire.duplicate = 0.05;
  lab.net.wire.minDelayMs = 1;
  lab.net.wire.maxDelayMs = 20;
  ASSERT_TRUE(lab.bothOnline(10000));
  int answered = 0;
  for (int i = 0; i < 20; ++i) answered += lab.echo(*lab.a, *lab.b, 500);
  EXPECT_GE(answered, 12);  // each ECHO and OK crosses the lossy wire once or twice
  EXPECT_GT(lab.net.lost, 0u);
  ASSERT_TRUE(lab.directPath(*lab.a, lab.bId, 60000));
}

// B's NAT takes a new port mid-conversation: what A sends to the old one is lost. A learns
// the new path from B's packets and, since the old one has gone quiet meanwhile, uses it
// within about a second, not when the old path stops counting as alive (19 s).
TEST(NodeCore, APeerSeenAtANewAddressIsReachedThereWithinSeconds) {
  Lab lab;
  ASSERT_TRUE(lab.bothOnline());
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  ASSERT_TRUE(lab.directPath(*lab.a, lab.bId));
  ASSERT_TRUE(lab.echo(*lab.a, *lab.b));
  const uint8_t lo[4] = {127, 0, 0, 1};
  lab.b->moveTo(vl1::InetAddress::v4(lo, 20102));
  const int64_t moved = lab.net.now;
  int64_t reachedAfter = -1;
  while (lab.net.now - moved < 10000) {
    lab.echo(*lab.b, *lab.a, 100);  // B talks, as a receiver's ACKs would
    if (lab.echo(*lab.a, *lab.b, 100)) {
      reachedAfter = lab.net.now - moved;
      break;
    }
  }
  ASSERT_GE(reachedAfter, 0) << "A never reached B at its new address";
  EXPECT_LT(reachedAfter, 2500);
  EXPECT_TRUE(lab.a->has(Ev::kDirectPath, lab.bId.address()));
}

TEST(NodeCore, RefusesIdentitiesThatFailTheProof) {
  Lab lab;
  lab.b->failIdentityChecks = true;
  ASSERT_TRUE(lab.bothOnline());
  EXPECT_FALSE(lab.echo(*lab.a, *lab.b, 1500));
  EXPECT_GT(lab.b->core().counters().dropsOf(vl1::Drop::kInvalidIdentity), 0u);
  EXPECT_EQ(lab.b->core().peer(lab.aId.address()), nullptr);
}

TEST(NodeCore, AcceptsOnlySignedNewerPlanets) {
  crypto::initialize();
  const vl1::World newer = Lab::makePlanet(1700000000001);
  Lab lab(1, &newer);
  lab.net.start();
  ASSERT_TRUE(lab.net.runUntil([&] { return lab.a->has(Ev::kPlanetUpdated); }, 1000));
  EXPECT_EQ(lab.a->core().planet().timestamp(), 1700000000001u);

  // The same update signed by any other key is ignored.
  uint8_t otherKey[128];
  crypto::randomBytes(otherKey + 64, 64);
  crypto::x25519Public(otherKey, otherKey + 64);
  crypto::ed25519PublicFromSeed(otherKey + 32, otherKey + 96);
  const vl1::World forged = Lab::makePlanet(1700000000002, otherKey);
  Lab lab2(1, &forged);
  lab2.net.start();
  ASSERT_TRUE(lab2.net.runUntil([&] { return lab2.a->core().online(); }, 1000));
  lab2.net.runFor(500);
  EXPECT_FALSE(lab2.a->has(Ev::kPlanetUpdated));
  EXPECT_EQ(lab2.a->core().planet().timestamp(), 1700000000000u);
}

TEST(NodeCore, DropsGarbageAndUnexpectedReplies) {
  Lab lab;
  lab.net.start();
  ASSERT_TRUE(lab.net.runUntil([&] { return lab.a->core().online(); }, 1000));
  auto& core = lab.a->core();
  const auto before = core.counters();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> junk(rng() % 1600);
    for (auto& x : junk) x = static_cast<uint8_t>(rng());
    if (junk.size() > 18 && (i % 2) == 0) {
      util::writeBigEndian(junk.data() + 8, core.address(), 5);  // make it "for us"
      util::writeBigEndian(junk.data() + 13, lab.rootId.address(), 5);
    }
    core.processDatagram(lab.net.now, 0, lab.root->endpoint(), junk.data(), junk.size());
  }
  uint64_t dropped = 0, droppedBefore = 0;
  for (auto v : core.counters().dropped) dropped += v;
  for (auto v : before.dropped) droppedBefore += v;
  EXPECT_GT(dropped, droppedBefore + 1000);
  EXPECT_GT(core.counters().dropsOf(vl1::Drop::kBadMac), before.dropsOf(vl1::Drop::kBadMac));
  EXPECT_TRUE(core.online());
}

}  // namespace
}  // namespace zts
