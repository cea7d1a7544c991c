// NodeCore's network layer (VL2): joining, configs from the controller, credentials, and
// unicast frames between our tap and peers (protocol.md §3.4-§3.9, §5). NodeCore is one
// class with VL1 (node_core.h); its VL2 half lives here, with the rest of VL2.
#include "../crypto/primitives.h"
#include "../util/buffer.h"
#include "../util/hex.h"
#include "../vl1/node_core.h"
#include "credentials.h"
#include "dictionary.h"

namespace zts::vl1 {

using vl2::NetworkStatus;

namespace {
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr vl2::Mac kBroadcast = 0xffffffffffffULL;
}  // namespace

vl2::Network* NodeCore::joinedNetwork(uint64_t nwid) {
  auto it = networks_.find(nwid);
  if (it != networks_.end()) return it->second.get();
  counters_.drop(Drop::kNoSuchNetwork);
  return nullptr;
}

vl2::Network* NodeCore::admittedNetwork(int64_t now, uint64_t nwid, Peer& p) {
  vl2::Network* net = joinedNetwork(nwid);
  return net != nullptr && admitFrom(now, *net, p) ? net : nullptr;
}

const vl2::Network* NodeCore::network(uint64_t nwid) const {
  auto it = networks_.find(nwid);
  return it == networks_.end() ? nullptr : it->second.get();
}

void NodeCore::setStatus(vl2::Network& net, NetworkStatus status) {
  const bool changed = net.status != status;
  net.status = status;
  if (!changed && status != NetworkStatus::kRequestingConfiguration) return;
  CoreEvent e;
  e.type = CoreEvent::Type::kNetworkStatus;
  e.network = net.id();
  e.value = static_cast<int64_t>(status);
  host_.onEvent(std::move(e));
}

bool NodeCore::join(int64_t now, uint64_t nwid, const std::vector<uint8_t>* cachedConfig) {
  if (networks_.count(nwid) != 0) return false;
  auto& net = *(networks_[nwid] = std::make_unique<vl2::Network>(nwid, address()));
  if (net.adhoc()) {
    auto cfg = vl2::makeAdhocConfig(nwid, address(), static_cast<uint64_t>(now));
    if (!cfg) {
      setStatus(net, NetworkStatus::kNotFound);
      return true;
    }
    const auto dict = cfg->serialize();
    adoptConfig(now, net, std::move(*cfg), dict);
    return true;
  }
  setStatus(net, NetworkStatus::kRequestingConfiguration);
  if (cachedConfig != nullptr) {
    auto cfg = vl2::NetworkConfig::parse(cachedConfig->data(), cachedConfig->size());
    if (cfg && cfg->isFor(nwid, address())) adoptConfig(now, net, std::move(*cfg), *cachedConfig);
  }
  requestConfig(now, net);
  return true;
}

void NodeCore::leave(int64_t now, uint64_t nwid) {
  if (networks_.erase(nwid) == 0) return;
  CoreEvent e;
  e.type = CoreEvent::Type::kNetworkLeft;
  e.network = nwid;
  host_.onEvent(std::move(e));
}

void NodeCore::requestConfig(int64_t now, vl2::Network& net) {
  net.lastConfigRequest = now;
  // What stock 1.14 clients say about themselves; revr=1 asks for the full rules table.
  vl2::Dictionary md;
  md.addUInt("v", 7);
  md.addUInt("vend", 1);
  md.addUInt("pv", proto::kProtocolVersion);
  md.addUInt("majv", proto::kSoftwareMajor);
  md.addUInt("minv", proto::kSoftwareMinor);
  md.addUInt("revv", proto::kSoftwareRevision);
  md.addUInt("mr", 1024);
  md.addUInt("mc", 128);
  md.addUInt("mcr", 64);
  md.addUInt("mt", 128);
  md.addUInt("f", 0);
  md.addUInt("revr", 1);
  md.add("o", "linux/x86_64");
  const auto mdBytes = md.serialize();
  std::vector<uint8_t> payload;
  util::Writer w(payload);
  w.u64(net.id());
  w.u16(static_cast<uint16_t>(mdBytes.size()));
  w.bytes(mdBytes.data(), mdBytes.size());
  w.u64(net.config ? net.config->revision : 0);
  w.u64(net.config ? net.config->timestamp : 0);
  sendToPeer(now, net.controller(), proto::Verb::kNetworkConfigRequest, payload, true);
}

void NodeCore::adoptConfig(int64_t now, vl2::Network& net, vl2::NetworkConfig cfg,
                           const std::vector<uint8_t>& dict) {
  net.apply(std::move(cfg), now);
  setStatus(net, NetworkStatus::kOk);
  CoreEvent e;
  e.type = CoreEvent::Type::kNetworkConfig;
  e.network = net.id();
  e.data = dict;
  host_.onEvent(std::move(e));
  announceMulticast(now, net);
  // A new config brings a new COM: members we talk to get it now, as stock nodes do
  // (pushCredentials keeps to one push per second per peer).
  for (auto& [addr, m] : net.members) {
    if (m.credentialsPushed == 0) continue;
    if (Peer* p = peer(addr)) pushCredentials(now, net, *p);
  }
}

void NodeCore::handleConfigChunk(int64_t now, Peer& p, util::Reader& r, bool pushed,
                                 uint64_t inRe) {
  auto chunk = vl2::ConfigChunk::parse(r.cursor(), r.remaining());
  if (!chunk) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  auto it = networks_.find(chunk->networkId);
  if (it == networks_.end()) {
    counters_.drop(Drop::kNoSuchNetwork);
    return;
  }
  vl2::Network& net = *it->second;
  if (p.address() != net.controller()) {
    counters_.drop(Drop::kNotFromController);
    return;
  }
  if (chunk->isSigned && !chunk->verify(p.identity())) {
    counters_.drop(Drop::kBadConfig);
    return;
  }
  if (pushed) {
    // Stock nodes acknowledge a pushed config with an OK that names ECHO as its verb.
    std::vector<uint8_t> body;
    util::Writer w(body);
    w.u64(net.id());
    w.u64(chunk->updateId);
    sendOk(now, p, proto::Verb::kEcho, inRe, body);
  }
  auto dict = net.assembler.add(*chunk);
  if (!dict) return;
  auto cfg = vl2::NetworkConfig::parse(dict->data(), dict->size());
  if (!cfg || !cfg->isFor(net.id(), address())) {
    counters_.drop(Drop::kBadConfig);
    return;
  }
  adoptConfig(now, net, std::move(*cfg), *dict);
}

void NodeCore::handleNetworkError(int64_t now, Peer& p, uint8_t inReVerb, uint8_t code,
                                  util::Reader& r) {
  const uint64_t nwid = r.u64();
  if (!r.ok()) return;
  auto it = networks_.find(nwid);
  if (it == networks_.end()) return;
  vl2::Network& net = *it->second;
  const auto err = static_cast<proto::ErrorCode>(code);
  if (err == proto::ErrorCode::kNeedMembershipCertificate) {
    pushCredentials(now, net, p, true);
    return;
  }
  if (inReVerb != static_cast<uint8_t>(proto::Verb::kNetworkConfigRequest)) return;
  if (p.address() != net.controller()) {
    counters_.drop(Drop::kNotFromController);
    return;
  }
  switch (err) {
    case proto::ErrorCode::kObjectNotFound:
    case proto::ErrorCode::kUnsupportedOperation:
      setStatus(net, NetworkStatus::kNotFound);
      break;
    case proto::ErrorCode::kNetworkAccessDenied:
      // A member that lost access stops carrying frames at once.
      net.config.reset();
      net.rules.reset();
      setStatus(net, NetworkStatus::kAccessDenied);
      break;
    case proto::ErrorCode::kNetworkAuthenticationRequired:
      setStatus(net, NetworkStatus::kAuthenticationRequired);
      break;
    default:
      break;
  }
}

void NodeCore::pushCredentials(int64_t now, vl2::Network& net, Peer& p, bool askedFor) {
  if (!net.config || !net.config->com || p.isRoot) return;
  auto& m = net.members[p.address()];
  const bool fresh = m.pushedRevision == net.config->revision &&
                     now - m.credentialsPushed < vl2::timing::kCredentialRefreshMs;
  if (!askedFor && fresh) return;
  // The peer's NEED_CERTIFICATE says a frame of ours arrived before our last push: that push
  // was lost (or overtaken), so the answer goes at once, even right after it. Answers keep
  // to one a second of their own, so errors cannot make us push faster than that.
  int64_t& last = askedFor ? m.askedForPushAnswered : m.credentialsPushed;
  if (last != 0 && now - last < vl2::timing::kCredentialPushMinMs) return;
  last = now;
  vl2::NetworkCredentials creds;
  creds.coms.push_back(*net.config->com);
  creds.coos = net.config->coos;
  m.credentialsPushed = now;
  m.pushedRevision = net.config->revision;
  sendToPeer(now, p.address(), proto::Verb::kNetworkCredentials, creds.serialize());
}

void NodeCore::handleCredentials(int64_t now, Peer& p, util::Reader& r) {
  auto creds = vl2::NetworkCredentials::parse(r.cursor(), r.remaining());
  if (!creds) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  for (const auto& com : creds->coms) {
    auto it = networks_.find(com.networkId());
    if (it == networks_.end() || com.issuedTo() != p.address()) continue;
    vl2::Network& net = *it->second;
    Peer* controller = peer(net.controller());
    if (controller == nullptr) {
      askWhois(now, net.controller());  // the sender pushes again when we ask for it
      continue;
    }
    auto& m = net.members[p.address()];
    if (m.credentialsReceived != 0 &&
        now - m.credentialsReceived < vl2::timing::kCredentialPushMinMs) {
      counters_.drop(Drop::kRateLimited);
      continue;
    }
    if (!com.verify(controller->identity())) {
      counters_.drop(Drop::kBadConfig);
      continue;
    }
    m.com = com;
    m.credentialsReceived = now;
    releaseHeldFrames(now, p, net.id());
  }
}

bool NodeCore::admitFrom(int64_t now, vl2::Network& net, Peer& p) {
  if (net.status != NetworkStatus::kOk || !net.config) {
    counters_.drop(Drop::kNoSuchNetwork);
    return false;
  }
  if (net.allows(p.address(), p.identity())) return true;
  refusedForCredentials_ = true;  // counted as kNotAMember once dropped (handleFrameVerb)
  auto& m = net.members[p.address()];
  if (now - m.needCertificateSent >= vl2::timing::kCredentialPushMinMs) {
    m.needCertificateSent = now;
    std::vector<uint8_t> body;
    util::Writer w(body);
    w.u64(net.id());
    sendError(now, p, proto::Verb::kFrame, 0, proto::ErrorCode::kNeedMembershipCertificate, body);
    pushCredentials(now, net, p);
  }
  return false;
}

void NodeCore::deliverFrame(int64_t now, vl2::Network& net, Peer& p, uint64_t dst, uint64_t src,
                            uint16_t etherType, const uint8_t* data, size_t len) {
  if (!net.rules) {
    counters_.drop(Drop::kRulesUnsupported);
    return;
  }
  vl2::FrameMeta meta{p.address(), address(), src, dst, etherType, data, len, true};
  const auto verdict = vl2::evaluateRules(*net.rules, meta);
  if (verdict.action != vl2::RuleAction::kAccept) {
    counters_.drop(verdict.unsupported ? Drop::kRulesUnsupported : Drop::kRulesDrop);
    return;
  }
  host_.onFrame(net.id(), dst, src, etherType, data, len);
}

void NodeCore::handleFrame(int64_t now, Peer& p, util::Reader& r) {
  const uint64_t nwid = r.u64();
  const uint16_t etherType = r.u16();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  vl2::Network* found = admittedNetwork(now, nwid, p);
  if (found == nullptr) return;
  vl2::Network& net = *found;
  deliverFrame(now, net, p, net.myMac(), vl2::macFor(p.address(), nwid), etherType, r.cursor(),
               r.remaining());
}

void NodeCore::handleExtFrame(int64_t now, Peer& p, uint64_t packetId, util::Reader& r) {
  const uint64_t nwid = r.u64();
  const uint8_t flags = r.u8();
  if ((flags & 0x01) != 0 && !vl2::CertificateOfMembership::read(r)) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  const uint8_t* dstBytes = r.bytes(6);
  const uint8_t* srcBytes = r.bytes(6);
  const uint16_t etherType = r.u16();
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  vl2::Network* found = admittedNetwork(now, nwid, p);
  if (found == nullptr) return;
  vl2::Network& net = *found;
  const auto dst = vl2::macFromBytes(dstBytes);
  const auto src = vl2::macFromBytes(srcBytes);
  if (src == net.myMac() || (dst != net.myMac() && !vl2::isMulticastMac(dst))) {
    counters_.drop(Drop::kNotForUs);
    return;
  }
  deliverFrame(now, net, p, dst, src, etherType, r.cursor(), r.remaining());
  if ((flags & 0x10) != 0) {
    std::vector<uint8_t> body;
    util::Writer w(body);
    w.u64(nwid);
    sendOk(now, p, proto::Verb::kExtFrame, packetId, body);
  }
}

void NodeCore::sendFrame(int64_t now, uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                         const uint8_t* data, size_t len) {
  auto it = networks_.find(nwid);
  if (it == networks_.end()) return;
  vl2::Network& net = *it->second;
  if (net.status != NetworkStatus::kOk || !net.config || !net.rules) return;
  if (src != net.myMac()) return;  // we bridge nothing
  if (vl2::isMulticastMac(dst)) {
    vl2::MulticastGroup group{dst, 0};
    // ARP requests go to whoever holds the target address (ADI = that IPv4, §7.2).
    if (dst == kBroadcast && etherType == kEtherTypeArp && len >= 28) {
      group.adi = static_cast<uint32_t>(util::readBigEndian(data + 24, 4));
    }
    sendMulticast(now, net, group, src, etherType, data, len);
    return;
  }
  if (!vl2::isZeroTierMac(dst, nwid)) return;
  const uint64_t to = vl2::addressFromMac(dst, nwid);
  vl2::FrameMeta meta{address(), to, src, dst, etherType, data, len, false};
  const auto verdict = vl2::evaluateRules(*net.rules, meta);
  if (verdict.action != vl2::RuleAction::kAccept) {
    counters_.drop(verdict.unsupported ? Drop::kRulesUnsupported : Drop::kRulesDrop);
    return;
  }
  std::vector<uint8_t> payload;
  payload.reserve(10 + len);
  util::Writer w(payload);
  w.u64(nwid);
  w.u16(etherType);
  w.bytes(data, len);
  sendToPeer(now, to, proto::Verb::kFrame, payload);
}

bool NodeCore::handleVl2(int64_t now, Peer& p, proto::Verb verb, uint64_t packetId,
                         util::Reader& r) {
  switch (verb) {
    case proto::Verb::kFrame:
    case proto::Verb::kExtFrame:
    case proto::Verb::kMulticastFrame:
      handleFrameVerb(now, p, verb, packetId, r);
      return true;
    case proto::Verb::kNetworkCredentials:
      handleCredentials(now, p, r);
      return true;
    case proto::Verb::kNetworkConfig:
      handleConfigChunk(now, p, r, true, packetId);
      return true;
    case proto::Verb::kNetworkConfigRequest:
      handleConfigRequest(now, p, packetId, r);
      return true;
    case proto::Verb::kMulticastLike:
      handleMulticastLike(now, p, r);
      return true;
    case proto::Verb::kMulticastGather:
      handleMulticastGather(now, p, packetId, r);
      return true;
    default:
      return false;
  }
}

void NodeCore::handleConfigRequest(int64_t now, Peer& p, uint64_t packetId, util::Reader& r) {
  const uint64_t nwid = r.u64();
  const uint16_t mdLen = r.u16();
  const uint8_t* md = r.bytes(mdLen);
  if (!r.ok()) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  if (!options_.configRequestHandler || (nwid >> 24) != address()) {
    counters_.drop(Drop::kNoSuchNetwork);
    return;
  }
  const auto reply =
      options_.configRequestHandler(now, p.identity(), nwid, std::vector<uint8_t>(md, md + mdLen));
  std::vector<uint8_t> body;
  util::Writer w(body);
  w.u64(nwid);
  switch (reply.kind) {
    case ConfigReply::Kind::kNotFound:
      sendError(now, p, proto::Verb::kNetworkConfigRequest, packetId,
                proto::ErrorCode::kObjectNotFound, body);
      return;
    case ConfigReply::Kind::kAccessDenied:
      sendError(now, p, proto::Verb::kNetworkConfigRequest, packetId,
                proto::ErrorCode::kNetworkAccessDenied, body);
      return;
    case ConfigReply::Kind::kConfig:
      for (const auto& chunk : reply.chunks)
        sendOk(now, p, proto::Verb::kNetworkConfigRequest, packetId, chunk);
      return;
  }
}

void NodeCore::pushConfig(int64_t now, uint64_t member, uint64_t nwid, const ConfigReply& reply) {
  Peer* p = peer(member);
  if (p == nullptr) return;  // it asks again on its own within a minute
  if (reply.kind == ConfigReply::Kind::kConfig) {
    for (const auto& chunk : reply.chunks)
      sendToPeer(now, member, proto::Verb::kNetworkConfig, chunk);
    return;
  }
  std::vector<uint8_t> body;
  util::Writer w(body);
  w.u64(nwid);
  sendError(now, *p, proto::Verb::kNetworkConfigRequest, 0,
            reply.kind == ConfigReply::Kind::kNotFound ? proto::ErrorCode::kObjectNotFound
                                                       : proto::ErrorCode::kNetworkAccessDenied,
            body);
}

void NodeCore::vl2Timers(int64_t now) {
  for (auto& [nwid, up] : networks_) {
    vl2::Network& net = *up;
    if (!net.adhoc()) {
      // Quickly until a first config comes, then at the stock pace; refusals slowly.
      int64_t every =
          net.lastConfigReceived != 0 ? vl2::timing::kConfigRefreshMs : vl2::timing::kConfigRetryMs;
      if (net.status == NetworkStatus::kAccessDenied || net.status == NetworkStatus::kNotFound)
        every = vl2::timing::kConfigRefusedRetryMs;
      if (now - net.lastConfigRequest >= every) requestConfig(now, net);
    }
    if (net.status == NetworkStatus::kOk &&
        now - net.lastAnnounce >= vl2::timing::kMulticastAnnounceMs) {
      announceMulticast(now, net);
    }
    while (!net.pendingMulticast.empty() &&
           now - net.pendingMulticast.front().queuedAt > vl2::timing::kPendingMulticastMs) {
      counters_.drop(Drop::kNoMulticastRecipients);
      net.pendingMulticast.pop_front();
    }
  }
  gatherForWaitingFrames(now);
  for (auto it = rootLikes_.begin(); it != rootLikes_.end();) {
    for (auto m = it->second.begin(); m != it->second.end();)
      m = now - m->second > vl2::timing::kMulticastLikeExpiryMs ? it->second.erase(m)
                                                                : std::next(m);
    it = it->second.empty() ? rootLikes_.erase(it) : std::next(it);
  }
}

}  // namespace zts::vl1
