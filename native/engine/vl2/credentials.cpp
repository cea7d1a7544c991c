#include "credentials.h"

#include <cstring>

namespace zts::vl2 {
namespace {

constexpr uint8_t kSignatureTypeC25519 = 1;
// Frames the "for-sign" form so one credential's signed bytes never equal another's.
constexpr uint8_t kForSignFrame = 0x7f;
constexpr size_t kForSignFrameLen = 8;

bool readSignature(util::Reader& r, CredentialSignature& sig) {
  sig.type = r.u8();
  const size_t len = r.u16();
  // Nothing longer than a C25519 signature exists; refusing more bounds what we keep.
  if (!r.ok() || len > vl1::kSignatureLen) {
    r.fail();
    return false;
  }
  const uint8_t* p = r.bytes(len);
  if (p == nullptr) return false;
  sig.bytes.assign(p, p + len);
  return true;
}

void writeSignature(util::Writer& w, const CredentialSignature& sig) {
  w.u8(sig.type);
  w.u16(static_cast<uint16_t>(sig.bytes.size()));
  w.bytes(sig.bytes.data(), sig.bytes.size());
}

// The trailing "[2] length ‖ extension bytes" field.
bool readExtra(util::Reader& r, std::vector<uint8_t>* keep) {
  const size_t len = r.u16();
  const uint8_t* p = r.bytes(len);
  if (!r.ok()) return false;
  if (keep != nullptr) keep->assign(p, p + len);
  return true;
}

void writeExtra(util::Writer& w, const std::vector<uint8_t>& extra) {
  w.u16(static_cast<uint16_t>(extra.size()));
  w.bytes(extra.data(), extra.size());
}

// 8 × 0x7f ‖ body ‖ [2] 0 ‖ 8 × 0x7f (§5.7).
template <typename F>
std::vector<uint8_t> forSign(F writeBody) {
  std::vector<uint8_t> out;
  util::Writer w(out);
  for (size_t i = 0; i < kForSignFrameLen; ++i) w.u8(kForSignFrame);
  writeBody(w);
  w.u16(0);
  for (size_t i = 0; i < kForSignFrameLen; ++i) w.u8(kForSignFrame);
  return out;
}

bool signInto(const vl1::Identity& signer, const std::vector<uint8_t>& msg,
              CredentialSignature& sig) {
  uint8_t s[vl1::kSignatureLen];
  if (!signer.sign(msg.data(), msg.size(), s)) return false;
  sig.type = kSignatureTypeC25519;
  sig.bytes.assign(s, s + sizeof s);
  return true;
}

bool verifySignature(const vl1::Identity& signer, uint64_t signedBy,
                     const std::vector<uint8_t>& msg, const CredentialSignature& sig) {
  if (signedBy == 0 || signer.address() != signedBy) return false;
  if (sig.type != kSignatureTypeC25519 || sig.bytes.size() != vl1::kSignatureLen) return false;
  return signer.verify(msg.data(), msg.size(), sig.bytes.data(), sig.bytes.size());
}

// Reads credentials of one kind until the data ends.
template <typename T>
std::optional<std::vector<T>> parseBlob(const uint8_t* data, size_t len) {
  util::Reader r(data, len);
  std::vector<T> out;
  while (r.remaining() > 0) {
    auto c = T::read(r);
    if (!c) return std::nullopt;
    out.push_back(std::move(*c));
  }
  return out;
}

// Reads a [2] count then that many credentials into `out`. False when malformed.
template <typename T>
bool readCounted(util::Reader& r, std::vector<T>& out) {
  const size_t count = r.u16();
  if (!r.ok()) return false;
  for (size_t i = 0; i < count; ++i) {
    auto c = T::read(r);
    if (!c) return false;
    out.push_back(std::move(*c));
  }
  return true;
}

template <typename T>
void writeCounted(util::Writer& w, const std::vector<T>& items) {
  w.u16(static_cast<uint16_t>(items.size()));
  for (const auto& c : items) c.write(w);
}

// Keeps the bytes a reader consumed since `start`.
std::vector<uint8_t> consumed(const util::Reader& r, const uint8_t* start) {
  return std::vector<uint8_t>(start, r.cursor());
}

}  // namespace

// ---- Certificate of Ownership ----

std::optional<CertificateOfOwnership> CertificateOfOwnership::read(util::Reader& r) {
  CertificateOfOwnership c;
  c.networkId = r.u64();
  c.timestamp = r.u64();
  c.flags = r.u64();
  c.id = r.u32();
  const size_t n = r.u16();
  if (!r.ok() || n > kMaxThings) {
    r.fail();
    return std::nullopt;
  }
  for (size_t i = 0; i < n; ++i) {
    Thing t;
    t.type = static_cast<ThingType>(r.u8());
    r.copy(t.value.data(), t.value.size());
    c.things.push_back(t);
  }
  c.issuedTo = r.u40();
  c.signedBy = r.u40();
  if (!readSignature(r, c.signature) || !readExtra(r, &c.extra)) return std::nullopt;
  return c;
}

std::optional<CertificateOfOwnership> CertificateOfOwnership::parse(const uint8_t* data, size_t len,
                                                                    size_t* consumedLen) {
  util::Reader r(data, len);
  auto c = read(r);
  if (c && consumedLen != nullptr) *consumedLen = r.offset();
  return c;
}

void CertificateOfOwnership::writeBody(util::Writer& w) const {
  w.u64(networkId);
  w.u64(timestamp);
  w.u64(flags);
  w.u32(id);
  w.u16(static_cast<uint16_t>(things.size()));
  for (const auto& t : things) {
    w.u8(static_cast<uint8_t>(t.type));
    w.bytes(t.value.data(), t.value.size());
  }
  w.u40(issuedTo);
  w.u40(signedBy);
}

void CertificateOfOwnership::write(util::Writer& w) const {
  writeBody(w);
  writeSignature(w, signature);
  writeExtra(w, extra);
}

std::vector<uint8_t> CertificateOfOwnership::serialize() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  write(w);
  return out;
}

