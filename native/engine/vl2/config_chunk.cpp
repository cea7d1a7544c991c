#include "config_chunk.h"

#include <algorithm>

#include "../util/buffer.h"

namespace zts::vl2 {

std::optional<ConfigChunk> ConfigChunk::parse(const uint8_t* payload, size_t len) {
  util::Reader r(payload, len);
  ConfigChunk c;
  c.networkId = r.u64();
  const size_t dataLen = r.u16();
  const uint8_t* data = r.bytes(dataLen);
  if (!r.ok()) return std::nullopt;
  c.data.assign(data, data + dataLen);
  if (r.remaining() == 0) {
    // Legacy form: the whole dictionary, unsigned.
    c.totalLength = static_cast<uint32_t>(dataLen);
    return c;
  }
  c.flags = r.u8();
  c.updateId = r.u64();
  c.totalLength = r.u32();
  c.offset = r.u32();
  c.signatureType = r.u8();
  const size_t sigLen = r.u16();
  if (!r.ok() || sigLen > vl1::kSignatureLen) return std::nullopt;
  const uint8_t* sig = r.bytes(sigLen);
  if (!r.ok()) return std::nullopt;
  c.signature.assign(sig, sig + sigLen);
  c.isSigned = true;
  return c;
}

std::vector<uint8_t> ConfigChunk::signedPart() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  w.u64(networkId);
  w.u16(static_cast<uint16_t>(data.size()));
  w.bytes(data.data(), data.size());
  w.u8(flags);
  w.u64(updateId);
  w.u32(totalLength);
  w.u32(offset);
  return out;
}

bool ConfigChunk::sign(const vl1::Identity& controller) {
  if (!controller.hasPrivate() || data.size() > 0xffff) return false;
  const auto msg = signedPart();
  uint8_t sig[vl1::kSignatureLen];
  if (!controller.sign(msg.data(), msg.size(), sig)) return false;
  signatureType = kSignatureTypeC25519;
  signature.assign(sig, sig + sizeof sig);
  isSigned = true;
  return true;
}

bool ConfigChunk::verify(const vl1::Identity& controller) const {
  if (!isSigned || controller.address() != (networkId >> 24)) return false;
  if (signatureType != kSignatureTypeC25519 || signature.size() != vl1::kSignatureLen) {
    return false;
  }
  const auto msg = signedPart();
  return controller.verify(msg.data(), msg.size(), signature.data(), signature.size());
}

std::vector<uint8_t> ConfigChunk::serialize() const {
  if (!isSigned) {
    std::vector<uint8_t> out;
    util::Writer w(out);
    w.u64(networkId);
    w.u16(static_cast<uint16_t>(data.size()));
    w.bytes(data.data(), data.size());
    return out;
  }
  auto out = signedPart();
  util::Writer w(out);
  w.u8(signatureType);
  w.u16(static_cast<uint16_t>(signature.size()));
  w.bytes(signature.data(), signature.size());
  return out;
}

std::vector<std::vector<uint8_t>> buildChunks(const std::vector<uint8_t>& dict, uint64_t nwid,
                                              uint64_t updateId, const vl1::Identity& controller,
                                              size_t maxChunk, uint8_t flags) {
  std::vector<std::vector<uint8_t>> out;
  if (!controller.hasPrivate() || controller.address() != (nwid >> 24)) return out;
  if (maxChunk == 0 || maxChunk > ConfigChunk::kMaxChunkLen || updateId == 0) return out;
  if (dict.empty() || dict.size() > ConfigAssembler::kMaxTotalLength) return out;
  for (size_t off = 0; off < dict.size(); off += maxChunk) {
    ConfigChunk c;
    c.networkId = nwid;
    const size_t n = std::min(maxChunk, dict.size() - off);
    c.data.assign(dict.begin() + static_cast<std::ptrdiff_t>(off),
                  dict.begin() + static_cast<std::ptrdiff_t>(off + n));
    c.flags = flags;
    c.updateId = updateId;
    c.totalLength = static_cast<uint32_t>(dict.size());
    c.offset = static_cast<uint32_t>(off);
    if (!c.sign(controller)) return {};
    out.push_back(c.serialize());
  }
  return out;
}

bool ConfigAssembler::overlaps(const Update& u, uint32_t offset, uint32_t len) const {
  const uint64_t end = static_cast<uint64_t>(offset) + len;
  auto next = u.ranges.lower_bound(offset);
  if (next != u.ranges.end() && next->first < end) return true;
  if (next != u.ranges.begin()) {
    const auto prev = std::prev(next);
    if (static_cast<uint64_t>(prev->first) + prev->second > offset) return true;
  }
  return false;
}

std::optional<std::vector<uint8_t>> ConfigAssembler::add(const ConfigChunk& chunk) {
  if (chunk.networkId != nwid_ || chunk.data.empty()) return std::nullopt;
  if (!chunk.isSigned) return chunk.data;
  if (std::find(done_.begin(), done_.end(), chunk.updateId) != done_.end()) return std::nullopt;
  const uint32_t total = chunk.totalLength;
  const uint64_t len = chunk.data.size();
  if (total == 0 || total > kMaxTotalLength || chunk.offset + len > total) return std::nullopt;

  auto it = std::find_if(updates_.begin(), updates_.end(),
                         [&](const Update& u) { return u.id == chunk.updateId; });
  if (it == updates_.end()) {
    if (updates_.size() == kMaxInProgress) updates_.pop_front();
    Update u;
    u.id = chunk.updateId;
    u.total = total;
    u.bytes.resize(total);
    updates_.push_back(std::move(u));
    it = std::prev(updates_.end());
  } else if (it->total != total) {
    return std::nullopt;
  }
  // Duplicates (stock controllers re-send, relays may duplicate) and overlaps would
  // otherwise be counted twice towards the total.
  if (overlaps(*it, chunk.offset, static_cast<uint32_t>(len))) return std::nullopt;
  std::copy(chunk.data.begin(), chunk.data.end(),
            it->bytes.begin() + static_cast<std::ptrdiff_t>(chunk.offset));
  it->ranges.emplace(chunk.offset, static_cast<uint32_t>(len));
  it->received += static_cast<uint32_t>(len);
  if (it->received < it->total) return std::nullopt;

  std::vector<uint8_t> complete = std::move(it->bytes);
  done_.push_back(it->id);
  if (done_.size() > kRememberedDone) done_.pop_front();
  updates_.erase(it);
  return complete;
}

}  // namespace zts::vl2
