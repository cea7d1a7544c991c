// Networks on the in-memory wire: a root, a controller node answering config requests,
// and members exchanging unicast and multicast frames under the membership rules.
#include <gtest/gtest.h>

#include <set>

#include "crypto/primitives.h"
#include "sim_lab.h"
#include "sim_network.h"
#include "test_support.h"
#include "util/hex.h"
#include "vl2/addresses.h"
#include "vl2/config_chunk.h"
#include "vl2/network_config.h"

namespace zts {
namespace {

using Ev = vl1::CoreEvent::Type;
using vl2::NetworkStatus;

// Fixed identities keep the tests fast: test::kIdentityA/B (the vectors' V1, V2) and this.
const char* kIdentityC =
    "186c5c5b54:0:e00c875d6cf1c1332830f81fc6e5b43a84e3768a602bfa6f782728d194d1bc1d1df633093ba021c4"
    "a4b6536947571c40656e749757e34aa679925318ce3181f8:3af26fc32a9fde6a7e21d1fafc17bb856141341464cc"
    "c22baa165506b81f71762ed2d3703115d61351471068446e98ecaeb503fd20612cd6f917f2b055b4f0cf";

// A small controller for the tests: one private network, members by address, one static
// IPv4 each, the accept-all rule, and a COM signed now.
struct TestController {
  vl1::Identity identity;
  uint64_t nwid;
  std::map<uint64_t, uint8_t> authorized;  // address -> last octet of its IP

  vl1::ConfigReply answer(int64_t now, const vl1::Identity& member, uint64_t requested) {
    vl1::ConfigReply reply;
    if (requested != nwid) return reply;
    auto it = authorized.find(member.address());
    if (it == authorized.end()) {
      reply.kind = vl1::ConfigReply::Kind::kAccessDenied;
      return reply;
    }
    vl2::NetworkConfig cfg;
    cfg.networkId = nwid;
    cfg.timestamp = static_cast<uint64_t>(now);
    cfg.revision = 1;
    cfg.issuedTo = member.address();
    cfg.flags = vl2::NetworkConfig::kFlagEnableBroadcast;
    cfg.name = "simnet";
    const uint8_t ip[4] = {10, 147, 17, it->second};
    cfg.staticIps.push_back(vl1::InetAddress::v4(ip, 24));
    const uint8_t net[4] = {10, 147, 17, 0};
    cfg.routes.push_back({vl1::InetAddress::v4(net, 24), {}, 0, 0});
    cfg.rules = {0x01, 0x00};
    auto com = vl2::CertificateOfMembership::issue(nwid, cfg.timestamp, cfg.credentialTimeMaxDelta,
                                                   member, identity);
    EXPECT_TRUE(com && com->sign(identity));
    cfg.com = *com;
    reply.kind = vl1::ConfigReply::Kind::kConfig;
    reply.chunks = vl2::buildChunks(cfg.serialize(), nwid, 0x1234 + now, identity);
    return reply;
  }
};

struct NetLab {
  test::SimNetwork net{5};
  vl1::Identity rootId, controllerId, aId, bId, cId;
  vl1::World planet;
  TestController controller;
  test::SimNode *root, *ctl, *a, *b, *c;
  uint64_t nwid;

  NetLab() {
    crypto::initialize();
    rootId =
        *vl1::Identity::fromString(test::readSharedText("vectors/stock/identities/id1.secret"));
    controllerId =
        *vl1::Identity::fromString(test::readSharedText("vectors/stock/identities/id2.secret"));
    aId = *vl1::Identity::fromString(test::kIdentityA);
    bId = *vl1::Identity::fromString(test::kIdentityB);
    cId = *vl1::Identity::fromString(kIdentityC);
    auto key = test::readSharedFile("vectors/stock/planet/current.c25519");
    const uint8_t lo[4] = {127, 0, 0, 1};
    planet = *vl1::World::make(vl1::World::Type::kPlanet, 0x7a746c6162, 1700000000000,
                               {{rootId, {vl1::InetAddress::v4(lo, 9993)}}}, key.data());
    nwid = (controllerId.address() << 24) | 0x000001;
    controller = {controllerId, nwid, {{aId.address(), 1}, {bId.address(), 2}}};
    root = &net.add(9993, options(rootId, true));
    auto ctlOptions = options(controllerId, false);
    ctlOptions.configRequestHandler = [this](int64_t now, const vl1::Identity& m, uint64_t n,
                                             const std::vector<uint8_t>&) {
      return controller.answer(now, m, n);
    };
    ctl = &net.add(9994, ctlOptions);
    a = &net.add(20001, options(aId, false));
    b = &net.add(20002, options(bId, false));
    c = &net.add(20003, options(cId, false));
    net.start();
    EXPECT_TRUE(net.runUntil([&] { return a->core().online() && b->core().online(); }, 2000));
  }