bool CertificateOfOwnership::sign(const vl1::Identity& signer) {
  if (!signer.hasPrivate()) return false;
  signedBy = signer.address();
  return signInto(signer, forSign([this](util::Writer& w) { writeBody(w); }), signature);
}

bool CertificateOfOwnership::verify(const vl1::Identity& signer) const {
  return verifySignature(signer, signedBy, forSign([this](util::Writer& w) { writeBody(w); }),
                         signature);
}

void CertificateOfOwnership::addIpv4(const uint8_t ip[4]) {
  Thing t;
  t.type = ThingType::kIpv4;
  std::memcpy(t.value.data(), ip, 4);
  things.push_back(t);
}

void CertificateOfOwnership::addIpv6(const uint8_t ip[16]) {
  Thing t;
  t.type = ThingType::kIpv6;
  std::memcpy(t.value.data(), ip, 16);
  things.push_back(t);
}

void CertificateOfOwnership::addMac(uint64_t mac) {
  Thing t;
  t.type = ThingType::kMac;
  macToBytes(mac, t.value.data());
  things.push_back(t);
}

// ---- Tag ----

std::optional<Tag> Tag::read(util::Reader& r) {
  Tag t;
  t.networkId = r.u64();
  t.timestamp = r.u64();
  t.id = r.u32();
  t.value = r.u32();
  t.issuedTo = r.u40();
  t.signedBy = r.u40();
  if (!r.ok() || !readSignature(r, t.signature) || !readExtra(r, &t.extra)) return std::nullopt;
  return t;
}

void Tag::writeBody(util::Writer& w) const {
  w.u64(networkId);
  w.u64(timestamp);
  w.u32(id);
  w.u32(value);
  w.u40(issuedTo);
  w.u40(signedBy);
}

void Tag::write(util::Writer& w) const {
  writeBody(w);
  writeSignature(w, signature);
  writeExtra(w, extra);
}

std::vector<uint8_t> Tag::serialize() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  write(w);
  return out;
}

