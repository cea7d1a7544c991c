// The VL1 packet: its 28-byte header, the verbs, armor (cipher suites 0 and 1), the HELLO
// tail encryption and LZ4 compression of payloads (protocol.md §2, §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zts::vl1::proto {

// Header layout.
constexpr size_t kIdxPacketId = 0;
constexpr size_t kIdxDest = 8;
constexpr size_t kIdxSource = 13;
constexpr size_t kIdxFlags = 18;
constexpr size_t kIdxMac = 19;
constexpr size_t kIdxVerb = 27;
constexpr size_t kIdxPayload = 28;
constexpr size_t kHeaderLen = 28;

constexpr size_t kDefaultPhysicalMtu = 1432;
constexpr size_t kMaxPacketLen = 10024;  // 7 fragments of the default MTU
constexpr size_t kFragmentHeaderLen = 16;
constexpr size_t kMaxFragments = 7;
constexpr uint8_t kFragmentIndicator = 0xff;
constexpr size_t kIdxFragmentIndicator = 13;

constexpr uint8_t kFlagEncryptedLegacy = 0x80;
constexpr uint8_t kFlagFragmented = 0x40;
constexpr uint8_t kMaskCipher = 0x38;
constexpr uint8_t kMaskHops = 0x07;
constexpr uint8_t kVerbFlagCompressed = 0x80;
constexpr uint8_t kMaskVerb = 0x1f;
constexpr unsigned kMaxHops = 7;

constexpr unsigned kCipherPoly1305None = 0;
constexpr unsigned kCipherPoly1305Salsa2012 = 1;

// The protocol version we claim: stock peers then never send us AES-GMAC-SIV (§2.7).
constexpr uint8_t kProtocolVersion = 11;
constexpr uint8_t kMinProtocolVersion = 4;
constexpr uint8_t kSoftwareMajor = 1;
constexpr uint8_t kSoftwareMinor = 14;
constexpr uint16_t kSoftwareRevision = 1;

enum class Verb : uint8_t {
  kNop = 0x00,
  kHello = 0x01,
  kError = 0x02,
  kOk = 0x03,
  kWhois = 0x04,
  kRendezvous = 0x05,
  kFrame = 0x06,
  kExtFrame = 0x07,
  kEcho = 0x08,
  kMulticastLike = 0x09,
  kNetworkCredentials = 0x0a,
  kNetworkConfigRequest = 0x0b,
  kNetworkConfig = 0x0c,
  kMulticastGather = 0x0d,
  kMulticastFrame = 0x0e,
  kPushDirectPaths = 0x10,
  kAck = 0x12,
  kQosMeasurement = 0x13,
  kUserMessage = 0x14,
  kRemoteTrace = 0x15,
  kPathNegotiationRequest = 0x16,
};

const char* verbName(uint8_t verb);

enum class ErrorCode : uint8_t {
  kInvalidRequest = 0x01,
  kBadProtocolVersion = 0x02,
  kObjectNotFound = 0x03,
  kIdentityCollision = 0x04,
  kUnsupportedOperation = 0x05,
  kNeedMembershipCertificate = 0x06,
  kNetworkAccessDenied = 0x07,
  kUnwantedMulticast = 0x08,
  kNetworkAuthenticationRequired = 0x09,
};

}  // namespace zts::vl1::proto

namespace zts::vl1 {

// Reads header fields of a packet of at least kHeaderLen bytes (callers check the length).
struct HeaderView {
  const uint8_t* p;
  uint64_t packetId() const;
  uint64_t dest() const;
  uint64_t source() const;
  uint8_t flags() const { return p[proto::kIdxFlags]; }
  unsigned cipher() const { return (flags() & proto::kMaskCipher) >> 3; }
  unsigned hops() const { return flags() & proto::kMaskHops; }
  bool fragmented() const { return (flags() & proto::kFlagFragmented) != 0; }
  // Valid only after dearmor (the verb byte is encrypted under cipher 1).
  uint8_t verbByte() const { return p[proto::kIdxVerb]; }
};

// Starts a packet: header with the given id, addresses and verb; flags and MAC zero.
void beginPacket(std::vector<uint8_t>& out, uint64_t packetId, uint64_t dest, uint64_t source,
                 proto::Verb verb);

// Armors a complete packet in place (§2.3): sets the cipher bits, the legacy 0x80 bit for
// cipher 1, and the fragmented bit when `fragmented`; encrypts for cipher 1; writes the
// MAC. `key` is the first 32 bytes of the 48-byte peer key. Hops must be 0.
void armor(uint8_t* packet, size_t len, const uint8_t key[32], unsigned cipher, bool fragmented);

enum class DearmorResult { kOk, kBadMac, kUnsupportedCipher, kTooShort };

// Checks the MAC (hop bits masked) and decrypts cipher 1 in place. Packets that fail are
// left unusable.
DearmorResult dearmor(uint8_t* packet, size_t len, const uint8_t key[32]);

// The HELLO tail encryption (§2.4): XORs packet[offset..len) with Salsa20/12 keyed by
// `key` and the packet id with the low 3 bits of its last byte cleared. Its own inverse.
void cryptHelloTail(uint8_t* packet, size_t len, size_t offset, const uint8_t key[32]);

// Compresses the payload after the verb byte with LZ4 if that makes it shorter and it is
// over 64 bytes, setting the verb's compressed bit. Returns whether it compressed.
bool compressPayload(std::vector<uint8_t>& packet);

// Inflates an LZ4-compressed payload (verb bit 0x80) in place, clearing the bit; false
// when the block is malformed or inflates beyond kMaxPacketLen. A packet without the bit
// is left as it is (true).
bool uncompressPayload(std::vector<uint8_t>& packet);

}  // namespace zts::vl1