  vl1::CoreOptions options(const vl1::Identity& id, bool isRoot) {
    return test::SimLab::labOptions(id, planet, isRoot);
  }

  static NetworkStatus status(test::SimNode& n, uint64_t id) {
    const auto* network = n.core().network(id);
    return network == nullptr ? NetworkStatus::kNotFound : network->status;
  }

  bool joined(test::SimNode& n) {
    return net.runUntil([&] { return status(n, nwid) == NetworkStatus::kOk; }, 5000);
  }

  // An IPv4 payload, enough for the accept-all rule.
  static std::vector<uint8_t> ipv4Packet(uint8_t from, uint8_t to) {
    std::vector<uint8_t> p = {0x45, 0,    0,  28,  0,  0,  0,    0,    64,   17,   0, 0, 10, 147,
                              17,   from, 10, 147, 17, to, 0x30, 0x39, 0x30, 0x39, 0, 8, 0,  0};
    return p;
  }
};

TEST(NodeVl2, MembersJoinGetTheirConfigAndExchangeFrames) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  lab.b->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a));
  ASSERT_TRUE(lab.joined(*lab.b));
  const auto& network = *lab.a->core().network(lab.nwid);
  ASSERT_TRUE(network.config);
  const auto* cfg = &*network.config;
  EXPECT_EQ(cfg->name, "simnet");
  ASSERT_EQ(cfg->staticIps.size(), 1u);
  EXPECT_EQ(cfg->staticIps[0].toString(), "10.147.17.1/24");
  EXPECT_TRUE(lab.a->has(Ev::kNetworkConfig));
  bool reportedOk = false;
  for (const auto& e : lab.a->events)
    reportedOk |=
        e.type == Ev::kNetworkStatus && e.value == static_cast<int64_t>(NetworkStatus::kOk);
  EXPECT_TRUE(reportedOk) << "the change to OK is an event too";

  const auto macA = vl2::macFor(lab.aId.address(), lab.nwid);
  const auto macB = vl2::macFor(lab.bId.address(), lab.nwid);
  const auto pkt = NetLab::ipv4Packet(1, 2);
  lab.a->core().sendFrame(lab.net.now, lab.nwid, macB, macA, 0x0800, pkt.data(), pkt.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.b->frames.empty(); }, 3000));
  EXPECT_EQ(lab.b->frames[0].src, macA);
  EXPECT_EQ(lab.b->frames[0].dst, macB);
  EXPECT_EQ(lab.b->frames[0].data, pkt);

  // And back, now that each holds the other's certificate.
  const auto back = NetLab::ipv4Packet(2, 1);
  lab.b->core().sendFrame(lab.net.now, lab.nwid, macA, macB, 0x0800, back.data(), back.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.a->frames.empty(); }, 3000));
  EXPECT_EQ(lab.a->frames[0].data, back);
}

TEST(NodeVl2, ArpGoesAsMulticastToTheAddressOwner) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  lab.b->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a) && lab.joined(*lab.b));
  lab.net.runFor(100);  // LIKEs reach the root
  const auto macA = vl2::macFor(lab.aId.address(), lab.nwid);
  // ARP who-has 10.147.17.2 tell 10.147.17.1
  std::vector<uint8_t> arp = {0, 1, 8, 0, 6, 4, 0, 1};
  uint8_t m[6];
  vl2::macToBytes(macA, m);
  arp.insert(arp.end(), m, m + 6);
  arp.insert(arp.end(), {10, 147, 17, 1, 0, 0, 0, 0, 0, 0, 10, 147, 17, 2});
  lab.a->core().sendFrame(lab.net.now, lab.nwid, 0xffffffffffffULL, macA, 0x0806, arp.data(),
                          arp.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.b->frames.empty(); }, 3000));
  EXPECT_EQ(lab.b->frames[0].dst, 0xffffffffffffULL);
  EXPECT_EQ(lab.b->frames[0].etherType, 0x0806);
  EXPECT_EQ(lab.b->frames[0].data, arp);
}

TEST(NodeVl2, GroupsOurSocketsJoinAreAnnouncedAndReceived) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  lab.b->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a) && lab.joined(*lab.b));
  // 239.1.2.3's Ethernet address; joining announces it at once (LIKE to root and peers).
  const vl2::MulticastGroup group{0x01005e010203ULL, 0};
  lab.a->core().joinGroup(lab.net.now, group);
  lab.a->core().joinGroup(lab.net.now, group);  // counted: a second socket in the group
  lab.a->core().leaveGroup(group);              // one still holds it
  lab.net.runFor(100);
  const auto macB = vl2::macFor(lab.bId.address(), lab.nwid);
  const auto pkt = NetLab::ipv4Packet(2, 1);
  lab.b->core().sendFrame(lab.net.now, lab.nwid, group.mac, macB, 0x0800, pkt.data(), pkt.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.a->frames.empty(); }, 3000));
  EXPECT_EQ(lab.a->frames[0].dst, group.mac);
  EXPECT_EQ(lab.a->frames[0].data, pkt);
}

