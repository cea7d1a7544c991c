// The Certificate of Membership (COM, protocol.md §5.6): qualifiers (id, value, max delta)
// signed by the network's controller. Two members may talk on a private network when each
// holds the other's COM and it "agrees" with its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../util/buffer.h"
#include "../vl1/identity.h"

namespace zts::vl2 {

struct ComQualifier {
  uint64_t id = 0;
  uint64_t value = 0;
  uint64_t maxDelta = 0;
  bool operator==(const ComQualifier&) const = default;
};

class CertificateOfMembership {
 public:
  static constexpr size_t kMaxQualifiers = 8;
  static constexpr size_t kQualifierLen = 24;
  // Qualifier ids issued by 1.14 controllers.
  static constexpr uint64_t kIdTimestamp = 0;
  static constexpr uint64_t kIdNetworkId = 1;
  static constexpr uint64_t kIdIssuedTo = 2;
  static constexpr uint64_t kIdIdentityHash0 = 3;  // 3..6: SHA-384 words of the identity

  CertificateOfMembership() = default;
  // Unsigned; at most kMaxQualifiers are kept.
  explicit CertificateOfMembership(std::vector<ComQualifier> qualifiers);

  // The 7 stock qualifiers for `member` on `nwid`, signed by `controller`. nullopt when the
  // controller has no private key or is not the network's controller (nwid >> 24).
  static std::optional<CertificateOfMembership> issue(uint64_t nwid, uint64_t timestamp,
                                                      uint64_t maxDelta,
                                                      const vl1::Identity& member,
                                                      const vl1::Identity& controller);

  // Reads one COM; the reader turns bad on a truncated or malformed one (version != 1,
  // more than kMaxQualifiers).
  static std::optional<CertificateOfMembership> read(util::Reader& r);
  static std::optional<CertificateOfMembership> parse(const uint8_t* data, size_t len,
                                                      size_t* consumed = nullptr);
  void write(util::Writer& w) const;
  std::vector<uint8_t> serialize() const;

  // Signs the qualifiers (as 24-byte big-endian triples); sets signed-by to the signer.
  bool sign(const vl1::Identity& signer);
  // The signer must be the network's controller (nwid >> 24), the recorded signer, and its
  // signature must be valid. Unsigned COMs never verify.
  bool verify(const vl1::Identity& signer) const;
  // Whether the holder of `theirs` (with identity `theirIdentity`) may talk to the holder of
  // this COM (§5.6): every qualifier of ours exists in theirs within our max delta, and if
  // ours carries identity-hash qualifiers, theirs carries all four and they match
  // `theirIdentity`. In addition theirs must be issued to `theirIdentity`'s address, so a
  // COM cannot be presented by anyone but its holder even without hash qualifiers. It does
  // not check signatures: verify `theirs` first.
  bool agreesWith(const CertificateOfMembership& theirs, const vl1::Identity& theirIdentity) const;

  const std::vector<ComQualifier>& qualifiers() const { return qualifiers_; }
  // The value of a qualifier (first one with that id).
  std::optional<uint64_t> qualifier(uint64_t id) const;
  uint64_t networkId() const { return qualifier(kIdNetworkId).value_or(0); }
  uint64_t timestamp() const { return qualifier(kIdTimestamp).value_or(0); }
  uint64_t issuedTo() const { return qualifier(kIdIssuedTo).value_or(0); }
  uint64_t signedBy() const { return signedBy_; }
  const std::array<uint8_t, vl1::kSignatureLen>& signature() const { return signature_; }

  bool operator==(const CertificateOfMembership&) const = default;

 private:
  std::vector<uint8_t> signedForm() const;

  std::vector<ComQualifier> qualifiers_;
  uint64_t signedBy_ = 0;
  std::array<uint8_t, vl1::kSignatureLen> signature_{};
};

// The four big-endian 64-bit words of SHA-384(address ‖ public key)[0..31] (§1.7).
std::array<uint64_t, 4> identityHashWords(const vl1::Identity& id);

}  // namespace zts::vl2
