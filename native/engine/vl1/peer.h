// What the node knows of another node: its identity, the key shared with it, and the
// physical paths that reach it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "identity.h"
#include "inet_address.h"

namespace zts::vl1 {

namespace timing {
constexpr int64_t kPathHeartbeatMs = 14000;
constexpr int64_t kPathAliveMs = 19000;
// A path silent this much longer than another of the same peer has likely died (a NAT that
// took a new port, a process restarted on another port): the other is used whatever the
// latencies. Short: a peer sends on the path it chose, so the one heard from last is the
// one it uses; only near ties are left to latency.
constexpr int64_t kPathQuietGapMs = 250;
// Frames from a peer stopped this long ago (after flowing within the window): greet it once
// on each direct path, so that it learns where we are if our NAT took a new port meanwhile.
constexpr int64_t kQuietProbeAfterMs = 1000;
constexpr int64_t kQuietProbeWindowMs = 10000;
// A peer heard again after this much silence gets our network credentials again.
constexpr int64_t kSilenceBeforeRepushMs = 5000;
constexpr int64_t kPathExpirationMs = 243000;
constexpr int64_t kPeerPingMs = 60000;
constexpr int64_t kRootHelloMs = 60000;
constexpr int64_t kPeerActivityTimeoutMs = 30000;
constexpr int64_t kWhoisRetryMs = 500;
constexpr int64_t kQueueTimeoutMs = 5000;
constexpr int64_t kRendezvousIntervalMs = 30000;
constexpr int64_t kHousekeepingMs = 250;
constexpr int64_t kDirectPathPushMs = 15000;
constexpr int64_t kRootOnlineWindowMs = 500000;
}  // namespace timing

struct Path {
  int64_t localSocket = -1;
  InetAddress remote;
  int64_t lastReceive = 0;
  int64_t lastSend = 0;
  // Frames only (FRAME, EXT_FRAME, MULTICAST_FRAME): traffic, not keepalives; and the last
  // time their stopping made us greet the peer (timing::kQuietProbeAfterMs).
  int64_t lastFrameReceive = 0;
  int64_t quietProbeSent = 0;
  int64_t lastHelloSent = 0;
  int64_t latencyMs = -1;

  bool alive(int64_t now) const { return now - lastReceive < timing::kPathAliveMs; }
  bool expired(int64_t now) const { return now - lastReceive > timing::kPathExpirationMs; }
};

class Peer {
 public:
  static constexpr size_t kMaxPaths = 16;

  Peer(const Identity& identity, const uint8_t key[kAgreedKeyLen]);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const Identity& identity() const { return identity_; }
  uint64_t address() const { return identity_.address(); }
  // The 32 bytes the Salsa20/Poly1305 suites use.
  const uint8_t* key() const { return key_; }

  // The best live direct path, or nullptr: most recently heard wins; lower latency breaks
  // near ties.
  Path* bestPath(int64_t now);
  Path* findPath(int64_t localSocket, const InetAddress& remote);
  // Adds or refreshes a confirmed path (one that answered us directly).
  Path& learnPath(int64_t localSocket, const InetAddress& remote, int64_t now);
  // Drops paths not heard from for the expiration time; returns the endpoints dropped.
  std::vector<InetAddress> expirePaths(int64_t now);
  std::vector<Path>& paths() { return paths_; }
  const std::vector<Path>& paths() const { return paths_; }

  int64_t lastReceive = 0;
  int64_t lastSend = 0;
  // Frames only (FRAME, EXT_FRAME, MULTICAST_FRAME): traffic, not keepalives; and the last
  // time their stopping made us greet the peer (timing::kQuietProbeAfterMs).
  int64_t lastFrameReceive = 0;
  int64_t quietProbeSent = 0;
  int64_t lastHelloSent = 0;
  int64_t lastRootEcho = 0;  // roots only: the last liveness echo (node_timers.cpp)
  int64_t lastPathPush = 0;
  // Stock rate limits on what a peer can make us do (protocol.md §6.5, §9).
  int64_t lastWhoisServed = 0;
  int64_t lastEchoAnswered = 0;
  int64_t lastHelloAnswered = 0;
  int64_t lastPushReceived = 0;
  unsigned pushesInBurst = 0;
  int64_t latencyMs = -1;
  uint8_t remoteProtocol = 0;
  uint8_t remoteMajor = 0, remoteMinor = 0;
  uint16_t remoteRevision = 0;
  bool isRoot = false;
  // A root that let a HELLO of ours go unanswered: when it answers again it may have
  // restarted and forgotten what we told it (multicast subscriptions).
  bool rootWasSilent = false;

  // Records an authenticated packet id; true if it is among the last kReplayWindow ids this
  // peer sent (packet ids are random 64-bit values, never reused: a repeat is a replay, or
  // a duplicate the wire made).
  bool seenBefore(uint64_t packetId);
  static constexpr size_t kReplayWindow = 256;

 private:
  Identity identity_;
  uint8_t key_[kAgreedKeyLen];
  std::vector<Path> paths_;
  // The last kReplayWindow packet ids, oldest overwritten first; 2 KiB a peer.
  std::array<uint64_t, kReplayWindow> recentIds_{};
  size_t nextRecent_ = 0;
};

}  // namespace zts::vl1
