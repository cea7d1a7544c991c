// NodeCore's frame verbs (FRAME, EXT_FRAME, MULTICAST_FRAME) and the frames it holds for
// credentials. A peer pushes its certificate of membership just before its first frames;
// when that push is lost (or overtaken), the frame arrives from a peer we may not admit yet.
// Dropping it cost a retry of whatever sent it: ARP's, a second later, so a connect through
// a lossy path took one to three seconds more. Like stock 1.14.1 (protocol.md §5.8), we keep
// such a frame, ask for the credentials (NEED_CERTIFICATE), and deliver it when they come;
// after kHeldFrameMs it is dropped and counted as not_a_member. A peer that never proves
// membership gets nothing delivered: a frame is only ever handled again once its network
// has accepted the sender's certificate.
#include "../util/buffer.h"
#include "../util/hex.h"
#include "../vl1/node_core.h"

namespace zts::vl1 {
namespace {
// Bounds on what non-members can make us hold: a few frames each (a connect needs one or
// two), a few dozen in all (about 90 KiB at most).
constexpr size_t kMaxHeldPerPeer = 4;
constexpr size_t kMaxHeld = 32;
}  // namespace

void NodeCore::dispatchFrameVerb(int64_t now, Peer& p, proto::Verb verb, uint64_t packetId,
                                 util::Reader& r) {
  switch (verb) {
    case proto::Verb::kFrame:
      handleFrame(now, p, r);
      break;
    case proto::Verb::kExtFrame:
      handleExtFrame(now, p, packetId, r);
      break;
    default:
      handleMulticastFrame(now, p, r);
      break;
  }
}

void NodeCore::handleFrameVerb(int64_t now, Peer& p, proto::Verb verb, uint64_t packetId,
                               util::Reader& r) {
  const uint8_t* start = r.cursor();
  const size_t len = r.remaining();
  refusedForCredentials_ = false;
  dispatchFrameVerb(now, p, verb, packetId, r);
  if (!refusedForCredentials_) return;
  refusedForCredentials_ = false;
  // Make room: this peer's oldest first, then the oldest of all; each counted as dropped.
  size_t mine = 0;
  for (const auto& h : heldFrames_) mine += h.peer == p.address() ? 1 : 0;
  if (mine >= kMaxHeldPerPeer) {
    for (auto it = heldFrames_.begin(); it != heldFrames_.end(); ++it) {
      if (it->peer != p.address()) continue;
      heldFrames_.erase(it);
      counters_.drop(Drop::kNotAMember);
      break;
    }
  } else if (heldFrames_.size() >= kMaxHeld) {
    heldFrames_.pop_front();
    counters_.drop(Drop::kNotAMember);
  }
  heldFrames_.push_back(
      {p.address(), verb, packetId, std::vector<uint8_t>(start, start + len), now});
}

void NodeCore::releaseHeldFrames(int64_t now, Peer& p, uint64_t nwid) {
  std::deque<HeldFrame> released;
  for (auto it = heldFrames_.begin(); it != heldFrames_.end();) {
    // Every frame verb's payload starts with the network id.
    const bool match = it->peer == p.address() && it->payload.size() >= 8 &&
                       util::readBigEndian(it->payload.data(), 8) == nwid;
    if (!match) {
      ++it;
      continue;
    }
    released.push_back(std::move(*it));
    it = heldFrames_.erase(it);
  }
  for (auto& h : released) {
    util::Reader r(h.payload.data(), h.payload.size());
    refusedForCredentials_ = false;
    dispatchFrameVerb(now, p, h.verb, h.packetId, r);
    // Still refused (the certificate did not agree with ours): dropped now, not held again.
    if (refusedForCredentials_) counters_.drop(Drop::kNotAMember);
    refusedForCredentials_ = false;
  }
}

void NodeCore::expireHeldFrames(int64_t now) {
  while (!heldFrames_.empty() && now - heldFrames_.front().heldAt > vl2::timing::kHeldFrameMs) {
    heldFrames_.pop_front();
    counters_.drop(Drop::kNotAMember);
  }
}

}  // namespace zts::vl1