TEST(NodeVl2, UnauthorizedMembersAreDeniedAndCarryNoFrames) {
  NetLab lab;
  lab.b->core().join(lab.net.now, lab.nwid);
  lab.c->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.b));
  ASSERT_TRUE(lab.net.runUntil(
      [&] { return NetLab::status(*lab.c, lab.nwid) == NetworkStatus::kAccessDenied; }, 5000));
  bool sawStatus = false;
  for (const auto& e : lab.c->events)
    sawStatus |= e.type == Ev::kNetworkStatus &&
                 e.value == static_cast<int64_t>(NetworkStatus::kAccessDenied);
  EXPECT_TRUE(sawStatus);

  // C has no config, so it sends nothing; a forged FRAME from C is refused by B.
  const auto macB = vl2::macFor(lab.bId.address(), lab.nwid);
  const auto macC = vl2::macFor(lab.cId.address(), lab.nwid);
  const auto pkt = NetLab::ipv4Packet(3, 2);
  lab.c->core().sendFrame(lab.net.now, lab.nwid, macB, macC, 0x0800, pkt.data(), pkt.size());
  std::vector<uint8_t> payload;
  util::Writer w(payload);
  w.u64(lab.nwid);
  w.u16(0x0800);
  w.bytes(pkt.data(), pkt.size());
  lab.c->core().sendToPeer(lab.net.now, lab.bId.address(), vl1::proto::Verb::kFrame, payload);
  // Held for the credentials C never sends (kHeldFrameMs), then dropped and counted.
  lab.net.runFor(2000);
  EXPECT_TRUE(lab.b->frames.empty());
  EXPECT_EQ(lab.b->core().tableSizes().heldFrames, 1u);
  lab.net.runFor(4000);
  EXPECT_TRUE(lab.b->frames.empty());
  EXPECT_EQ(lab.b->core().tableSizes().heldFrames, 0u);
  EXPECT_EQ(lab.b->core().counters().dropsOf(vl1::Drop::kNotAMember), 1u);
}

// B's first frame to A goes right behind B's credentials, both relayed by the root; here
// the credentials are lost on the wire and the frame arrives alone. A holds it and asks for
// them, and B answers at once though it pushed a moment ago: the frame is delivered a few
// round trips later. It used to be dropped, and B's answer to wait out its one push a
// second: a connect lost its ARP exchange and waited for ARP's retry (1-3 s in the bench).
TEST(NodeVl2, AFrameThatOvertookItsSendersCredentialsIsDeliveredWhenTheyArrive) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  lab.b->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a) && lab.joined(*lab.b));
  lab.net.wire.minDelayMs = lab.net.wire.maxDelayMs = 20;
  const auto aAt = lab.a->endpoint();
  const auto bAt = lab.b->endpoint();
  const uint64_t aAddress = lab.aId.address();
  int lostToA = 0;
  lab.net.dropIf = [&](const vl1::InetAddress& from, const vl1::InetAddress& to, const uint8_t* d,
                       size_t n) {
    // No direct path between A and B (NATs not yet open): the root relays all they send.
    if ((from == aAt && to == bAt) || (from == bAt && to == aAt)) return true;
    // The first packet B sends A (header bytes 8-12: the destination) is its credentials.
    if (lostToA > 0 || from != bAt || n < 13 || util::readBigEndian(d + 8, 5) != aAddress)
      return false;
    return ++lostToA == 1;
  };
  const auto macA = vl2::macFor(aAddress, lab.nwid);
  const auto macB = vl2::macFor(lab.bId.address(), lab.nwid);
  const auto pkt = NetLab::ipv4Packet(2, 1);
  const int64_t sentAt = lab.net.now;
  lab.b->core().sendFrame(lab.net.now, lab.nwid, macA, macB, 0x0800, pkt.data(), pkt.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.a->frames.empty(); }, 600))
      << "lost to A: " << lostToA << ", held: " << lab.a->core().tableSizes().heldFrames;
  std::printf("[ figures  ] delivered %lld ms after it was sent (20 ms each way)\n",
              static_cast<long long>(lab.net.now - sentAt));
  EXPECT_EQ(lostToA, 1);
  EXPECT_EQ(lab.a->frames[0].data, pkt);
  EXPECT_EQ(lab.a->core().tableSizes().heldFrames, 0u);
  EXPECT_EQ(lab.a->core().counters().dropsOf(vl1::Drop::kNotAMember), 0u);
}