bool Tag::sign(const vl1::Identity& signer) {
  if (!signer.hasPrivate()) return false;
  signedBy = signer.address();
  return signInto(signer, forSign([this](util::Writer& w) { writeBody(w); }), signature);
}

bool Tag::verify(const vl1::Identity& signer) const {
  return verifySignature(signer, signedBy, forSign([this](util::Writer& w) { writeBody(w); }),
                         signature);
}

// ---- Capability ----

std::optional<Capability> Capability::read(util::Reader& r) {
  const uint8_t* start = r.cursor();
  Capability c;
  c.networkId = r.u64();
  c.timestamp = r.u64();
  c.id = r.u32();
  const size_t ruleCount = r.u16();
  for (size_t i = 0; i < ruleCount && r.ok(); ++i) {
    Rule rule;
    if (!readRule(r, rule)) return std::nullopt;
    c.rules.push_back(std::move(rule));
  }
  c.maxCustodyChainLength = r.u8();
  // The chain ends with a zero "to" address.
  for (;;) {
    const uint64_t to = r.u40();
    if (!r.ok()) return std::nullopt;
    if (to == 0) break;
    if (c.custody.size() == kMaxCustodyChain) {
      r.fail();
      return std::nullopt;
    }
    Custody link;
    link.to = to;
    link.from = r.u40();
    if (!readSignature(r, link.signature)) return std::nullopt;
    c.custody.push_back(std::move(link));
  }
  if (!readExtra(r, nullptr)) return std::nullopt;
  c.raw = consumed(r, start);
  return c;
}

// ---- Revocation ----

std::optional<Revocation> Revocation::read(util::Reader& r) {
  const uint8_t* start = r.cursor();
  Revocation v;
  r.skip(4);  // reserved
  v.id = r.u32();
  v.networkId = r.u64();
  r.skip(4);  // reserved
  v.credentialId = r.u32();
  v.threshold = r.u64();
  v.flags = r.u64();
  v.target = r.u40();
  v.signedBy = r.u40();
  v.credentialType = r.u8();
  if (!r.ok() || !readSignature(r, v.signature) || !readExtra(r, nullptr)) return std::nullopt;
  v.raw = consumed(r, start);
  return v;
}

// ---- NETWORK_CREDENTIALS ----

std::optional<NetworkCredentials> NetworkCredentials::parse(const uint8_t* data, size_t len) {
  util::Reader r(data, len);
  NetworkCredentials nc;
  // COMs, each starting with its version byte 0x01, until the 0x00 terminator.
  for (;;) {
    if (r.remaining() == 0) return nc;
    if (*r.cursor() == 0) {
      r.skip(1);
      break;
    }
    auto com = CertificateOfMembership::read(r);
    if (!com) return std::nullopt;
    nc.coms.push_back(std::move(*com));
  }
  if (r.remaining() == 0) return nc;
  if (!readCounted(r, nc.capabilities)) return std::nullopt;
  if (r.remaining() == 0) return nc;
  if (!readCounted(r, nc.tags)) return std::nullopt;
  if (r.remaining() == 0) return nc;
  if (!readCounted(r, nc.revocations)) return std::nullopt;
  if (r.remaining() == 0) return nc;
  if (!readCounted(r, nc.coos)) return std::nullopt;
  return nc;
}

std::vector<uint8_t> NetworkCredentials::serialize() const {
  std::vector<uint8_t> out;
  util::Writer w(out);
  for (const auto& com : coms) com.write(w);
  w.u8(0);
  writeCounted(w, capabilities);
  writeCounted(w, tags);
  writeCounted(w, revocations);
  writeCounted(w, coos);
  return out;
}

std::optional<std::vector<CertificateOfOwnership>> parseCooBlob(const uint8_t* data, size_t len) {
  return parseBlob<CertificateOfOwnership>(data, len);
}

std::optional<std::vector<Tag>> parseTagBlob(const uint8_t* data, size_t len) {
  return parseBlob<Tag>(data, len);
}

std::optional<std::vector<Capability>> parseCapabilityBlob(const uint8_t* data, size_t len) {
  return parseBlob<Capability>(data, len);
}

}  // namespace zts::vl2
