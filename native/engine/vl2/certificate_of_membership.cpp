#include "certificate_of_membership.h"

#include <algorithm>

#include "../crypto/primitives.h"

namespace zts::vl2 {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint64_t kAny = 0xffffffffffffffffULL;

uint64_t absDiff(uint64_t a, uint64_t b) {
  return a > b ? a - b : b - a;
}

}  // namespace

std::array<uint64_t, 4> identityHashWords(const vl1::Identity& id) {
  uint8_t in[vl1::kAddressLen + vl1::kPublicKeyLen];
  for (size_t i = 0; i < vl1::kAddressLen; ++i) {
    in[i] = static_cast<uint8_t>(id.address() >> (8 * (vl1::kAddressLen - 1 - i)));
  }
  std::copy(id.publicKey().begin(), id.publicKey().end(), in + vl1::kAddressLen);
  uint8_t h[crypto::kSha384Len];
  crypto::sha384(h, in, sizeof in);
  std::array<uint64_t, 4> words{};
  for (size_t w = 0; w < 4; ++w) {
    for (size_t i = 0; i < 8; ++i) words[w] = (words[w] << 8) | h[8 * w + i];
  }
  return words;
}

CertificateOfMembership::CertificateOfMembership(std::vector<ComQualifier> qualifiers)
    : qualifiers_(std::move(qualifiers)) {
  if (qualifiers_.size() > kMaxQualifiers) qualifiers_.resize(kMaxQualifiers);
}

std::optional<CertificateOfMembership> CertificateOfMembership::issue(
    uint64_t nwid, uint64_t timestamp, uint64_t maxDelta, const vl1::Identity& member,
    const vl1::Identity& controller) {
  if (!controller.hasPrivate() || controller.address() != (nwid >> 24)) return std::nullopt;
  const auto hash = identityHashWords(member);
  CertificateOfMembership com({
      {kIdTimestamp, timestamp, maxDelta},
      {kIdNetworkId, nwid, 0},
      {kIdIssuedTo, member.address(), kAny},
      {kIdIdentityHash0 + 0, hash[0], kAny},
      {kIdIdentityHash0 + 1, hash[1], kAny},
      {kIdIdentityHash0 + 2, hash[2], kAny},
      {kIdIdentityHash0 + 3, hash[3], kAny},
  });
  if (!com.sign(controller)) return std::nullopt;
  return com;
}

std::optional<CertificateOfMembership> CertificateOfMembership::read(util::Reader& r) {
  if (r.u8() != kVersion) {
    r.fail();
    return std::nullopt;
  }
  const size_t count = r.u16();
  if (!r.ok() || count > kMaxQualifiers) {
    r.fail();
    return std::nullopt;
  }
  CertificateOfMembership com;
  for (size_t i = 0; i < count; ++i) {
    ComQualifier q;
    q.id = r.u64();
    q.value = r.u64();
    q.maxDelta = r.u64();
    com.qualifiers_.push_back(q);
  }
  com.signedBy_ = r.u40();
  // Signed-by 0 marks an unsigned COM, which carries no signature bytes.
  if (com.signedBy_ != 0) r.copy(com.signature_.data(), com.signature_.size());
  if (!r.ok()) return std::nullopt;
  return com;
}

std::optional<CertificateOfMembership> CertificateOfMembership::parse(const uint8_t* data,
                                                                      size_t len,
                                                                      size_t* consumed) {
  util::Reader r(data, len);
  auto com = read(r);
  if (com && consumed != nullptr) *consumed = r.offset();
  return com;
}

void CertificateOfMembership::write(util::Writer& w) const {
  w.u8(kVersion);
  w.u16(static_cast<uint16_t>(qualifiers_.size()));
  for (const auto& q : qualifiers_) {
    w.u64(q.id);
    w.u64(q.value);
    w.u64(q.maxDelta);
  }
  w.u40(signedBy_);
  if (signedBy_ != 0) w.bytes(signature_.data(), signature_.size());
}

std::vector<uint8_t> CertificateOfMembership::serialize() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  write(w);
  return out;
}

std::vector<uint8_t> CertificateOfMembership::signedForm() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  for (const auto& q : qualifiers_) {
    w.u64(q.id);
    w.u64(q.value);
    w.u64(q.maxDelta);
  }
  return out;
}

bool CertificateOfMembership::sign(const vl1::Identity& signer) {
  if (!signer.hasPrivate()) return false;
  const auto msg = signedForm();
  if (!signer.sign(msg.data(), msg.size(), signature_.data())) return false;
  signedBy_ = signer.address();
  return true;
}

bool CertificateOfMembership::verify(const vl1::Identity& signer) const {
  if (signedBy_ == 0 || signedBy_ != signer.address()) return false;
  if (signedBy_ != (networkId() >> 24)) return false;
  const auto msg = signedForm();
  return signer.verify(msg.data(), msg.size(), signature_.data(), signature_.size());
}

std::optional<uint64_t> CertificateOfMembership::qualifier(uint64_t id) const {
  for (const auto& q : qualifiers_) {
    if (q.id == id) return q.value;
  }
  return std::nullopt;
}

bool CertificateOfMembership::agreesWith(const CertificateOfMembership& theirs,
                                         const vl1::Identity& theirIdentity) const {
  // An empty COM would agree with anything.
  if (qualifiers_.empty() || theirs.qualifiers_.empty()) return false;
  bool mineHasHash = false;
  for (const auto& q : qualifiers_) {
    const auto v = theirs.qualifier(q.id);
    if (!v || absDiff(q.value, *v) > q.maxDelta) return false;
    if (q.id >= kIdIdentityHash0 && q.id < kIdIdentityHash0 + 4) mineHasHash = true;
  }
  if (theirs.issuedTo() != theirIdentity.address()) return false;
  if (mineHasHash) {
    const auto hash = identityHashWords(theirIdentity);
    for (uint64_t i = 0; i < 4; ++i) {
      const auto v = theirs.qualifier(kIdIdentityHash0 + i);
      if (!v || *v != hash[i]) return false;
    }
  }
  return true;
}

}  // namespace zts::vl2
