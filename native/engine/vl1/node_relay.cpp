// NodeCore's root role: forwarding packets and fragments between peers by destination
// address, and introducing the two ends to each other with RENDEZVOUS (protocol.md §9).
#include "../util/buffer.h"
#include "../util/hex.h"
#include "node_core.h"

namespace zts::vl1 {

void NodeCore::relay(int64_t now, uint8_t* data, size_t len, bool fragment) {
  const uint64_t dest = util::readBigEndian(data + proto::kIdxDest, 5);
  // Fragments keep their hop count in byte 15, whole packets in the flags byte.
  uint8_t& hopsByte = fragment ? data[15] : data[proto::kIdxFlags];
  const unsigned hops = (hopsByte & proto::kMaskHops) + 1;
  if (hops > proto::kMaxHops) {
    counters_.drop(Drop::kRelayHopLimit);
    return;
  }
  hopsByte = static_cast<uint8_t>((hopsByte & ~proto::kMaskHops) | hops);
  Peer* to = peer(dest);
  Path* path = to != nullptr ? to->bestPath(now) : nullptr;
  if (path == nullptr) {
    counters_.drop(Drop::kRelayUnknownDestination);
    return;
  }
  host_.sendDatagram(path->localSocket, path->remote, data, len);
  ++counters_.datagramsOut;
  ++counters_.relayed;
  if (fragment || hops != 1) return;

  // First hop of a packet between two peers we know: tell each where the other is.
  const uint64_t source = util::readBigEndian(data + proto::kIdxSource, 5);
  Peer* src = peer(source);
  Path* srcPath = src != nullptr ? src->bestPath(now) : nullptr;
  if (srcPath == nullptr) return;
  // Once per pair and interval, unless either has moved since (a restarted process on a new
  // port, a NAT that took a new one): then the last introduction is stale, introduce again.
  const bool sourceFirst = source < dest;
  auto key = std::make_pair(std::min(source, dest), std::max(source, dest));
  const auto endpoints = sourceFirst ? std::make_pair(srcPath->remote, path->remote)
                                     : std::make_pair(path->remote, srcPath->remote);
  auto it = rendezvousSent_.find(key);
  if (it != rendezvousSent_.end() && now - it->second.at < timing::kRendezvousIntervalMs &&
      it->second.endpoints == endpoints)
    return;
  rendezvousSent_[key] = {now, endpoints};
  auto introduce = [&](Peer& tell, uint64_t about, const InetAddress& at) {
    std::vector<uint8_t> payload;
    util::Writer w(payload);
    w.u8(0);
    w.u40(about);
    w.u16(at.port());
    w.u8(static_cast<uint8_t>(at.ipLength()));
    w.bytes(at.ip(), at.ipLength());
    std::vector<uint8_t> packet;
    beginPacket(packet, host_.random64(), tell.address(), address(), proto::Verb::kRendezvous);
    packet.insert(packet.end(), payload.begin(), payload.end());
    sendArmored(now, tell, packet, false);
  };
  introduce(*to, source, srcPath->remote);
  introduce(*src, dest, path->remote);
}

}  // namespace zts::vl1
