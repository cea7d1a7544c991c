// NodeCore's multicast (VL2): announcing our groups (LIKE), finding members (GATHER), and
// sending and receiving MULTICAST_FRAME (protocol.md §3.7, §3.10, §3.11, §7.2, §9).
#include <algorithm>

#include "../util/buffer.h"
#include "../util/hex.h"
#include "../vl1/node_core.h"

namespace zts::vl1 {
namespace {
constexpr size_t kMaxPendingMulticast = 32;
constexpr uint32_t kMaxGatherAnswer = 255;

void writeMac(util::Writer& w, uint64_t mac) {
  uint8_t b[6];
  vl2::macToBytes(mac, b);
  w.bytes(b, 6);
}
}  // namespace

void NodeCore::announceMulticast(int64_t now, vl2::Network& net) {
  net.lastAnnounce = now;
  auto groups = net.subscriptions();
  if (net.config && net.config->multicastLimit > 0) {
    for (const auto& [group, count] : localGroups_) groups.push_back(group);
  }
  if (groups.empty()) return;
  std::vector<uint8_t> payload;
  util::Writer w(payload);
  for (const auto& g : groups) {
    w.u64(net.id());
    writeMac(w, g.mac);
    w.u32(g.adi);
  }
  // Roots and the controller answer GATHERs for the network; members we already talk to
  // learn our groups directly.
  std::vector<uint64_t> to(rootAddresses_.begin(), rootAddresses_.end());
  to.push_back(net.controller());
  for (const auto& [addr, m] : net.members)
    if (m.com) to.push_back(addr);
  std::sort(to.begin(), to.end());
  to.erase(std::unique(to.begin(), to.end()), to.end());
  for (uint64_t addr : to)
    if (addr != address()) sendToPeer(now, addr, proto::Verb::kMulticastLike, payload);
}

void NodeCore::joinGroup(int64_t now, const vl2::MulticastGroup& group) {
  if (++localGroups_[group] > 1) return;
  for (auto& [nwid, net] : networks_) {
    if (net->status == vl2::NetworkStatus::kOk) announceMulticast(now, *net);
  }
}

void NodeCore::leaveGroup(const vl2::MulticastGroup& group) {
  auto it = localGroups_.find(group);
  if (it != localGroups_.end() && --it->second <= 0) localGroups_.erase(it);
}

void NodeCore::gather(int64_t now, vl2::Network& net, const vl2::MulticastGroup& group) {
  auto& last = net.lastGather[group];
  const bool waiting = std::any_of(net.pendingMulticast.begin(), net.pendingMulticast.end(),
                                   [&](const auto& m) { return m.group == group; });
  const int64_t interval =
      waiting ? vl2::timing::kGatherWhileWaitingMs : vl2::timing::kGatherIntervalMs;
  if (last != 0 && now - last < interval) return;
  Peer* root = bestRoot(now);
  // Not online yet (just started): nobody to ask. Not stamped, so the next call asks: the
  // housekeeping tick while frames wait, and the moment a root answers (updateOnline).
  if (root == nullptr && waiting) return;
  last = now;
  std::vector<uint8_t> payload;
  util::Writer w(payload);
  w.u64(net.id());
  w.u8(0);
  writeMac(w, group.mac);
  w.u32(group.adi);
  w.u32(static_cast<uint32_t>(net.config ? net.config->multicastLimit : 32));
  if (root != nullptr)
    sendToPeer(now, root->address(), proto::Verb::kMulticastGather, payload, true);
  if (net.controller() != address())
    sendToPeer(now, net.controller(), proto::Verb::kMulticastGather, payload, true);
}

void NodeCore::gatherForWaitingFrames(int64_t now) {
  for (auto& [nwid, net] : networks_)
    for (const auto& m : net->pendingMulticast) gather(now, *net, m.group);
}

void NodeCore::sendMulticast(int64_t now, vl2::Network& net, const vl2::MulticastGroup& group,
                             uint64_t src, uint16_t etherType, const uint8_t* data, size_t len) {
  const uint64_t limit = net.config ? net.config->multicastLimit : 0;
  if (limit == 0) {
    counters_.drop(Drop::kNoMulticastRecipients);
    return;
  }
  const auto to = net.recipients(group, now, 0, limit);
  if (to.empty()) {
    // Nobody known yet: ask, and send once the answer comes (ARP would retry anyway).
    if (net.pendingMulticast.size() >= kMaxPendingMulticast) net.pendingMulticast.pop_front();
    net.pendingMulticast.push_back(
        {group, src, etherType, std::vector<uint8_t>(data, data + len), now});
    gather(now, net, group);
    return;
  }
  std::vector<uint8_t> payload;
  payload.reserve(len + 40);
  util::Writer w(payload);
  w.u64(net.id());
  w.u8(0);  // flags: no COM, no gather limit, our own source MAC
  writeMac(w, group.mac);
  w.u32(group.adi);
  w.u16(etherType);
  w.bytes(data, len);
  for (uint64_t addr : to) sendToPeer(now, addr, proto::Verb::kMulticastFrame, payload);
  if (to.size() < limit) gather(now, net, group);
}

void NodeCore::handleMulticastLike(int64_t now, Peer& p, util::Reader& r) {
  while (r.remaining() >= 18) {
    const uint64_t nwid = r.u64();
    const uint8_t* mac = r.bytes(6);
    const uint32_t adi = r.u32();
    const vl2::MulticastGroup group{vl2::macFromBytes(mac), adi};
    if (options_.root) rootLikes_[{nwid, group}][p.address()] = now;
    auto it = networks_.find(nwid);
    if (it == networks_.end()) continue;
    vl2::Network& net = *it->second;
    // Members take LIKEs only from peers allowed on the network (stock does the same).
    if (!net.allows(p.address(), p.identity())) continue;
    net.groupMembers[group][p.address()] = now;
  }
}

void NodeCore::handleMulticastGather(int64_t now, Peer& p, uint64_t packetId, util::Reader& r) {
  const uint64_t nwid = r.u64();
  const uint8_t flags = r.u8();
  const uint8_t* mac = r.bytes(6);
  const uint32_t adi = r.u32();
  const uint32_t wanted = r.u32();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  (void)flags;  // an attached COM (deprecated) is ignored
  const vl2::MulticastGroup group{vl2::macFromBytes(mac), adi};
  std::vector<uint64_t> found;
  if (options_.root) {
    auto it = rootLikes_.find({nwid, group});
    if (it != rootLikes_.end())
      for (const auto& [addr, at] : it->second)
        if (addr != p.address() && now - at < vl2::timing::kMulticastLikeExpiryMs)
          found.push_back(addr);
  } else if (auto it = networks_.find(nwid); it != networks_.end()) {
    if (!it->second->allows(p.address(), p.identity())) return;
    found = it->second->recipients(group, now, p.address(), kMaxGatherAnswer);
  }
  if (found.empty()) return;
  const size_t count = std::min<size_t>(found.size(), std::min(wanted, kMaxGatherAnswer));
  std::vector<uint8_t> body;
  util::Writer w(body);
  w.u64(nwid);
  writeMac(w, group.mac);
  w.u32(group.adi);
  w.u32(static_cast<uint32_t>(found.size()));
  w.u16(static_cast<uint16_t>(count));
  for (size_t i = 0; i < count; ++i) w.u40(found[i]);
  sendOk(now, p, proto::Verb::kMulticastGather, packetId, body);
}

void NodeCore::handleGatherResults(int64_t now, util::Reader& r, bool fromMulticastFrameOk) {
  const uint64_t nwid = r.u64();
  const uint8_t* mac = r.bytes(6);
  const uint32_t adi = r.u32();
  if (fromMulticastFrameOk) {
    const uint8_t flags = r.u8();
    if ((flags & 0x02) == 0) return;
  }
  r.u32();  // total known to the answerer
  const uint16_t count = r.u16();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  auto it = networks_.find(nwid);
  if (it == networks_.end()) return;
  vl2::Network& net = *it->second;
  const vl2::MulticastGroup group{vl2::macFromBytes(mac), adi};
  auto& members = net.groupMembers[group];
  for (uint16_t i = 0; i < count && r.remaining() >= 5; ++i) {
    const uint64_t addr = r.u40();
    if (addr != address()) members[addr] = now;
  }
  // Frames that waited for members of this group can go now.
  std::deque<vl2::Network::PendingMulticast> waiting;
  waiting.swap(net.pendingMulticast);
  for (auto& m : waiting) {
    if (m.group == group) {
      sendMulticast(now, net, m.group, m.source, m.etherType, m.payload.data(), m.payload.size());
    } else {
      net.pendingMulticast.push_back(std::move(m));
    }
  }
}

void NodeCore::handleMulticastFrame(int64_t now, Peer& p, util::Reader& r) {
  const uint64_t nwid = r.u64();
  const uint8_t flags = r.u8();
  if ((flags & 0x01) != 0 && !vl2::CertificateOfMembership::read(r)) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  if ((flags & 0x02) != 0) r.u32();  // gather limit: we do not answer with members
  uint64_t src = vl2::macFor(p.address(), nwid);
  // bytes() is nullptr on a short payload: convert the MACs only once r.ok() holds.
  const uint8_t* srcBytes = (flags & 0x04) != 0 ? r.bytes(6) : nullptr;
  const uint8_t* dstBytes = r.bytes(6);
  r.u32();  // ADI: the group's qualifier, not needed to deliver
  const uint16_t etherType = r.u16();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  if (srcBytes != nullptr) src = vl2::macFromBytes(srcBytes);
  vl2::Network* found = joinedNetwork(nwid);
  if (found == nullptr) return;
  vl2::Network& net = *found;
  if (!net.config || net.config->multicastLimit == 0) {
    counters_.drop(Drop::kNoMulticastRecipients);
    return;
  }
  if (!admitFrom(now, net, p)) return;
  const uint64_t dst = vl2::macFromBytes(dstBytes);
  if (!vl2::isMulticastMac(dst) || src == net.myMac() || src != vl2::macFor(p.address(), nwid)) {
    counters_.drop(Drop::kMalformed);  // only peers' own MACs: we bridge nothing
    return;
  }
  deliverFrame(now, net, p, dst, src, etherType, r.cursor(), r.remaining());
}

}  // namespace zts::vl1
