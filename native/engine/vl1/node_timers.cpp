// NodeCore's timers: housekeeping every kHousekeepingMs (greeting roots, keeping paths to
// active peers alive, WHOIS retries, queue and table expiry, VL2's timers) and the online
// state. Split from node_core.cpp.
#include <algorithm>

#include "node_core.h"

namespace zts::vl1 {
namespace {
// While no root has answered, greet them often: a stock root may have dropped our first
// HELLO under its one-new-identity-per-2-s limit. A root that stops answering is greeted
// with a backoff that grows with its silence (an eighth of it) up to kRootRetryMaxMs: a
// root that comes back (restarted, it knows no one) hears from us within that.
constexpr int64_t kRootRetryMs = 500;
constexpr int64_t kRootRetryMaxMs = 4000;
// A restarted root knows no one and answers nothing of ours until greeted, while its path
// still looks alive for 19 s: an echo every kRootEchoMs (about 130 bytes both ways) that
// goes unanswered for kRootAnswerMs counts as silence, so a root back within seconds is
// greeted within seconds, and a new peer can look us up through it.
constexpr int64_t kRootEchoMs = 2000;
constexpr int64_t kRootAnswerMs = 1000;
constexpr int64_t kRejectedIdentityMs = 60000;
}  // namespace

void NodeCore::updateOnline(int64_t now) {
  bool heard = false;
  for (uint64_t addr : rootAddresses_) {
    Peer* r = peer(addr);
    if (r != nullptr && r->lastReceive != 0 && now - r->lastReceive < timing::kRootOnlineWindowMs)
      heard = true;
  }
  if (options_.root) heard = true;
  if (heard != online_) {
    online_ = heard;
    event(heard ? CoreEvent::Type::kOnline : CoreEvent::Type::kOffline, 0);
    // Frames sent before the first root answered (an ARP right after a restart) wait for
    // members: ask now rather than at the sender's next retry (ARP's is a second).
    if (heard) gatherForWaitingFrames(now);
  }
}

int64_t NodeCore::processTimers(int64_t now) {
  if (!started_) return now + timing::kHousekeepingMs;
  if (now - lastHousekeeping_ < timing::kHousekeepingMs) {
    return lastHousekeeping_ + timing::kHousekeepingMs;
  }
  lastHousekeeping_ = now;
  reassembler_.expire(now);
  countReassemblyDrops();

  for (auto& [addr, up] : peers_) {
    Peer& p = *up;
    for (const auto& gone : p.expirePaths(now)) event(CoreEvent::Type::kPathLost, addr, gone);
    if (p.isRoot && !options_.root) {
      Path* best = p.bestPath(now);
      const bool echoUnanswered =
          p.lastRootEcho > p.lastReceive && now - p.lastRootEcho >= kRootAnswerMs;
      if (echoUnanswered) p.rootWasSilent = true;
      const bool reachable = best != nullptr && !echoUnanswered;
      const int64_t silence = now - std::max(p.lastReceive, startedAt_);
      const int64_t period =
          reachable ? timing::kRootHelloMs : std::clamp(silence / 8, kRootRetryMs, kRootRetryMaxMs);
      if (p.lastHelloSent == 0 || now - p.lastHelloSent >= period) {
        if (p.lastHelloSent != 0 && p.lastReceive < p.lastHelloSent) p.rootWasSilent = true;
        for (const auto& root : options_.planet.roots()) {
          if (root.identity.address() != addr) continue;
          for (const auto& ep : root.stableEndpoints)
            if (usablePath(ep)) sendHello(now, p, -1, ep);
        }
      } else if (reachable && now - std::max(p.lastRootEcho, p.lastReceive) >= kRootEchoMs) {
        p.lastRootEcho = now;
        echoOnPath(now, p, *best);
      }
      continue;
    }
    if (options_.root) continue;
    // Keep direct paths to peers we talk to alive, as stock nodes do.
    const bool active = now - p.lastReceive < timing::kPeerActivityTimeoutMs ||
                        now - p.lastSend < timing::kPeerActivityTimeoutMs;
    if (!active) continue;
    if (p.bestPath(now) == nullptr && now - p.lastPathPush >= timing::kDirectPathPushMs) {
      // Relayed only: tell the peer where we can be reached so it can greet us directly.
      p.lastPathPush = now;
      pushDirectPaths(now, p);
    }
    // Frames from the peer just stopped: maybe it finished, maybe our NAT took a new port and
    // what it sends goes to the old one. A peer learns our new address only from packets we
    // send, and a receiver sends none while nothing arrives: greet it on each path, once.
    const int64_t quiet = now - p.lastFrameReceive;
    const bool quietProbe = p.lastFrameReceive != 0 && quiet > timing::kQuietProbeAfterMs &&
                            quiet < timing::kQuietProbeWindowMs &&
                            p.quietProbeSent < p.lastFrameReceive;
    if (quietProbe) p.quietProbeSent = now;
    for (auto& path : p.paths()) {
      if (now - path.lastHelloSent >= timing::kPeerPingMs) {
        sendHello(now, p, path.localSocket, path.remote);
      } else if (quietProbe || now - path.lastSend >= timing::kPathHeartbeatMs) {
        echoOnPath(now, p, path);
      }
    }
  }

  for (auto it = whois_.begin(); it != whois_.end();) {
    const bool waiting = std::any_of(txQueue_.begin(), txQueue_.end(),
                                     [&](auto& q) { return q.dest == it->first; }) ||
                         std::any_of(rxQueue_.begin(), rxQueue_.end(), [&](auto& q) {
                           return HeaderView{q.packet.data()}.source() == it->first;
                         });
    if (!waiting || now - it->second.firstAsked > timing::kQueueTimeoutMs) {
      it = whois_.erase(it);
      continue;
    }
    const uint64_t addr = it->first;
    ++it;
    askWhois(now, addr);
  }
  auto expired = [&](int64_t at) { return now - at > timing::kQueueTimeoutMs; };
  while (!txQueue_.empty() && expired(txQueue_.front().queuedAt)) {
    counters_.drop(Drop::kQueueTimeout);
    txQueue_.pop_front();
  }
  while (!rxQueue_.empty() && expired(rxQueue_.front().receivedAt)) {
    counters_.drop(Drop::kQueueTimeout);
    rxQueue_.pop_front();
  }
  expireHeldFrames(now);
  for (auto it = expectedReplies_.begin(); it != expectedReplies_.end();)
    it = now - it->second > kExpectedReplyTtlMs ? expectedReplies_.erase(it) : std::next(it);
  for (auto it = rejectedIdentities_.begin(); it != rejectedIdentities_.end();)
    it = now - it->second > kRejectedIdentityMs ? rejectedIdentities_.erase(it) : std::next(it);
  for (auto it = rendezvousSent_.begin(); it != rendezvousSent_.end();)
    it = now - it->second.at > timing::kRendezvousIntervalMs ? rendezvousSent_.erase(it)
                                                             : std::next(it);
  vl2Timers(now);
  updateOnline(now);
  return now + timing::kHousekeepingMs;
}

}  // namespace zts::vl1
