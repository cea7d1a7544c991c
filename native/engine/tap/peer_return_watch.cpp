#include "peer_return_watch.h"

#include <algorithm>

namespace zts::tap {

void PeerReturnWatch::tick(int64_t now) {
  std::map<uint64_t, std::vector<IpEndpoint>> silent;
  for (const auto& remote : hooks_.silentRemotes()) {
    if (auto node = hooks_.nodeOf(remote)) silent[*node].push_back(remote);
  }
  // Nodes whose connections recovered (or failed) are no longer watched.
  for (auto it = nodes_.begin(); it != nodes_.end();)
    it = silent.count(it->first) == 0 ? nodes_.erase(it) : std::next(it);
  for (auto it = lastNudge_.begin(); it != lastNudge_.end();)
    it = now - it->second >= kNudgeIntervalMs ? lastNudge_.erase(it) : std::next(it);
  for (auto& [address, remotes] : silent) {
    if (lastNudge_.count(address) != 0) continue;
    auto [it, fresh] = nodes_.try_emplace(address);
    Node& n = it->second;
    n.remotes = std::move(remotes);
    if (fresh) n.heardAt = hooks_.lastHeard(address);
    if (now - n.lastProbe >= kProbeIntervalMs) {
      if (n.firstProbe == 0) n.firstProbe = now;
      n.lastProbe = now;
      hooks_.probe(address);
    }
  }
}

void PeerReturnWatch::check(int64_t now) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (hooks_.lastHeard(it->first) <= it->second.heardAt) {
      ++it;
      continue;
    }
    hooks_.peerReturned(it->first, it->second.firstProbe);
    for (const auto& remote : it->second.remotes) hooks_.retransmit(remote);
    lastNudge_[it->first] = now;
    it = nodes_.erase(it);
  }
}

}  // namespace zts::tap
