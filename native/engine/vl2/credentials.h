// The credentials other than the COM (protocol.md §5.7) and the NETWORK_CREDENTIALS payload
// that carries them all (§3.8). Each credential keeps its exact wire bytes, so it can be
// forwarded or re-serialised unchanged; COO and Tag signatures can be checked and made.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../util/buffer.h"
#include "../vl1/identity.h"
#include "certificate_of_membership.h"
#include "rules.h"

namespace zts::vl2 {

// The signature block shared by these credentials: [1] type ‖ [2] length ‖ signature.
// Type 1 (C25519, 96 bytes) is the only one in use.
struct CredentialSignature {
  uint8_t type = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const CredentialSignature&) const = default;
};

class CertificateOfOwnership {
 public:
  enum class ThingType : uint8_t { kNull = 0, kMac = 1, kIpv4 = 2, kIpv6 = 3 };
  struct Thing {
    ThingType type = ThingType::kNull;
    std::array<uint8_t, 16> value{};  // MAC: 6 bytes used, IPv4: 4
    bool operator==(const Thing&) const = default;
  };
  static constexpr size_t kMaxThings = 16;

  static std::optional<CertificateOfOwnership> read(util::Reader& r);
  static std::optional<CertificateOfOwnership> parse(const uint8_t* data, size_t len,
                                                     size_t* consumed = nullptr);
  void write(util::Writer& w) const;
  std::vector<uint8_t> serialize() const;

  bool sign(const vl1::Identity& signer);
  bool verify(const vl1::Identity& signer) const;

  void addIpv4(const uint8_t ip[4]);
  void addIpv6(const uint8_t ip[16]);
  void addMac(uint64_t mac);

  uint64_t networkId = 0;
  uint64_t timestamp = 0;
  uint64_t flags = 0;
  uint32_t id = 0;
  std::vector<Thing> things;
  uint64_t issuedTo = 0;
  uint64_t signedBy = 0;
  CredentialSignature signature;
  // Content of the trailing extension field (empty from 1.14), kept so re-serialising a
  // parsed credential reproduces it.
  std::vector<uint8_t> extra;

  bool operator==(const CertificateOfOwnership&) const = default;

 private:
  void writeBody(util::Writer& w) const;  // everything before the signature block
};

class Tag {
 public:
  static std::optional<Tag> read(util::Reader& r);
  std::vector<uint8_t> serialize() const;
  void write(util::Writer& w) const;
  bool sign(const vl1::Identity& signer);
  bool verify(const vl1::Identity& signer) const;

  uint64_t networkId = 0;
  uint64_t timestamp = 0;
  uint32_t id = 0;
  uint32_t value = 0;
  uint64_t issuedTo = 0;
  uint64_t signedBy = 0;
  CredentialSignature signature;
  std::vector<uint8_t> extra;  // as in CertificateOfOwnership

  bool operator==(const Tag&) const = default;

 private:
  void writeBody(util::Writer& w) const;
};

// Parsed for forwarding only: the custody chain is kept, not verified.
class Capability {
 public:
  static constexpr size_t kMaxCustodyChain = 7;
  struct Custody {
    uint64_t to = 0;
    uint64_t from = 0;
    CredentialSignature signature;
    bool operator==(const Custody&) const = default;
  };

  static std::optional<Capability> read(util::Reader& r);
  void write(util::Writer& w) const { w.bytes(raw.data(), raw.size()); }

  uint64_t networkId = 0;
  uint64_t timestamp = 0;
  uint32_t id = 0;
  std::vector<Rule> rules;
  uint8_t maxCustodyChainLength = 0;
  std::vector<Custody> custody;
  std::vector<uint8_t> raw;

  bool operator==(const Capability&) const = default;
};

// Parsed for forwarding only; the signature is kept, not verified.
class Revocation {
 public:
  static std::optional<Revocation> read(util::Reader& r);
  void write(util::Writer& w) const { w.bytes(raw.data(), raw.size()); }

  uint32_t id = 0;
  uint64_t networkId = 0;
  uint32_t credentialId = 0;
  uint64_t threshold = 0;
  uint64_t flags = 0;
  uint64_t target = 0;
  uint64_t signedBy = 0;
  uint8_t credentialType = 0;
  CredentialSignature signature;
  std::vector<uint8_t> raw;

  bool operator==(const Revocation&) const = default;
};

// NETWORK_CREDENTIALS (§3.8): COMs up to a 0x00 byte, then counted Capabilities, Tags,
// Revocations and COOs. Older senders stop after any section, so a payload that ends
// exactly at a section boundary is complete; one that ends inside a structure is not.
// Bytes after the COO section are ignored (room for sections added later).
struct NetworkCredentials {
  std::vector<CertificateOfMembership> coms;
  std::vector<Capability> capabilities;
  std::vector<Tag> tags;
  std::vector<Revocation> revocations;
  std::vector<CertificateOfOwnership> coos;

  static std::optional<NetworkCredentials> parse(const uint8_t* data, size_t len);
  // Always writes every section (with zero counts).
  std::vector<uint8_t> serialize() const;
};

// The concatenated credentials of one kind in a network config blob (`COO`, `TAG`, `CAP`);
// nullopt when one is malformed or truncated.
std::optional<std::vector<CertificateOfOwnership>> parseCooBlob(const uint8_t* data, size_t len);
std::optional<std::vector<Tag>> parseTagBlob(const uint8_t* data, size_t len);
std::optional<std::vector<Capability>> parseCapabilityBlob(const uint8_t* data, size_t len);

}  // namespace zts::vl2
