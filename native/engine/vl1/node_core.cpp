// The receive pipeline, sending and queues of NodeCore. Verb handlers are in
// node_verbs.cpp, the root role in node_relay.cpp, the timers in node_timers.cpp.
#include "node_core.h"

#include <algorithm>
#include <cstring>

#include "../crypto/primitives.h"
#include "../util/buffer.h"
#include "../util/hex.h"

namespace zts::vl1 {
namespace {
constexpr size_t kMaxQueued = 256;
}  // namespace

NodeCore::NodeCore(CoreOptions options, CoreHost& host)
    : options_(std::move(options)), host_(host) {}

NodeCore::~NodeCore() = default;

void NodeCore::start(int64_t now) {
  started_ = true;
  startedAt_ = now;
  installPlanetRoots(now);
  lastHousekeeping_ = 0;
  processTimers(now);
}

void NodeCore::installPlanetRoots(int64_t now) {
  rootAddresses_.clear();
  planetBytes_ = options_.planet.serialize();
  for (auto& [addr, peer] : peers_) peer->isRoot = false;
  for (const auto& root : options_.planet.roots()) {
    const uint64_t addr = root.identity.address();
    rootAddresses_.push_back(addr);
    if (addr == address()) continue;
    Peer* p = peer(addr);
    if (p == nullptr || !p->identity().samePublic(root.identity)) {
      // Roots come from a signed planet: their identities need no address proof.
      uint8_t key[kAgreedKeyLen];
      if (!options_.identity.agree(root.identity, key)) continue;
      peers_.erase(addr);
      p = &learnPeer(now, root.identity, key);
      crypto::wipe(key, sizeof key);
    }
    p->isRoot = true;
  }
}

bool NodeCore::isRootAddress(uint64_t addr) const {
  return std::find(rootAddresses_.begin(), rootAddresses_.end(), addr) != rootAddresses_.end();
}

bool NodeCore::isRootEndpointIp(uint64_t root, const InetAddress& at) const {
  for (const auto& r : options_.planet.roots()) {
    if (r.identity.address() != root) continue;
    if (r.stableEndpoints.empty()) return true;
    for (const auto& ep : r.stableEndpoints)
      if (ep.sameIp(at)) return true;
  }
  return false;
}

CoreTableSizes NodeCore::tableSizes() const {
  CoreTableSizes t;
  t.peers = peers_.size();
  t.pendingIdentities = pending_.size();
  t.rejectedIdentities = rejectedIdentities_.size();
  t.queuedReceives = rxQueue_.size();
  t.queuedSends = txQueue_.size();
  t.whois = whois_.size();
  t.expectedReplies = expectedReplies_.size();
  t.fragmentsInFlight = reassembler_.inFlight();
  t.heldFrames = heldFrames_.size();
  return t;
}

Peer* NodeCore::peer(uint64_t addr) {
  auto it = peers_.find(addr);
  return it == peers_.end() ? nullptr : it->second.get();
}

Peer& NodeCore::learnPeer(int64_t now, const Identity& identity, const uint8_t key[kAgreedKeyLen]) {
  auto& slot = peers_[identity.address()];
  slot = std::make_unique<Peer>(identity, key);
  slot->isRoot = isRootAddress(identity.address());
  event(CoreEvent::Type::kPeerLearned, identity.address());
  return *slot;
}

void NodeCore::event(CoreEvent::Type type, uint64_t addr, const InetAddress& path, int64_t value,
                     std::vector<uint8_t> data) {
  CoreEvent e;
  e.type = type;
  e.address = addr;
  e.path = path;
  e.value = value;
  e.data = std::move(data);
  host_.onEvent(std::move(e));
}

// ---- receive ------------------------------------------------------------------------

void NodeCore::processDatagram(int64_t now, int64_t localSocket, const InetAddress& from,
                               const uint8_t* data, size_t len) {
  ++counters_.datagramsIn;
  if (isFragment(data, len)) {
    const uint64_t dest = util::readBigEndian(data + proto::kIdxDest, 5);
    if (dest != address()) {
      if (options_.root) {
        std::vector<uint8_t> copy(data, data + len);
        relay(now, copy.data(), copy.size(), true);
      } else {
        counters_.drop(Drop::kNotForUs);
      }
      return;
    }
    std::vector<uint8_t> whole;
    afterReassembly(reassembler_.addFragment(data, len, now, whole), now, localSocket, from, whole);
    return;
  }
  if (len < proto::kHeaderLen) {
    counters_.drop(Drop::kTooShort);
    return;
  }
  HeaderView h{data};
  if (h.source() == address()) {
    counters_.drop(Drop::kFromSelf);
    return;
  }
  if (h.dest() != address()) {
    if (options_.root) {
      std::vector<uint8_t> copy(data, data + len);
      relay(now, copy.data(), copy.size(), false);
    } else {
      counters_.drop(Drop::kNotForUs);
    }
    return;
  }
  std::vector<uint8_t> packet(data, data + len);
  if (h.fragmented()) {
    std::vector<uint8_t> whole;
    afterReassembly(reassembler_.addHead(packet.data(), packet.size(), now, whole), now,
                    localSocket, from, whole);
    return;
  }
  handlePacket(now, localSocket, from, packet);
}

void NodeCore::countReassemblyDrops() {
  // The reassembler keeps totals; the drop counters follow them.
  auto& evicted = counters_.dropped[static_cast<size_t>(Drop::kFragmentEvicted)];
  auto& timedOut = counters_.dropped[static_cast<size_t>(Drop::kFragmentTimeout)];
  evicted = reassembler_.evicted();
  timedOut = reassembler_.timedOut();
}

void NodeCore::afterReassembly(Reassembler::Result result, int64_t now, int64_t localSocket,
                               const InetAddress& from, std::vector<uint8_t>& whole) {
  countReassemblyDrops();
  if (result == Reassembler::Result::kComplete) handlePacket(now, localSocket, from, whole);
  if (result == Reassembler::Result::kDropped) counters_.drop(Drop::kBadFragment);
}

void NodeCore::handlePacket(int64_t now, int64_t localSocket, const InetAddress& from,
                            std::vector<uint8_t>& packet) {
  ++counters_.packetsIn;
  HeaderView h{packet.data()};
  if (h.cipher() == proto::kCipherPoly1305None &&
      (packet[proto::kIdxVerb] & proto::kMaskVerb) == static_cast<uint8_t>(proto::Verb::kHello)) {
    handleHello(now, localSocket, from, packet);
    return;
  }
  const uint64_t source = h.source();
  Peer* p = peer(source);
  if (p == nullptr) {
    if (rxQueue_.size() >= kMaxQueued) {
      counters_.drop(Drop::kUnknownPeerQueueFull);
      return;
    }
    rxQueue_.push_back({localSocket, from, std::move(packet), now});
    askWhois(now, source);
    return;
  }
  switch (dearmor(packet.data(), packet.size(), p->key())) {
    case DearmorResult::kOk:
      break;
    case DearmorResult::kUnsupportedCipher:
      counters_.drop(Drop::kUnsupportedCipher);
      return;
    default:
      counters_.drop(Drop::kBadMac);
      return;
  }
  if (p->seenBefore(h.packetId())) {
    counters_.drop(Drop::kReplayed);
    return;
  }
  if (!uncompressPayload(packet)) {
    counters_.drop(Drop::kBadCompression);
    return;
  }
  handleAuthenticated(now, *p, localSocket, from, packet);
}

// ---- send ---------------------------------------------------------------------------

void NodeCore::transmit(int64_t localSocket, const InetAddress& to, const uint8_t* packet,
                        size_t len, size_t mtu) {
  if (mtu == 0) mtu = options_.physicalMtu;
  forEachDatagram(packet, len, mtu, [&](const uint8_t* d, size_t n) {
    host_.sendDatagram(localSocket, to, d, n);
    ++counters_.datagramsOut;
  });
}

Peer* NodeCore::bestRoot(int64_t now) {
  Peer* best = nullptr;
  for (uint64_t addr : rootAddresses_) {
    Peer* r = peer(addr);
    if (r == nullptr) continue;
    if (r->bestPath(now) == nullptr) continue;
    if (best == nullptr || r->lastReceive > best->lastReceive) best = r;
  }
  return best;
}

size_t NodeCore::mtuFor(const InetAddress& to) const {
  // Lab mode on loopback: the kernel carries any datagram whole and only our own nodes
  // use such paths (stock nodes refuse loopback), so a packet goes as one datagram, not
  // a head and fragments: half the datagrams for a full-size frame.
  if (options_.lab && to.isLoopback()) return proto::kMaxPacketLen;
  return options_.physicalMtu;
}

void NodeCore::sendArmored(int64_t now, Peer& p, std::vector<uint8_t>& packet, bool wantReply,
                           unsigned cipher) {
  // Where it goes decides whether it is fragmented, which the MAC covers: choose first.
  Path* path = p.bestPath(now);
  Path* relay = nullptr;
  if (path == nullptr && !p.isRoot) {
    if (Peer* r = bestRoot(now)) relay = r->bestPath(now);
  }
  const Path* via = path != nullptr ? path : relay;
  const size_t mtu = via != nullptr ? mtuFor(via->remote) : options_.physicalMtu;
  armor(packet.data(), packet.size(), p.key(), cipher, packet.size() > mtu);
  if (wantReply) expectReply(HeaderView{packet.data()}.packetId(), now);
  ++counters_.packetsOut;
  p.lastSend = now;
  if (path != nullptr) {
    path->lastSend = now;
    transmit(path->localSocket, path->remote, packet.data(), packet.size(), mtu);
    return;
  }
  if (p.isRoot) {
    // No confirmed path to a root yet: try the planet's stable endpoints.
    for (const auto& root : options_.planet.roots()) {
      if (root.identity.address() != p.address()) continue;
      for (const auto& ep : root.stableEndpoints)
        if (usablePath(ep)) transmit(-1, ep, packet.data(), packet.size(), mtu);
    }
    return;
  }
  // No direct path: the best root relays by destination address.
  if (relay != nullptr) {
    relay->lastSend = now;
    transmit(relay->localSocket, relay->remote, packet.data(), packet.size(), mtu);
  }
}

bool NodeCore::sendToPeer(int64_t now, uint64_t dest, proto::Verb verb,
                          const std::vector<uint8_t>& payload, bool wantReply) {
  if (dest == address() || isReservedAddress(dest)) return false;
  Peer* p = peer(dest);
  if (p == nullptr) {
    if (txQueue_.size() >= kMaxQueued) return false;
    txQueue_.push_back({dest, verb, payload, wantReply, now});
    askWhois(now, dest);
    return true;
  }
  if ((verb == proto::Verb::kFrame || verb == proto::Verb::kMulticastFrame) &&
      payload.size() >= 8) {
    // Peers on private networks drop frames until they hold our COM: send it first.
    auto it = networks_.find(util::readBigEndian(payload.data(), 8));
    if (it != networks_.end() && it->second->isPrivate()) pushCredentials(now, *it->second, *p);
  }
  std::vector<uint8_t> packet;
  packet.reserve(proto::kHeaderLen + payload.size());
  beginPacket(packet, host_.random64(), dest, address(), verb);
  packet.insert(packet.end(), payload.begin(), payload.end());
  sendArmored(now, *p, packet, wantReply);
  return true;
}

// An ECHO on one direct path: the peer's OK keeps the path alive and measures it.
void NodeCore::echoOnPath(int64_t now, Peer& p, Path& path) {
  std::vector<uint8_t> packet;
  beginPacket(packet, host_.random64(), p.address(), address(), proto::Verb::kEcho);
  armor(packet.data(), packet.size(), p.key(), proto::kCipherPoly1305Salsa2012, false);
  expectReply(HeaderView{packet.data()}.packetId(), now);
  path.lastSend = now;
  transmit(path.localSocket, path.remote, packet.data(), packet.size());
}

void NodeCore::sendEcho(int64_t now, uint64_t dest, const uint8_t* payload, size_t len) {
  sendToPeer(now, dest, proto::Verb::kEcho, std::vector<uint8_t>(payload, payload + len), true);
}

void NodeCore::probePeer(int64_t now, uint64_t dest) {
  Peer* p = peer(dest);
  if (p == nullptr || p->isRoot) {
    sendEcho(now, dest, nullptr, 0);
    return;
  }
  std::vector<InetAddress> via;
  for (const auto& path : p->paths()) via.push_back(path.remote);
  if (Peer* r = bestRoot(now)) {
    if (const Path* rp = r->bestPath(now)) via.push_back(rp->remote);
  }
  for (const auto& to : via) {
    std::vector<uint8_t> packet;
    beginPacket(packet, host_.random64(), dest, address(), proto::Verb::kEcho);
    armor(packet.data(), packet.size(), p->key(), proto::kCipherPoly1305Salsa2012, false);
    expectReply(HeaderView{packet.data()}.packetId(), now);
    ++counters_.packetsOut;
    transmit(-1, to, packet.data(), packet.size());
  }
  p->lastSend = now;
}

void NodeCore::peerReturned(uint64_t dest, int64_t since) {
  Peer* p = peer(dest);
  if (p == nullptr) return;
  dropPathsHeardBefore(*p, since);
  forgetCredentialsPushed(dest);
}

void NodeCore::dropPathsHeardBefore(Peer& p, int64_t before) {
  auto& paths = p.paths();
  for (auto it = paths.begin(); it != paths.end();) {
    if (it->lastReceive >= before) {
      ++it;
      continue;
    }
    const InetAddress gone = it->remote;
    it = paths.erase(it);
    event(CoreEvent::Type::kPathLost, p.address(), gone);
  }
}

void NodeCore::forgetCredentialsPushed(uint64_t peerAddress) {
  for (auto& [nwid, net] : networks_) {
    auto m = net->members.find(peerAddress);
    if (m != net->members.end()) m->second.credentialsPushed = 0;
  }
}

void NodeCore::sendOk(int64_t now, Peer& p, proto::Verb inReVerb, uint64_t inRe,
                      const std::vector<uint8_t>& body, int64_t localSocket,
                      const InetAddress* to) {
  std::vector<uint8_t> packet;
  beginPacket(packet, host_.random64(), p.address(), address(), proto::Verb::kOk);
  util::Writer w(packet);
  w.u8(static_cast<uint8_t>(inReVerb));
  w.u64(inRe);
  w.bytes(body.data(), body.size());
  if (to == nullptr) {
    sendArmored(now, p, packet, false);
    return;
  }
  // Replies to HELLO go back the way the HELLO came, so the sender learns that path.
  armor(packet.data(), packet.size(), p.key(), proto::kCipherPoly1305Salsa2012,
        packet.size() > options_.physicalMtu);
  ++counters_.packetsOut;
  p.lastSend = now;
  transmit(localSocket, *to, packet.data(), packet.size());
}

void NodeCore::sendError(int64_t now, Peer& p, proto::Verb inReVerb, uint64_t inRe,
                         proto::ErrorCode code, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> packet;
  beginPacket(packet, host_.random64(), p.address(), address(), proto::Verb::kError);
  util::Writer w(packet);
  w.u8(static_cast<uint8_t>(inReVerb));
  w.u64(inRe);
  w.u8(static_cast<uint8_t>(code));
  w.bytes(body.data(), body.size());
  sendArmored(now, p, packet, false);
}

void NodeCore::sendHello(int64_t now, Peer& p, int64_t localSocket, const InetAddress& to) {
  std::vector<uint8_t> packet;
  beginPacket(packet, host_.random64(), p.address(), address(), proto::Verb::kHello);
  util::Writer w(packet);
  w.u8(proto::kProtocolVersion);
  w.u8(proto::kSoftwareMajor);
  w.u8(proto::kSoftwareMinor);
  w.u16(proto::kSoftwareRevision);
  w.u64(static_cast<uint64_t>(now));
  uint8_t id[kIdentityBinaryPublicLen];
  options_.identity.toBinary(id, sizeof id, false);
  w.bytes(id, sizeof id);
  to.write(w);
  w.u64(options_.planet.id());
  w.u64(options_.planet.timestamp());
  const size_t tail = packet.size();
  w.u16(0);  // no moons
  cryptHelloTail(packet.data(), packet.size(), tail, p.key());
  armor(packet.data(), packet.size(), p.key(), proto::kCipherPoly1305None, false);
  expectReply(HeaderView{packet.data()}.packetId(), now);
  ++counters_.packetsOut;
  p.lastSend = now;
  p.lastHelloSent = now;
  if (Path* path = p.findPath(localSocket, to)) {
    path->lastSend = now;
    path->lastHelloSent = now;
  }
  transmit(localSocket, to, packet.data(), packet.size());
}

void NodeCore::pushDirectPaths(int64_t now, Peer& p) {
  std::vector<InetAddress> mine;
  for (const auto& [reporter, seen] : external_)
    if (usablePath(seen) && std::find(mine.begin(), mine.end(), seen) == mine.end())
      mine.push_back(seen);
  if (mine.empty()) return;
  std::vector<uint8_t> payload;
  util::Writer w(payload);
  w.u16(static_cast<uint16_t>(mine.size()));
  for (const auto& a : mine) {
    w.u8(0);   // flags
    w.u16(0);  // no extensions
    w.u8(a.isV4() ? 4 : 6);
    w.u8(static_cast<uint8_t>(a.ipLength() + 2));
    w.bytes(a.ip(), a.ipLength());
    w.u16(a.port());
  }
  sendToPeer(now, p.address(), proto::Verb::kPushDirectPaths, payload);
}

void NodeCore::askWhois(int64_t now, uint64_t addr) {
  if (rejectedIdentities_.count(addr) != 0 || pending_.count(addr) != 0) return;
  auto& w = whois_[addr];
  if (w.firstAsked == 0) w.firstAsked = now;
  if (w.lastSent != 0 && now - w.lastSent < timing::kWhoisRetryMs) return;
  Peer* r = bestRoot(now);
  if (r == nullptr) return;  // retried by the timers once a root answers
  w.lastSent = now;
  std::vector<uint8_t> payload(5);
  util::writeBigEndian(payload.data(), addr, 5);
  std::vector<uint8_t> packet;
  beginPacket(packet, host_.random64(), r->address(), address(), proto::Verb::kWhois);
  packet.insert(packet.end(), payload.begin(), payload.end());
  sendArmored(now, *r, packet, true);
}

// ---- bookkeeping --------------------------------------------------------------------

void NodeCore::expectReply(uint64_t packetId, int64_t now) {
  expectedReplies_[packetId] = now;
}

int64_t NodeCore::takeExpectedReply(uint64_t packetId, int64_t now) {
  auto it = expectedReplies_.find(packetId);
  if (it == expectedReplies_.end() || now - it->second > kExpectedReplyTtlMs) return -1;
  // Several OKs may answer one request (GATHER, HELLO to several paths): keep the entry.
  return it->second;
}

void NodeCore::flushQueues(int64_t now, uint64_t addr) {
  whois_.erase(addr);
  std::deque<QueuedSend> sends;
  for (auto it = txQueue_.begin(); it != txQueue_.end();) {
    if (it->dest == addr) {
      sends.push_back(std::move(*it));
      it = txQueue_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& s : sends) sendToPeer(now, s.dest, s.verb, s.payload, s.expectReply);
  std::deque<QueuedReceive> receives;
  for (auto it = rxQueue_.begin(); it != rxQueue_.end();) {
    if (HeaderView{it->packet.data()}.source() == addr) {
      receives.push_back(std::move(*it));
      it = rxQueue_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& r : receives) handlePacket(now, r.localSocket, r.from, r.packet);
}

void NodeCore::identityChecked(int64_t now, const Identity& identity, bool valid) {
  auto it = pending_.find(identity.address());
  if (it == pending_.end() || !it->second.identity.samePublic(identity)) return;
  PendingIdentity pending = std::move(it->second);
  pending_.erase(it);
  if (!valid) {
    counters_.drop(Drop::kInvalidIdentity);
    rejectedIdentities_[identity.address()] = now;
    return;
  }
  uint8_t key[kAgreedKeyLen];
  if (!options_.identity.agree(identity, key)) {
    counters_.drop(Drop::kInvalidIdentity);
    return;
  }
  Peer& p = learnPeer(now, identity, key);
  crypto::wipe(key, sizeof key);
  for (auto& hello : pending.hellos)
    answerHello(now, p, hello.localSocket, hello.from, hello.packet);
  flushQueues(now, identity.address());
}

}  // namespace zts::vl1
