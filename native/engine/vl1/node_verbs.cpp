// NodeCore's handlers for each VL1 verb (protocol.md §3).
#include <cstring>

#include "../crypto/primitives.h"
#include "../util/buffer.h"
#include "../util/hex.h"
#include "node_core.h"

namespace zts::vl1 {
namespace {

// The /24 (IPv4) or /64 (IPv6) a HELLO came from, for the stock validation rate limit.
uint32_t subnetKey(const InetAddress& a) {
  uint32_t k = a.isV6() ? 0x80000000u : 0;
  const uint8_t* ip = a.ip();
  const size_t n = a.isV6() ? 8 : 3;
  for (size_t i = 0; i < n; ++i) k = (k * 131) ^ ip[i];
  return k;
}

constexpr int64_t kNewIdentityPerSubnetMs = 2000;
constexpr size_t kMaxPushedPaths = 8;
constexpr int64_t kWhoisServeIntervalMs = 100;
constexpr int64_t kRootEchoIntervalMs = 500;
constexpr int64_t kRootHelloIntervalMs = 250;
constexpr int64_t kPushBurstWindowMs = 30000;
constexpr unsigned kPushBurstLimit = 8;
constexpr unsigned kNatOpenerTtl = 2;

}  // namespace

bool NodeCore::admitNewIdentity(int64_t now) {
  // Each new identity costs a 2 MiB memory-hard hash on a worker thread, then a peer entry:
  // a flood of HELLOs from made-up identities (cheap to make without the proof of work)
  // must not queue unbounded work nor fill memory. Lab loopback is exempt from the stock
  // per-subnet limit, not from these.
  if (peers_.size() >= kMaxPeers) {
    counters_.drop(Drop::kPeerTableFull);
    return false;
  }
  if (pending_.size() >= kMaxPendingIdentities) {
    counters_.drop(Drop::kIdentityChecksBusy);
    return false;
  }
  if (!newIdentityBudget_.take(now)) {
    counters_.drop(Drop::kNewIdentityRateLimited);
    return false;
  }
  return true;
}

void NodeCore::handleHello(int64_t now, int64_t localSocket, const InetAddress& from,
                           std::vector<uint8_t>& packet) {
  HeaderView h{packet.data()};
  util::Reader r(packet.data() + proto::kIdxPayload, packet.size() - proto::kIdxPayload);
  const uint8_t protocol = r.u8();
  r.skip(4 + 8);  // software version, timestamp
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  if (protocol < proto::kMinProtocolVersion) {
    counters_.drop(Drop::kOldProtocol);
    return;
  }
  size_t consumed = 0;
  auto identity = Identity::fromBinary(r.cursor(), r.remaining(), consumed);
  if (!identity || identity->address() != h.source() || isReservedAddress(identity->address())) {
    counters_.drop(Drop::kMalformed);
    return;
  }

  if (Peer* known = peer(identity->address())) {
    if (known->identity().samePublic(*identity)) {
      if (dearmor(packet.data(), packet.size(), known->key()) != DearmorResult::kOk) {
        counters_.drop(Drop::kBadMac);
        return;
      }
      if (known->seenBefore(h.packetId())) {
        counters_.drop(Drop::kReplayed);
        return;
      }
      answerHello(now, *known, localSocket, from, packet);
      return;
    }
    // Same address, another key: answer only if the newcomer proves it holds that key.
    uint8_t key[kAgreedKeyLen];
    if (options_.identity.agree(*identity, key) &&
        dearmor(packet.data(), packet.size(), key) == DearmorResult::kOk) {
      Peer impostor(*identity, key);
      std::vector<uint8_t> reply;
      beginPacket(reply, host_.random64(), identity->address(), address(), proto::Verb::kError);
      util::Writer w(reply);
      w.u8(static_cast<uint8_t>(proto::Verb::kHello));
      w.u64(h.packetId());
      w.u8(static_cast<uint8_t>(proto::ErrorCode::kIdentityCollision));
      armor(reply.data(), reply.size(), impostor.key(), proto::kCipherPoly1305Salsa2012, false);
      transmit(localSocket, from, reply.data(), reply.size());
    }
    crypto::wipe(key, sizeof key);
    counters_.drop(Drop::kIdentityCollision);
    return;
  }

  if (rejectedIdentities_.count(identity->address()) != 0) {
    counters_.drop(Drop::kInvalidIdentity);
    return;
  }
  // A key agreement (X25519) before the MAC can be checked: budgeted, so a flood of HELLOs
  // from made-up identities costs bounded CPU.
  if (!unknownHelloBudget_.take(now)) {
    counters_.drop(Drop::kUnknownHelloRateLimited);
    return;
  }
  uint8_t key[kAgreedKeyLen];
  if (!options_.identity.agree(*identity, key)) {
    counters_.drop(Drop::kInvalidIdentity);
    return;
  }
  const bool macOk = dearmor(packet.data(), packet.size(), key) == DearmorResult::kOk;
  crypto::wipe(key, sizeof key);
  if (!macOk) {
    counters_.drop(Drop::kBadMac);
    return;
  }
  auto pend = pending_.find(identity->address());
  if (pend != pending_.end()) {
    if (pend->second.identity.samePublic(*identity) && pend->second.hellos.size() < 4)
      pend->second.hellos.push_back({localSocket, from, packet, now});
    return;
  }
  // Checking a new identity costs a 2 MiB hash: stock nodes allow one per source subnet
  // every 2 s. Lab nodes on loopback are exempt so a whole lab starts at once.
  if (!(options_.lab && from.isLoopback())) {
    int64_t& last = helloValidationBySubnet_[subnetKey(from)];
    if (last != 0 && now - last < kNewIdentityPerSubnetMs) {
      counters_.drop(Drop::kRateLimited);
      return;
    }
    last = now;
  }
  if (!admitNewIdentity(now)) return;
  PendingIdentity p{*identity, {}};
  p.hellos.push_back({localSocket, from, packet, now});
  pending_.emplace(identity->address(), std::move(p));
  host_.checkIdentity(*identity);
}

void NodeCore::answerHello(int64_t now, Peer& p, int64_t localSocket, const InetAddress& from,
                           const std::vector<uint8_t>& packet) {
  HeaderView h{packet.data()};
  util::Reader r(packet.data() + proto::kIdxPayload, packet.size() - proto::kIdxPayload);
  p.remoteProtocol = r.u8();
  p.remoteMajor = r.u8();
  p.remoteMinor = r.u8();
  p.remoteRevision = r.u16();
  const uint64_t timestamp = r.u64();
  r.skip(kIdentityBinaryPublicLen);
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  // The rest (our address as the sender sees it, its planet, its moons) is optional.
  p.lastReceive = now;
  if (options_.root) {
    if (p.lastHelloAnswered != 0 && now - p.lastHelloAnswered < kRootHelloIntervalMs) {
      counters_.drop(Drop::kRateLimited);
      return;
    }
    p.lastHelloAnswered = now;
  }
  const bool direct = h.hops() == 0;
  if (direct && usablePath(from)) {
    if (options_.root) {
      p.learnPath(localSocket, from, now);
    } else if (p.findPath(localSocket, from) == nullptr) {
      // A known peer greeting us from a path we do not know may be a new process that holds
      // none of our credentials: send them with our next frame, or it drops the frame.
      forgetCredentialsPushed(p.address());
      // Stock nodes trust a path only once it answers an OK: greet it back.
      if (now - p.lastHelloSent >= timing::kWhoisRetryMs) sendHello(now, p, localSocket, from);
    }
  }
  std::vector<uint8_t> body;
  util::Writer w(body);
  w.u64(timestamp);
  w.u8(proto::kProtocolVersion);
  w.u8(proto::kSoftwareMajor);
  w.u8(proto::kSoftwareMinor);
  w.u16(proto::kSoftwareRevision);
  if (direct) {
    from.write(w);
  } else {
    InetAddress().write(w);
  }
  if (options_.root) {
    w.u16(static_cast<uint16_t>(planetBytes_.size()));
    w.bytes(planetBytes_.data(), planetBytes_.size());
  } else {
    w.u16(0);
  }
  sendOk(now, p, proto::Verb::kHello, h.packetId(), body, localSocket, &from);
}

void NodeCore::handleAuthenticated(int64_t now, Peer& p, int64_t localSocket,
                                   const InetAddress& from, std::vector<uint8_t>& packet) {
  HeaderView h{packet.data()};
  const unsigned hops = h.hops();
  const auto verb = static_cast<proto::Verb>(packet[proto::kIdxVerb] & proto::kMaskVerb);
  // Heard again after a silence: perhaps a new process (restarted) that holds none of our
  // credentials, and would drop our next frames until it asked for them.
  if (p.lastReceive != 0 && now - p.lastReceive > timing::kSilenceBeforeRepushMs)
    forgetCredentialsPushed(p.address());
  p.lastReceive = now;
  if (verb == proto::Verb::kFrame || verb == proto::Verb::kExtFrame ||
      verb == proto::Verb::kMulticastFrame)
    p.lastFrameReceive = now;
  if (hops > 0) {
    // Relayed, from a peer we hold direct paths to that have been quiet a while: it cannot
    // reach us on them (a new process, a NAT that moved), so they are dead to it, and what
    // we send there is lost. Drop them; until a new direct path is confirmed we relay too.
    dropPathsHeardBefore(p, now - timing::kSilenceBeforeRepushMs);
  }
  if (hops == 0) {
    if (Path* path = p.findPath(localSocket, from)) {
      path->lastReceive = now;
    } else if (options_.root && usablePath(from)) {
      p.learnPath(localSocket, from, now);
    } else if (verb != proto::Verb::kOk && usablePath(from) &&
               now - p.lastHelloSent >= timing::kWhoisRetryMs) {
      sendHello(now, p, localSocket, from);
    }
  }
  util::Reader r(packet.data() + proto::kIdxPayload, packet.size() - proto::kIdxPayload);
  switch (verb) {
    case proto::Verb::kNop:
      break;
    case proto::Verb::kOk:
      handleOk(now, p, localSocket, from, hops, r);
      break;
    case proto::Verb::kError:
      handleError(now, p, r);
      break;
    case proto::Verb::kWhois:
      handleWhois(now, p, r, h.packetId());
      break;
    case proto::Verb::kRendezvous:
      handleRendezvous(now, p, r);
      break;
    case proto::Verb::kEcho:
      handleEcho(now, p, h.packetId(), r);
      break;
    case proto::Verb::kPushDirectPaths:
      handlePushDirectPaths(now, p, r);
      break;
    case proto::Verb::kUserMessage: {
      const uint64_t type = r.u64();
      if (!r.ok()) {
        counters_.drop(Drop::kMalformed);
        break;
      }
      event(CoreEvent::Type::kUserMessage, p.address(), {}, static_cast<int64_t>(type),
            std::vector<uint8_t>(r.cursor(), r.cursor() + r.remaining()));
      break;
    }
    default:
      if (!handleVl2(now, p, verb, h.packetId(), r)) counters_.drop(Drop::kUnhandledVerb);
      break;
  }
}

void NodeCore::handleOk(int64_t now, Peer& p, int64_t localSocket, const InetAddress& from,
                        unsigned hops, util::Reader& r) {
  const auto inReVerb = static_cast<proto::Verb>(r.u8() & proto::kMaskVerb);
  const uint64_t inRe = r.u64();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  const int64_t sentAt = takeExpectedReply(inRe, now);
  if (sentAt < 0) {
    counters_.drop(Drop::kUnexpectedReply);
    return;
  }
  switch (inReVerb) {
    case proto::Verb::kHello:
      handleOkHello(now, p, localSocket, from, hops, sentAt, r);
      break;
    case proto::Verb::kWhois:
      handleOkWhois(now, p, r);
      break;
    case proto::Verb::kEcho:
      if (hops == 0) {
        if (Path* path = p.findPath(localSocket, from)) path->latencyMs = now - sentAt;
      }
      p.latencyMs = now - sentAt;
      event(CoreEvent::Type::kEchoReply, p.address(), from, now - sentAt,
            std::vector<uint8_t>(r.cursor(), r.cursor() + r.remaining()));
      break;
    case proto::Verb::kNetworkConfigRequest:
      handleConfigChunk(now, p, r, false, inRe);
      break;
    case proto::Verb::kMulticastGather:
      handleGatherResults(now, r, false);
      break;
    case proto::Verb::kMulticastFrame:
      handleGatherResults(now, r, true);
      break;
    default:
      break;
  }
}

void NodeCore::handleOkHello(int64_t now, Peer& p, int64_t localSocket, const InetAddress& from,
                             unsigned hops, int64_t sentAt, util::Reader& r) {
  r.skip(8);  // echoed timestamp: the send time we kept is the same clock
  p.remoteProtocol = r.u8();
  p.remoteMajor = r.u8();
  p.remoteMinor = r.u8();
  p.remoteRevision = r.u16();
  const InetAddress seenAs = InetAddress::read(r);
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  p.latencyMs = now - sentAt;
  if (hops == 0 && usablePath(from) && (!p.isRoot || isRootEndpointIp(p.address(), from))) {
    const bool fresh = p.findPath(localSocket, from) == nullptr;
    Path& path = p.learnPath(localSocket, from, now);
    path.latencyMs = now - sentAt;
    if (fresh) event(CoreEvent::Type::kDirectPath, p.address(), from, path.latencyMs);
    // A root we (re)reach may have restarted and forgotten who wants which group: without
    // our LIKEs a new peer's ARP finds nobody until the next announcement (60 s).
    if (p.isRoot && (fresh || p.rootWasSilent)) {
      p.rootWasSilent = false;
      for (auto& [nwid, net] : networks_)
        if (net->status == vl2::NetworkStatus::kOk) announceMulticast(now, *net);
    }
  }
  if (hops == 0 && !seenAs.isNil()) {
    auto it = external_.find(p.address());
    if (it == external_.end() || it->second != seenAs) {
      external_[p.address()] = seenAs;
      event(CoreEvent::Type::kExternalAddress, p.address(), seenAs);
    }
  }
  const uint16_t worldLen = r.u16();
  const uint8_t* worlds = r.bytes(worldLen);
  if (!r.ok() || worldLen == 0) {
    updateOnline(now);
    return;
  }
  if (!p.isRoot) {
    updateOnline(now);
    return;
  }
  size_t off = 0;
  while (off < worldLen) {
    size_t used = 0;
    auto w = World::parse(worlds + off, worldLen - off, &used);
    if (!w || used == 0) {
      counters_.drop(Drop::kBadWorld);
      break;
    }
    off += used;
    if (options_.planet.acceptsUpdate(*w)) {
      options_.planet = *w;
      installPlanetRoots(now);
      event(CoreEvent::Type::kPlanetUpdated, p.address(), {}, 0, w->serialize());
    }
  }
  updateOnline(now);
}

void NodeCore::handleOkWhois(int64_t now, Peer& p, util::Reader& r) {
  if (!p.isRoot) {
    counters_.drop(Drop::kNotFromRoot);
    return;
  }
  while (r.remaining() >= kIdentityBinaryPublicLen) {
    size_t consumed = 0;
    auto id = Identity::fromBinary(r.cursor(), r.remaining(), consumed);
    if (!id) {
      counters_.drop(Drop::kMalformed);
      return;
    }
    r.skip(consumed);
    const uint64_t addr = id->address();
    if (addr == address() || peer(addr) != nullptr || pending_.count(addr) != 0) continue;
    if (whois_.count(addr) == 0) continue;  // we did not ask
    if (!admitNewIdentity(now)) return;
    pending_.emplace(addr, PendingIdentity{*id, {}});
    host_.checkIdentity(*id);
  }
}

void NodeCore::handleError(int64_t now, Peer& p, util::Reader& r) {
  const uint8_t inReVerb = r.u8();
  r.skip(8);
  const uint8_t code = r.u8();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  std::vector<uint8_t> data{inReVerb};
  data.insert(data.end(), r.cursor(), r.cursor() + r.remaining());
  event(CoreEvent::Type::kError, p.address(), {}, code, std::move(data));
  handleNetworkError(now, p, inReVerb, code, r);
}

void NodeCore::handleWhois(int64_t now, Peer& p, util::Reader& r, uint64_t inRe) {
  if (!options_.root) {
    if (p.lastWhoisServed != 0 && now - p.lastWhoisServed < kWhoisServeIntervalMs) {
      counters_.drop(Drop::kRateLimited);
      return;
    }
    p.lastWhoisServed = now;
  }
  std::vector<uint8_t> body;
  while (r.remaining() >= 5) {
    const uint64_t addr = r.u40();
    const Identity* id = nullptr;
    if (addr == address()) {
      id = &options_.identity;
    } else if (Peer* known = peer(addr)) {
      id = &known->identity();
    }
    if (id == nullptr) continue;  // unknown: stock nodes stay silent
    uint8_t bin[kIdentityBinaryPublicLen];
    id->toBinary(bin, sizeof bin, false);
    body.insert(body.end(), bin, bin + sizeof bin);
  }
  if (!body.empty()) sendOk(now, p, proto::Verb::kWhois, inRe, body);
}

void NodeCore::handleRendezvous(int64_t now, Peer& p, util::Reader& r) {
  if (!p.isRoot) {
    counters_.drop(Drop::kNotFromRoot);
    return;
  }
  r.u8();  // flags
  const uint64_t with = r.u40();
  const uint16_t port = r.u16();
  const uint8_t ipLen = r.u8();
  const uint8_t* ip = r.bytes(ipLen);
  if (!r.ok() || (ipLen != 4 && ipLen != 16)) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  const InetAddress at = ipLen == 4 ? InetAddress::v4(ip, port) : InetAddress::v6(ip, port);
  Peer* other = peer(with);
  if (other == nullptr) {
    askWhois(now, with);
    return;
  }
  if (!usablePath(at)) return;
  if (at.isV4()) {
    // A few bytes that die after two hops open our NAT toward the peer before the HELLO.
    uint8_t junk[4];
    util::writeBigEndian(junk, host_.random64(), 4);
    host_.sendNatOpener(-1, at, junk, sizeof junk, kNatOpenerTtl);
  }
  sendHello(now, *other, -1, at);
}

void NodeCore::handleEcho(int64_t now, Peer& p, uint64_t inRe, util::Reader& r) {
  if (options_.root) {
    if (p.lastEchoAnswered != 0 && now - p.lastEchoAnswered < kRootEchoIntervalMs) {
      counters_.drop(Drop::kRateLimited);
      return;
    }
    p.lastEchoAnswered = now;
  }
  sendOk(now, p, proto::Verb::kEcho, inRe,
         std::vector<uint8_t>(r.cursor(), r.cursor() + r.remaining()));
}

void NodeCore::handlePushDirectPaths(int64_t now, Peer& p, util::Reader& r) {
  // Stock nodes stop listening once 8 arrive less than 30 s apart from one another.
  p.pushesInBurst = (now - p.lastPushReceived < kPushBurstWindowMs) ? p.pushesInBurst + 1 : 1;
  p.lastPushReceived = now;
  if (p.pushesInBurst > kPushBurstLimit) {
    counters_.drop(Drop::kRateLimited);
    return;
  }
  const uint16_t count = r.u16();
  size_t tried = 0;
  for (uint16_t i = 0; i < count && r.ok(); ++i) {
    const uint8_t flags = r.u8();
    r.skip(r.u16());  // extensions
    const uint8_t type = r.u8();
    const uint8_t len = r.u8();
    const uint8_t* a = r.bytes(len);
    if (!r.ok()) break;
    if ((flags & 0x01) != 0) continue;  // "forget this path"
    InetAddress at;
    if (type == 4 && len == 6) {
      at = InetAddress::v4(a, static_cast<uint16_t>((a[4] << 8) | a[5]));
    } else if (type == 6 && len == 18) {
      at = InetAddress::v6(a, static_cast<uint16_t>((a[16] << 8) | a[17]));
    } else {
      continue;
    }
    if (!usablePath(at) || p.findPath(-1, at) != nullptr) continue;
    if (tried++ >= kMaxPushedPaths) break;
    sendHello(now, p, -1, at);
  }
  if (!r.ok()) counters_.drop(Drop::kMalformed);
}

}  // namespace zts::vl1
