// Splitting packets into UDP datagrams and putting received fragments back together
// (protocol.md §2.6).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "packet.h"

namespace zts::vl1 {

// Calls sink(data, len) for the head and each fragment of an armored packet. The packet
// must have been armored with fragmented = (len > mtu). A packet that would need more than
// kMaxFragments datagrams is not sent at all, since receivers reject such pieces; at the
// default MTU that means packets over 1432 + 6 * 1416 = 9928 bytes (below kMaxPacketLen).
// Returns whether anything was sent.
template <typename Sink>
bool forEachDatagram(const uint8_t* packet, size_t len, size_t mtu, Sink&& sink);

// Number of datagrams a packet of `len` bytes takes at `mtu` (0 if an mtu too small for a
// fragment header would be needed).
size_t datagramCount(size_t len, size_t mtu);

// Writes fragment `number` (1-based) of `total` into out; returns its length.
size_t buildFragment(const uint8_t* packet, size_t len, size_t mtu, unsigned number, unsigned total,
                     uint8_t* out);

bool isFragment(const uint8_t* data, size_t len);

// Collects heads and fragments keyed by packet id; stock limits: 32 packets in flight,
// each dropped 5 s after its first piece.
class Reassembler {
 public:
  static constexpr size_t kSlots = 32;
  static constexpr int64_t kTimeoutMs = 5000;

  enum class Result { kIncomplete, kComplete, kDropped };

  // A head (a packet with the fragmented flag). On kComplete, `out` holds the whole packet.
  Result addHead(const uint8_t* data, size_t len, int64_t now, std::vector<uint8_t>& out);
  // A fragment datagram (isFragment() true). On kComplete, `out` holds the whole packet.
  Result addFragment(const uint8_t* data, size_t len, int64_t now, std::vector<uint8_t>& out);
  void expire(int64_t now);
  size_t inFlight() const;
  // Incomplete packets given up, since the start: pushed out of a full table by a newer
  // one, or timed out (by expire() or when their slot was reused).
  uint64_t evicted() const { return evicted_; }
  uint64_t timedOut() const { return timedOut_; }

 private:
  struct Slot {
    uint64_t packetId = 0;
    int64_t firstSeen = 0;
    bool used = false;
    unsigned total = 0;      // 0 until a fragment told us
    uint8_t havePieces = 0;  // bit i: piece i present (0 = head)
    std::array<std::vector<uint8_t>, proto::kMaxFragments> pieces;
  };
  Slot* find(uint64_t packetId, int64_t now, bool create);
  Result tryComplete(Slot& s, std::vector<uint8_t>& out);

  std::array<Slot, kSlots> slots_;
  uint64_t evicted_ = 0;
  uint64_t timedOut_ = 0;
};

template <typename Sink>
bool forEachDatagram(const uint8_t* packet, size_t len, size_t mtu, Sink&& sink) {
  if (len <= mtu) {
    sink(packet, len);
    return true;
  }
  const size_t count = datagramCount(len, mtu);
  if (count == 0 || count > proto::kMaxFragments) return false;
  const unsigned total = static_cast<unsigned>(count);
  sink(packet, mtu);
  uint8_t frag[proto::kDefaultPhysicalMtu + proto::kFragmentHeaderLen];
  std::vector<uint8_t> big;
  uint8_t* buf = frag;
  if (mtu > proto::kDefaultPhysicalMtu) {
    big.resize(mtu);
    buf = big.data();
  }
  for (unsigned n = 1; n < total; ++n) {
    const size_t flen = buildFragment(packet, len, mtu, n, total, buf);
    sink(buf, flen);
  }
  return true;
}

}  // namespace zts::vl1
