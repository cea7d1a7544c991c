// Noticing that a silent peer is back, so its connections learn at once.
//
// A TCP connection whose peer went silent backs off its retransmissions (lwIP doubles the
// timeout up to 128 times the RTO): a peer process that was killed and restarted without
// the connection would reset it only at the next retransmission, minutes later. The
// engine asks this watch, each tick, which nodes hold the remote addresses of connections
// that have been silent for a while (SocketTable::silentPeers), probes those nodes over
// VL1 (an ECHO on each direct path and through a root, which a restarted node answers once
// it has looked us up), and as soon as a node is heard from again drops the direct paths
// that carried no answer (a restarted process listens on a new port) and has lwIP
// retransmit to it now: a node that lost the connection answers with a reset at once.
//
// Decoupled from lwIP and the core by hooks, so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "socket_address.h"

namespace zts::tap {

class PeerReturnWatch {
 public:
  // Connections silent this long make their node worth probing.
  static constexpr uint32_t kSilentMs = 2000;
  static constexpr int64_t kProbeIntervalMs = 1000;
  // After a nudge a node is not nudged again for this long: a peer that is alive but on a
  // lossy path gets at most this one early retransmission per interval.
  static constexpr int64_t kNudgeIntervalMs = 5000;

  struct Hooks {
    // Remote addresses of connections silent for kSilentMs (ports ignored).
    std::function<std::vector<IpEndpoint>()> silentRemotes;
    // The ZeroTier node holding an address, if known.
    std::function<std::optional<uint64_t>(const IpEndpoint&)> nodeOf;
    // When the core last heard from a node (any authenticated packet); 0: never.
    std::function<int64_t(uint64_t)> lastHeard;
    // Sends a node a packet that it answers (ECHO).
    std::function<void(uint64_t)> probe;
    // The node, silent since a time, answered: the core's side (NodeCore::peerReturned).
    std::function<void(uint64_t, int64_t)> peerReturned;
    // Has lwIP retransmit now to connections with this remote address.
    std::function<void(const IpEndpoint&)> retransmit;
  };

  explicit PeerReturnWatch(Hooks hooks) : hooks_(std::move(hooks)) {}

  // Refreshes the silent nodes and probes those due. Call about every kProbeIntervalMs.
  void tick(int64_t now);
  // Nudges the connections of watched nodes heard from since they fell silent. Cheap when
  // nothing is watched; call after each batch of received datagrams.
  void check(int64_t now);
  size_t watched() const { return nodes_.size(); }

 private:
  struct Node {
    std::vector<IpEndpoint> remotes;
    int64_t heardAt = 0;  // the core's lastHeard when the node was found silent
    int64_t firstProbe = 0;
    int64_t lastProbe = 0;
  };
  Hooks hooks_;
  std::map<uint64_t, Node> nodes_;
  std::map<uint64_t, int64_t> lastNudge_;
};

}  // namespace zts::tap
