// A root and two nodes (a, b) on the in-memory wire, with a lab planet naming the root:
// the set-up the NodeCore tests share (node_core_test.cpp, node_hostile_test.cpp).
#pragma once

#include <string>

#include "crypto/primitives.h"
#include "sim_network.h"
#include "test_support.h"

namespace zts::test {

struct SimLab {
  SimNetwork net;
  vl1::Identity rootId, aId, bId;
  vl1::World planet;
  SimNode* root;
  SimNode* a;
  SimNode* b;

  // `rootPlanet`, when given, is what the root serves in place of the nodes' planet.
  explicit SimLab(uint64_t seed = 1, const vl1::World* rootPlanet = nullptr) : net(seed) {
    crypto::initialize();
    rootId = *vl1::Identity::fromString(readSharedText("vectors/stock/identities/id1.secret"));
    aId = *vl1::Identity::fromString(kIdentityA);
    bId = *vl1::Identity::fromString(kIdentityB);
    planet = makePlanet(1700000000000);
    vl1::CoreOptions rootOptions = options(rootId, true);
    if (rootPlanet != nullptr) rootOptions.planet = *rootPlanet;
    root = &net.add(9993, rootOptions);
    a = &net.add(20001, options(aId, false));
    b = &net.add(20002, options(bId, false));
  }

  static vl1::World makePlanet(uint64_t timestamp, const uint8_t* signingKey = nullptr) {
    auto key = readSharedFile("vectors/stock/planet/current.c25519");
    auto root = *vl1::Identity::fromString(readSharedText("vectors/stock/identities/id1.secret"));
    const uint8_t lo[4] = {127, 0, 0, 1};
    vl1::WorldRoot r{root, {vl1::InetAddress::v4(lo, 9993)}};
    return *vl1::World::make(vl1::World::Type::kPlanet, 0x7a746c6162, timestamp, {r},
                             signingKey != nullptr ? signingKey : key.data());
  }

  // Lab options (loopback paths allowed) for a node or root of `planet`.
  static vl1::CoreOptions labOptions(const vl1::Identity& id, const vl1::World& planet,
                                     bool isRoot) {
    vl1::CoreOptions o;
    o.identity = id;
    o.planet = planet;
    o.lab = true;
    o.root = isRoot;
    return o;
  }
  vl1::CoreOptions options(const vl1::Identity& id, bool isRoot) {
    return labOptions(id, planet, isRoot);
  }

  // Starts the wire and runs until A and B are both online (a root answered them).
  bool bothOnline(int64_t maxMs = 1000) {
    net.start();
    return net.runUntil([&] { return a->core().online() && b->core().online(); }, maxMs);
  }

  // Runs until `from` has a direct path to `to`.
  bool directPath(SimNode& from, const vl1::Identity& to, int64_t maxMs = 2000) {
    return net.runUntil([&] { return from.has(vl1::CoreEvent::Type::kDirectPath, to.address()); },
                        maxMs);
  }

  bool echo(SimNode& from, SimNode& to, int64_t maxMs = 2000) {
    const size_t before = from.count(vl1::CoreEvent::Type::kEchoReply);
    const uint8_t ping[4] = {'p', 'i', 'n', 'g'};
    from.core().sendEcho(net.now, to.core().address(), ping, sizeof ping);
    return net.runUntil([&] { return from.count(vl1::CoreEvent::Type::kEchoReply) > before; },
                        maxMs);
  }
};

}  // namespace zts::test