TEST(NodeVl2, RejoinsWithACachedConfigAtOnce) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a));
  std::vector<uint8_t> cached;
  for (const auto& e : lab.a->events)
    if (e.type == Ev::kNetworkConfig) cached = e.data;
  ASSERT_FALSE(cached.empty());
  lab.a->core().leave(lab.net.now, lab.nwid);
  EXPECT_EQ(lab.a->core().network(lab.nwid), nullptr);
  lab.a->core().join(lab.net.now, lab.nwid, &cached);
  EXPECT_EQ(NetLab::status(*lab.a, lab.nwid), NetworkStatus::kOk);
}

TEST(NodeVl2, AdhocNetworksCarryIpv6OnlyWithinTheirPorts) {
  NetLab lab;
  const uint64_t adhoc = 0xff00500050000000ULL;  // port 80 only
  lab.a->core().join(lab.net.now, adhoc);
  lab.b->core().join(lab.net.now, adhoc);
  ASSERT_EQ(NetLab::status(*lab.a, adhoc), NetworkStatus::kOk);
  const auto& cfg = *lab.a->core().network(adhoc)->config;
  ASSERT_EQ(cfg.staticIps.size(), 1u);
  EXPECT_TRUE(cfg.staticIps[0].isV6());
  EXPECT_EQ(cfg.multicastLimit, 0u);

  const auto macA = vl2::macFor(lab.aId.address(), adhoc);
  const auto macB = vl2::macFor(lab.bId.address(), adhoc);
  // IPv6 TCP SYN to port 80 passes; IPv4 does not.
  std::vector<uint8_t> v6(40 + 20, 0);
  v6[0] = 0x60;
  v6[5] = 20;
  v6[6] = 6;
  v6[7] = 64;
  v6[40 + 3] = 80;
  v6[40 + 12] = 0x50;
  v6[40 + 13] = 0x02;
  lab.a->core().sendFrame(lab.net.now, adhoc, macB, macA, 0x86dd, v6.data(), v6.size());
  const auto v4 = NetLab::ipv4Packet(1, 2);
  lab.a->core().sendFrame(lab.net.now, adhoc, macB, macA, 0x0800, v4.data(), v4.size());
  ASSERT_TRUE(lab.net.runUntil([&] { return !lab.b->frames.empty(); }, 3000));
  lab.net.runFor(500);
  ASSERT_EQ(lab.b->frames.size(), 1u);
  EXPECT_EQ(lab.b->frames[0].etherType, 0x86dd);
}

// A streams frames to B; B's NAT takes a new port, so A's frames go to the old one and B,
// a pure receiver, sends nothing. B notices the frames stopping and greets A once; A learns
// B's new path from that, prefers it to the one gone quiet, and the stream resumes within
// seconds (without the greeting: at B's next path heartbeat, up to 14 s).
TEST(NodeVl2, AStreamResumesWhenTheReceiversNatTakesANewPort) {
  NetLab lab;
  lab.a->core().join(lab.net.now, lab.nwid);
  lab.b->core().join(lab.net.now, lab.nwid);
  ASSERT_TRUE(lab.joined(*lab.a));
  ASSERT_TRUE(lab.joined(*lab.b));
  const auto macA = vl2::macFor(lab.aId.address(), lab.nwid);
  const auto macB = vl2::macFor(lab.bId.address(), lab.nwid);
  const auto pkt = NetLab::ipv4Packet(1, 2);
  auto streamFor = [&](int64_t ms) {
    for (const int64_t end = lab.net.now + ms; lab.net.now < end;) {
      lab.a->core().sendFrame(lab.net.now, lab.nwid, macB, macA, 0x0800, pkt.data(), pkt.size());
      lab.net.runFor(50);
    }
  };
  streamFor(3000);
  ASSERT_TRUE(lab.a->has(Ev::kDirectPath, lab.bId.address()));
  ASSERT_FALSE(lab.b->frames.empty());
  const uint8_t lo[4] = {127, 0, 0, 1};
  lab.b->moveTo(vl1::InetAddress::v4(lo, 20102));
  const int64_t moved = lab.net.now;
  const size_t before = lab.b->frames.size();
  int64_t resumedAfter = -1;
  while (lab.net.now - moved < 20000 && resumedAfter < 0) {
    streamFor(50);
    if (lab.b->frames.size() > before + 2) resumedAfter = lab.net.now - moved;
  }
  ASSERT_GE(resumedAfter, 0) << "frames never reached B at its new address";
  EXPECT_LT(resumedAfter, 4000);
}

}  // namespace
}  // namespace zts
