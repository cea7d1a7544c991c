#include "fragment.h"

#include <algorithm>
#include <cstring>

#include "util/hex.h"

namespace zts::vl1 {

namespace {

constexpr size_t kIdxFragmentCounts = 14;
constexpr size_t kIdxFragmentHops = 15;
// Caps what one slot may hold, so forged pieces cannot pin more than a packet's worth.
constexpr size_t kMaxFragmentData = proto::kMaxPacketLen - proto::kHeaderLen;

}  // namespace

size_t datagramCount(size_t len, size_t mtu) {
  if (len <= mtu) return 1;
  if (mtu <= proto::kFragmentHeaderLen) return 0;
  const size_t perFragment = mtu - proto::kFragmentHeaderLen;
  return 1 + (len - mtu + perFragment - 1) / perFragment;
}

size_t buildFragment(const uint8_t* packet, size_t len, size_t mtu, unsigned number, unsigned total,
                     uint8_t* out) {
  if (number == 0 || number >= total || total > proto::kMaxFragments) return 0;
  if (mtu <= proto::kFragmentHeaderLen || len <= mtu) return 0;
  const size_t perFragment = mtu - proto::kFragmentHeaderLen;
  const size_t offset = mtu + (number - 1) * perFragment;
  if (offset >= len) return 0;
  const size_t chunk = std::min(perFragment, len - offset);

  // Id and destination let relays forward fragments without seeing the head.
  std::memcpy(out, packet, proto::kIdxFragmentIndicator);
  out[proto::kIdxFragmentIndicator] = proto::kFragmentIndicator;
  out[kIdxFragmentCounts] = static_cast<uint8_t>((total << 4) | number);
  out[kIdxFragmentHops] = 0;
  std::memcpy(out + proto::kFragmentHeaderLen, packet + offset, chunk);
  return proto::kFragmentHeaderLen + chunk;
}

bool isFragment(const uint8_t* data, size_t len) {
  return len > proto::kFragmentHeaderLen &&
         data[proto::kIdxFragmentIndicator] == proto::kFragmentIndicator;
}

Reassembler::Slot* Reassembler::find(uint64_t packetId, int64_t now, bool create) {
  Slot* freeSlot = nullptr;
  Slot* oldest = nullptr;
  for (Slot& s : slots_) {
    // A stale slot counts as free: its pieces must not combine with a later namesake.
    const bool live = s.used && now - s.firstSeen < kTimeoutMs;
    if (live && s.packetId == packetId) return &s;
    if (!live) {
      if (freeSlot == nullptr) freeSlot = &s;
    } else if (oldest == nullptr || s.firstSeen < oldest->firstSeen) {
      oldest = &s;
    }
  }
  if (!create) return nullptr;
  Slot* s = freeSlot != nullptr ? freeSlot : oldest;
  if (s == oldest) {
    ++evicted_;
  } else if (s->used) {
    ++timedOut_;  // stale, not yet expired by the timer
  }
  s->packetId = packetId;
  s->firstSeen = now;
  s->used = true;
  s->total = 0;
  s->havePieces = 0;
  // clear() keeps capacity, so a busy slot table stops allocating after warm-up.
  for (auto& piece : s->pieces) piece.clear();
  return s;
}

Reassembler::Result Reassembler::tryComplete(Slot& s, std::vector<uint8_t>& out) {
  if (s.total == 0 || s.havePieces != (1u << s.total) - 1) return Result::kIncomplete;
  size_t len = 0;
  for (unsigned i = 0; i < s.total; ++i) len += s.pieces[i].size();
  s.used = false;
  if (len > proto::kMaxPacketLen) return Result::kDropped;
  out.clear();
  out.reserve(len);
  for (unsigned i = 0; i < s.total; ++i) {
    out.insert(out.end(), s.pieces[i].begin(), s.pieces[i].end());
  }
  return Result::kComplete;
}

Reassembler::Result Reassembler::addHead(const uint8_t* data, size_t len, int64_t now,
                                         std::vector<uint8_t>& out) {
  if (len < proto::kHeaderLen || len > proto::kMaxPacketLen) return Result::kDropped;
  if (!HeaderView{data}.fragmented()) return Result::kDropped;
  Slot* s = find(HeaderView{data}.packetId(), now, true);
  if ((s->havePieces & 1u) != 0) return Result::kIncomplete;  // duplicate
  s->pieces[0].assign(data, data + len);
  s->havePieces |= 1u;
  return tryComplete(*s, out);
}

Reassembler::Result Reassembler::addFragment(const uint8_t* data, size_t len, int64_t now,
                                             std::vector<uint8_t>& out) {
  if (!isFragment(data, len)) return Result::kDropped;
  const size_t dataLen = len - proto::kFragmentHeaderLen;
  if (dataLen > kMaxFragmentData) return Result::kDropped;
  const unsigned total = data[kIdxFragmentCounts] >> 4;
  const unsigned number = data[kIdxFragmentCounts] & 0x0f;
  // Stock limits, plus number < total: a piece beyond the total could never complete.
  if (number < 1 || number >= proto::kMaxFragments) return Result::kDropped;
  if (total <= 1 || total > proto::kMaxFragments || number >= total) return Result::kDropped;

  Slot* s = find(util::readBigEndian(data, 8), now, true);
  if (s->total != 0 && s->total != total) return Result::kDropped;
  const uint8_t bit = static_cast<uint8_t>(1u << number);
  if ((s->havePieces & bit) != 0) return Result::kIncomplete;  // duplicate
  s->total = total;
  s->pieces[number].assign(data + proto::kFragmentHeaderLen, data + len);
  s->havePieces |= bit;
  return tryComplete(*s, out);
}

void Reassembler::expire(int64_t now) {
  for (Slot& s : slots_) {
    if (s.used && now - s.firstSeen >= kTimeoutMs) {
      s.used = false;
      ++timedOut_;
    }
  }
}

size_t Reassembler::inFlight() const {
  return static_cast<size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.used; }));
}

}  // namespace zts::vl1
