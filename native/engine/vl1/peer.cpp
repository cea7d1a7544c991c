#include "peer.h"

#include <algorithm>
#include <cstring>

#include "../crypto/primitives.h"

namespace zts::vl1 {

Peer::Peer(const Identity& identity, const uint8_t key[kAgreedKeyLen]) : identity_(identity) {
  std::memcpy(key_, key, kAgreedKeyLen);
}

Peer::~Peer() {
  crypto::wipe(key_, sizeof key_);
}

bool Peer::seenBefore(uint64_t packetId) {
  // A linear scan of 2 KiB: cheap at this size and allocation-free. Id 0 is never taken for
  // a repeat, since the window starts filled with zeros.
  for (uint64_t id : recentIds_)
    if (id == packetId && packetId != 0) return true;
  recentIds_[nextRecent_] = packetId;
  nextRecent_ = (nextRecent_ + 1) % kReplayWindow;
  return false;
}

Path* Peer::bestPath(int64_t now) {
  Path* best = nullptr;
  for (auto& p : paths_) {
    if (!p.alive(now)) continue;
    if (best == nullptr) {
      best = &p;
      continue;
    }
    // A path that went quiet while the other still carries packets is not chosen: after a
    // NAT rebinding the old path stays "alive" for 19 s, but nothing sent on it arrives.
    const int64_t gap = p.lastReceive - best->lastReceive;
    if (gap > timing::kPathQuietGapMs) {
      best = &p;
      continue;
    }
    if (-gap > timing::kPathQuietGapMs) continue;
    // Prefer the lower latency when both were heard recently; otherwise the fresher one.
    const bool bothFresh = now - p.lastReceive < timing::kPathHeartbeatMs &&
                           now - best->lastReceive < timing::kPathHeartbeatMs;
    if (bothFresh && p.latencyMs >= 0 && best->latencyMs >= 0) {
      if (p.latencyMs < best->latencyMs) best = &p;
    } else if (p.lastReceive > best->lastReceive) {
      best = &p;
    }
  }
  return best;
}

Path* Peer::findPath(int64_t localSocket, const InetAddress& remote) {
  for (auto& p : paths_) {
    if (p.remote == remote &&
        (localSocket < 0 || p.localSocket < 0 || p.localSocket == localSocket))
      return &p;
  }
  return nullptr;
}

Path& Peer::learnPath(int64_t localSocket, const InetAddress& remote, int64_t now) {
  if (Path* p = findPath(localSocket, remote)) {
    p->lastReceive = now;
    if (localSocket >= 0) p->localSocket = localSocket;
    return *p;
  }
  if (paths_.size() >= kMaxPaths) {
    // Make room by forgetting the path heard from least recently.
    auto oldest = std::min_element(paths_.begin(), paths_.end(), [](const Path& a, const Path& b) {
      return a.lastReceive < b.lastReceive;
    });
    paths_.erase(oldest);
  }
  Path p;
  p.localSocket = localSocket;
  p.remote = remote;
  p.lastReceive = now;
  paths_.push_back(p);
  return paths_.back();
}

std::vector<InetAddress> Peer::expirePaths(int64_t now) {
  std::vector<InetAddress> gone;
  for (const auto& p : paths_)
    if (p.expired(now)) gone.push_back(p.remote);
  if (!gone.empty()) {
    paths_.erase(std::remove_if(paths_.begin(), paths_.end(),
                                [now](const Path& p) { return p.expired(now); }),
                 paths_.end());
  }
  return gone;
}

}  // namespace zts::vl1
