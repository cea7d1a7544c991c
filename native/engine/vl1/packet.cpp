#include "packet.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>

#include "crypto/primitives.h"
#include "util/buffer.h"
#include "util/hex.h"

namespace zts::vl1::proto {

const char* verbName(uint8_t verb) {
  // Callers often hold the raw verb byte; the compressed flag is not part of the name.
  switch (static_cast<Verb>(verb & kMaskVerb)) {
    case Verb::kNop:
      return "NOP";
    case Verb::kHello:
      return "HELLO";
    case Verb::kError:
      return "ERROR";
    case Verb::kOk:
      return "OK";
    case Verb::kWhois:
      return "WHOIS";
    case Verb::kRendezvous:
      return "RENDEZVOUS";
    case Verb::kFrame:
      return "FRAME";
    case Verb::kExtFrame:
      return "EXT_FRAME";
    case Verb::kEcho:
      return "ECHO";
    case Verb::kMulticastLike:
      return "MULTICAST_LIKE";
    case Verb::kNetworkCredentials:
      return "NETWORK_CREDENTIALS";
    case Verb::kNetworkConfigRequest:
      return "NETWORK_CONFIG_REQUEST";
    case Verb::kNetworkConfig:
      return "NETWORK_CONFIG";
    case Verb::kMulticastGather:
      return "MULTICAST_GATHER";
    case Verb::kMulticastFrame:
      return "MULTICAST_FRAME";
    case Verb::kPushDirectPaths:
      return "PUSH_DIRECT_PATHS";
    case Verb::kAck:
      return "ACK";
    case Verb::kQosMeasurement:
      return "QOS_MEASUREMENT";
    case Verb::kUserMessage:
      return "USER_MESSAGE";
    case Verb::kRemoteTrace:
      return "REMOTE_TRACE";
    case Verb::kPathNegotiationRequest:
      return "PATH_NEGOTIATION_REQUEST";
  }
  return "UNKNOWN";
}

}  // namespace zts::vl1::proto

