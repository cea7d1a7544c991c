// The packet header and armor (protocol.md §2.3, §2.4). The input is first taken as a
// received packet and dearmored with a fixed key (the A<->B key, so that the V7-V10 wire
// seeds authenticate and reach the decrypting branch); then it becomes the payload of a
// packet we armor, which must dearmor back to exactly the input.
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "vl1/packet.h"

namespace {

using namespace zts;
namespace proto = vl1::proto;

volatile uint64_t gSink;  // keeps header reads from being optimized away

void receive(const uint8_t* data, size_t size, const uint8_t* key) {
  std::vector<uint8_t> p(data, data + size);
  const vl1::DearmorResult r = vl1::dearmor(p.data(), p.size(), key);
  if (size < proto::kHeaderLen) {
    ZTS_FUZZ_CHECK(r == vl1::DearmorResult::kTooShort);
    return;
  }
  if (r != vl1::DearmorResult::kOk) return;
  const vl1::HeaderView h{p.data()};
  gSink = h.packetId() ^ h.dest() ^ h.source() ^ h.hops() ^ h.cipher() ^ h.fragmented();
  gSink = gSink ^ proto::verbName(h.verbByte())[0];
  // What the core does next with an authenticated packet.
  if (vl1::uncompressPayload(p)) ZTS_FUZZ_CHECK(p.size() <= proto::kMaxPacketLen);
}

void roundTrip(const uint8_t* data, size_t size, const uint8_t* key) {
  if (size > proto::kMaxPacketLen - proto::kHeaderLen) return;
  // Ciphers, flags and hops come from the payload's own bytes: no extra input format.
  const uint8_t knobs = size > 0 ? data[0] : 0;
  const unsigned cipher =
      (knobs & 1) != 0 ? proto::kCipherPoly1305Salsa2012 : proto::kCipherPoly1305None;
  const bool fragmented = (knobs & 2) != 0;
  const uint8_t hops = (knobs >> 2) & proto::kMaskHops;

  std::vector<uint8_t> p;
  vl1::beginPacket(p, 0x0102030405060708, fuzz::pair().b.address(), fuzz::pair().a.address(),
                   proto::Verb::kEcho);
  p.insert(p.end(), data, data + size);
  const std::vector<uint8_t> plain = p;
  vl1::armor(p.data(), p.size(), key, cipher, fragmented);
  ZTS_FUZZ_CHECK(vl1::HeaderView{p.data()}.cipher() == cipher);
  ZTS_FUZZ_CHECK(vl1::HeaderView{p.data()}.fragmented() == fragmented);
  // A relay changes only the hop bits, which the MAC must not cover.
  p[proto::kIdxFlags] |= hops;
  const std::vector<uint8_t> armored = p;
  ZTS_FUZZ_CHECK(vl1::dearmor(p.data(), p.size(), key) == vl1::DearmorResult::kOk);
  ZTS_FUZZ_CHECK(std::memcmp(p.data() + proto::kIdxVerb, plain.data() + proto::kIdxVerb,
                             plain.size() - proto::kIdxVerb) == 0);

  // Any other change to the authenticated bytes must fail the MAC.
  if (size > 0) {
    std::vector<uint8_t> forged = armored;
    forged[proto::kIdxPayload + knobs % size] ^= 0x01;
    ZTS_FUZZ_CHECK(vl1::dearmor(forged.data(), forged.size(), key) != vl1::DearmorResult::kOk);
  }

  // The HELLO tail cipher is its own inverse, from any offset.
  std::vector<uint8_t> tail = plain;
  const size_t offset = proto::kHeaderLen + size / 2;
  vl1::cryptHelloTail(tail.data(), tail.size(), offset, key);
  vl1::cryptHelloTail(tail.data(), tail.size(), offset, key);
  ZTS_FUZZ_CHECK(tail == plain);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* key = fuzz::pair().key;
  receive(data, size, key);
  roundTrip(data, size, key);
  return 0;
}
