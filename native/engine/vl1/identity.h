// ZeroTier v1 identities (type 0): X25519 + Ed25519 key pairs whose 40-bit address comes
// from a memory-hard hash of the public key (protocol.md §1).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zts::vl1 {

constexpr size_t kPublicKeyLen = 64;
constexpr size_t kPrivateKeyLen = 64;
constexpr size_t kSignatureLen = 96;
constexpr size_t kAgreedKeyLen = 48;
constexpr size_t kAddressLen = 5;
constexpr size_t kMemoryHardScratchLen = 2097152;
// address(5) type(1) public(64) privLen(1) [private(64)]
constexpr size_t kIdentityBinaryPublicLen = 71;
constexpr size_t kIdentityBinarySecretLen = 135;

using PublicKey = std::array<uint8_t, kPublicKeyLen>;
using PrivateKey = std::array<uint8_t, kPrivateKeyLen>;
using Digest = std::array<uint8_t, 64>;

// Address 0 and addresses starting with 0xff are reserved (0xff marks fragments on the wire).
bool isReservedAddress(uint64_t address);

std::string addressToString(uint64_t address);

// The memory-hard digest of a 64-byte public key. `scratch` must hold
// kMemoryHardScratchLen bytes; it is overwritten.
void memoryHardDigest(const uint8_t publicKey[kPublicKeyLen], Digest& digest, uint8_t* scratch);

class Identity {
 public:
  Identity() = default;
  Identity(uint64_t address, const PublicKey& pub) : address_(address), public_(pub) {}
  Identity(uint64_t address, const PublicKey& pub, const PrivateKey& priv);
  Identity(const Identity& other) = default;
  Identity& operator=(const Identity& other) = default;
  ~Identity();

  // Runs the memory-hard search (about 15 digests of 2 MiB each on average): call it off
  // any latency-sensitive thread.
  static Identity generate();

  // Parses "address:0:public[:private]" (hex in either case, surrounding white space
  // ignored). Checks syntax only; call locallyValidate() for the address proof.
  static std::optional<Identity> fromString(std::string_view text);

  // Parses the binary form at `data`; on success sets `consumed`. Bounds-checked.
  static std::optional<Identity> fromBinary(const uint8_t* data, size_t len, size_t& consumed);

  std::string toString(bool includePrivate) const;
  // Writes the binary form; returns bytes written or 0 when `cap` is too small.
  size_t toBinary(uint8_t* out, size_t cap, bool includePrivate) const;

  // The stock validity rule (digest[0] < 17, digest tail == address, address not reserved),
  // plus, for a secret identity, that the private halves derive the public halves.
  bool locallyValidate() const;
  bool locallyValidate(uint8_t* scratch) const;

  bool sign(const uint8_t* msg, size_t len, uint8_t sig[kSignatureLen]) const;
  bool verify(const uint8_t* msg, size_t len, const uint8_t* sig, size_t sigLen) const;
  // The 48-byte symmetric key shared with `other` (protocol.md §1.6).
  bool agree(const Identity& other, uint8_t key[kAgreedKeyLen]) const;

  uint64_t address() const { return address_; }
  const PublicKey& publicKey() const { return public_; }
  const PrivateKey& privateKey() const { return private_; }
  bool hasPrivate() const { return hasPrivate_; }
  bool samePublic(const Identity& o) const {
    return address_ == o.address_ && public_ == o.public_;
  }

 private:
  uint64_t address_ = 0;
  PublicKey public_{};
  PrivateKey private_{};
  bool hasPrivate_ = false;
};

}  // namespace zts::vl1