namespace zts::vl1 {

namespace {

using crypto::kPoly1305TagLen;
using crypto::kSalsaKeyLen;
constexpr size_t kMacLen = 8;
constexpr size_t kBlockLen = 64;
constexpr size_t kMaxPayloadLen = proto::kMaxPacketLen - proto::kHeaderLen;

// The per-packet key of §2.3: binds the key stream and MAC to the header and the length,
// so a relay may change only the hop bits.
void perPacketKey(uint8_t out[kSalsaKeyLen], const uint8_t* packet, size_t len,
                  const uint8_t key[kSalsaKeyLen]) {
  std::memcpy(out, key, kSalsaKeyLen);
  for (size_t i = 0; i < proto::kIdxFlags; ++i) out[i] ^= packet[i];
  out[proto::kIdxFlags] ^= packet[proto::kIdxFlags] & static_cast<uint8_t>(~proto::kMaskHops);
  out[19] ^= static_cast<uint8_t>(len);
  out[20] ^= static_cast<uint8_t>(len >> 8);
}

// libsodium's Salsa20/12 stream has no block counter; generating blocks one by one from
// block 1 is what its own stream function does internally, and needs no scratch copy.
void xorKeystreamFromBlock1(uint8_t* data, size_t len, const uint8_t nonce[8],
                            const uint8_t key[kSalsaKeyLen]) {
  uint8_t ks[kBlockLen];
  uint64_t block = 1;
  for (size_t off = 0; off < len; off += kBlockLen, ++block) {
    crypto::salsa2012Block(ks, nonce, block, key);
    const size_t n = std::min(kBlockLen, len - off);
    for (size_t i = 0; i < n; ++i) data[off + i] ^= ks[i];
  }
}

// The MAC covers the envelope (verb byte onwards); its one-time key is keystream block 0.
void envelopeTag(uint8_t tag[kPoly1305TagLen], const uint8_t* packet, size_t len,
                 const uint8_t block0[kBlockLen]) {
  crypto::poly1305(tag, packet + proto::kIdxVerb, len - proto::kIdxVerb, block0);
}

}  // namespace

uint64_t HeaderView::packetId() const {
  return util::readBigEndian(p + proto::kIdxPacketId, 8);
}
uint64_t HeaderView::dest() const {
  return util::readBigEndian(p + proto::kIdxDest, 5);
}
uint64_t HeaderView::source() const {
  return util::readBigEndian(p + proto::kIdxSource, 5);
}

void beginPacket(std::vector<uint8_t>& out, uint64_t packetId, uint64_t dest, uint64_t source,
                 proto::Verb verb) {
  out.clear();
  util::Writer w(out);
  w.u64(packetId);
  w.u40(dest);
  w.u40(source);
  w.u8(0);
  w.zeros(kMacLen);
  w.u8(static_cast<uint8_t>(verb));
}

void armor(uint8_t* packet, size_t len, const uint8_t key[32], unsigned cipher, bool fragmented) {
  // Preconditions, but a bad call must not corrupt memory or emit a half-armored packet.
  if (len < proto::kHeaderLen) return;
  if (cipher != proto::kCipherPoly1305None && cipher != proto::kCipherPoly1305Salsa2012) return;

  uint8_t flags = static_cast<uint8_t>(cipher << 3);
  if (cipher == proto::kCipherPoly1305Salsa2012) flags |= proto::kFlagEncryptedLegacy;
  if (fragmented) flags |= proto::kFlagFragmented;
  packet[proto::kIdxFlags] = flags;

  uint8_t k[kSalsaKeyLen];
  uint8_t block0[kBlockLen];
  perPacketKey(k, packet, len, key);
  crypto::salsa2012Block(block0, packet, 0, k);
  if (cipher == proto::kCipherPoly1305Salsa2012) {
    xorKeystreamFromBlock1(packet + proto::kIdxVerb, len - proto::kIdxVerb, packet, k);
  }
  uint8_t tag[kPoly1305TagLen];
  envelopeTag(tag, packet, len, block0);
  std::memcpy(packet + proto::kIdxMac, tag, kMacLen);
  crypto::wipe(k, sizeof k);
  crypto::wipe(block0, sizeof block0);
}

DearmorResult dearmor(uint8_t* packet, size_t len, const uint8_t key[32]) {
  if (len < proto::kHeaderLen) return DearmorResult::kTooShort;
  const unsigned cipher = HeaderView{packet}.cipher();
  if (cipher != proto::kCipherPoly1305None && cipher != proto::kCipherPoly1305Salsa2012) {
    return DearmorResult::kUnsupportedCipher;
  }
  uint8_t k[kSalsaKeyLen];
  uint8_t block0[kBlockLen];
  perPacketKey(k, packet, len, key);
  crypto::salsa2012Block(block0, packet, 0, k);
  uint8_t tag[kPoly1305TagLen];
  envelopeTag(tag, packet, len, block0);
  const bool good = crypto::equalConstantTime(tag, packet + proto::kIdxMac, kMacLen);
  if (good && cipher == proto::kCipherPoly1305Salsa2012) {
    xorKeystreamFromBlock1(packet + proto::kIdxVerb, len - proto::kIdxVerb, packet, k);
  }
  crypto::wipe(k, sizeof k);
  crypto::wipe(block0, sizeof block0);
  return good ? DearmorResult::kOk : DearmorResult::kBadMac;
}

void cryptHelloTail(uint8_t* packet, size_t len, size_t offset, const uint8_t key[32]) {
  if (len < proto::kHeaderLen || offset > len) return;
  uint8_t nonce[crypto::kSalsaNonceLen];
  std::memcpy(nonce, packet + proto::kIdxPacketId, sizeof nonce);
  nonce[7] &= 0xf8;
  crypto::salsa2012Xor(packet + offset, packet + offset, len - offset, nonce, key);
}

namespace {

// One scratch buffer per thread, grown once, so LZ4 never allocates per packet.
std::vector<char>& lz4Scratch(size_t size) {
  thread_local std::vector<char> scratch;
  if (scratch.size() < size) scratch.resize(size);
  return scratch;
}

}  // namespace

bool compressPayload(std::vector<uint8_t>& packet) {
  if (packet.size() <= proto::kHeaderLen) return false;
  if ((packet[proto::kIdxVerb] & proto::kVerbFlagCompressed) != 0) return false;
  const size_t payloadLen = packet.size() - proto::kIdxPayload;
  // Short payloads rarely shrink, and nothing longer than a packet can be sent anyway.
  if (payloadLen <= 64 || payloadLen > kMaxPayloadLen) return false;

  const int bound = LZ4_compressBound(static_cast<int>(payloadLen));
  std::vector<char>& out = lz4Scratch(static_cast<size_t>(bound));
  const int n =
      LZ4_compress_default(reinterpret_cast<const char*>(packet.data() + proto::kIdxPayload),
                           out.data(), static_cast<int>(payloadLen), bound);
  if (n <= 0 || static_cast<size_t>(n) >= payloadLen) return false;
  std::memcpy(packet.data() + proto::kIdxPayload, out.data(), static_cast<size_t>(n));
  packet.resize(proto::kIdxPayload + static_cast<size_t>(n));
  packet[proto::kIdxVerb] |= proto::kVerbFlagCompressed;
  return true;
}

bool uncompressPayload(std::vector<uint8_t>& packet) {
  if (packet.size() < proto::kHeaderLen) return false;
  if ((packet[proto::kIdxVerb] & proto::kVerbFlagCompressed) == 0) return true;
  const size_t srcLen = packet.size() - proto::kIdxPayload;
  if (srcLen == 0 || srcLen > kMaxPayloadLen) return false;

  // The output capacity is the limit: LZ4's safe decoder fails rather than exceed it.
  std::vector<char>& out = lz4Scratch(kMaxPayloadLen);
  const int n =
      LZ4_decompress_safe(reinterpret_cast<const char*>(packet.data() + proto::kIdxPayload),
                          out.data(), static_cast<int>(srcLen), static_cast<int>(kMaxPayloadLen));
  if (n < 0) return false;
  packet.resize(proto::kIdxPayload + static_cast<size_t>(n));
  std::memcpy(packet.data() + proto::kIdxPayload, out.data(), static_cast<size_t>(n));
  packet[proto::kIdxVerb] &= static_cast<uint8_t>(~proto::kVerbFlagCompressed);
  return true;
}

}  // namespace zts::vl1
