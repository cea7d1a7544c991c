#include <gtest/gtest.h>

#include <set>

#include "test_support.h"
#include "vl2/credentials.h"
#include "vl2/dictionary.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using vl2::Capability;
using vl2::CertificateOfOwnership;
using vl2::NetworkCredentials;
using vl2::Revocation;
using vl2::Tag;

// The COO inside V15 (owner B, IPv4 10.147.17.5, signed by A).
std::vector<uint8_t> v15Coo() {
  const auto v15 = test::vectorBlock("V15");
  return *vl2::Dictionary::parse(v15.data(), v15.size()).getBinary("COO");
}

Tag makeTag() {
  Tag t;
  t.networkId = test::kVl2Nwid;
  t.timestamp = test::kVl2Timestamp;
  t.id = 42;
  t.value = 7;
  t.issuedTo = test::identityB().address();
  EXPECT_TRUE(t.sign(test::identityA()));
  return t;
}

// A capability with two rules and one custody link, assembled by hand (§5.7).
std::vector<uint8_t> capabilityBytes(size_t links = 1) {
  std::vector<uint8_t> out;
  util::Writer w(out);
  w.u64(test::kVl2Nwid);
  w.u64(test::kVl2Timestamp);
  w.u32(3);  // id
  w.u16(2);  // rule count
  vl2::writeRule(w, vl2::ethertypeRule(0x0800));
  vl2::writeRule(w, vl2::actionRule(vl2::RuleType::kActionAccept));
  w.u8(7);  // max custody chain length
  for (size_t i = 0; i < links; ++i) {
    w.u40(0x0b9ec04f21ULL);
    w.u40(0x8e4df28b72ULL);
    w.u8(1);
    w.u16(96);
    w.zeros(96);
  }
  w.u40(0);  // end of chain
  w.u16(0);  // extension length
  return out;
}

std::vector<uint8_t> revocationBytes() {
  std::vector<uint8_t> out;
  util::Writer w(out);
  w.u32(0);
  w.u32(9);  // id
  w.u64(test::kVl2Nwid);
  w.u32(0);
  w.u32(4);  // credential id
  w.u64(test::kVl2Timestamp);
  w.u64(0);  // flags
  w.u40(0x0b9ec04f21ULL);
  w.u40(0x8e4df28b72ULL);
  w.u8(1);  // credential type: COM
  w.u8(1);
  w.u16(96);
  w.zeros(96);
  w.u16(0);
  return out;
}

TEST(Vl2Credentials, CooFromV15) {
  const auto bytes = v15Coo();
  EXPECT_EQ(bytes.size(), 158u);
  size_t consumed = 0;
  const auto coo = CertificateOfOwnership::parse(bytes.data(), bytes.size(), &consumed);
  ASSERT_TRUE(coo);
  EXPECT_EQ(consumed, bytes.size());
  EXPECT_EQ(coo->networkId, test::kVl2Nwid);
  EXPECT_EQ(coo->timestamp, test::kVl2Timestamp);
  EXPECT_EQ(coo->id, 1u);
  ASSERT_EQ(coo->things.size(), 1u);
  EXPECT_EQ(coo->things[0].type, CertificateOfOwnership::ThingType::kIpv4);
  EXPECT_EQ(test::toHex(coo->things[0].value.data(), 4), "0a931105");
  EXPECT_EQ(coo->issuedTo, 0x0b9ec04f21u);
  EXPECT_EQ(coo->signedBy, 0x8e4df28b72u);
  EXPECT_TRUE(coo->verify(test::identityA()));
  EXPECT_FALSE(coo->verify(test::identityB()));
  EXPECT_EQ(coo->serialize(), bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(CertificateOfOwnership::parse(bytes.data(), n)) << n;
  }
  // Tampering with a signed field or the signature.
  for (size_t i : {size_t{0}, size_t{20}, size_t{33}, size_t{60}, size_t{70}, size_t{100}}) {
    auto bad = bytes;
    bad[i] ^= 0x01;
    const auto c = CertificateOfOwnership::parse(bad.data(), bad.size());
    ASSERT_TRUE(c) << i;
    EXPECT_FALSE(c->verify(test::identityA())) << i;
  }
}

TEST(Vl2Credentials, CooLimits) {
  auto bytes = v15Coo();
  // More things than allowed.
  bytes[28] = 0x00;
  bytes[29] = 0x11;
  EXPECT_FALSE(CertificateOfOwnership::parse(bytes.data(), bytes.size()));
  // A signature longer than 96 bytes.
  bytes = v15Coo();
  bytes[158 - 2 - 96 - 1] = 0x61;
  bytes.push_back(0);
  EXPECT_FALSE(CertificateOfOwnership::parse(bytes.data(), bytes.size()));
  // A non-empty extension field is kept and written back.
  bytes = v15Coo();
  bytes[157] = 2;
  bytes.push_back(0xaa);
  bytes.push_back(0xbb);
  const auto coo = CertificateOfOwnership::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(coo);
  EXPECT_EQ(coo->extra, (std::vector<uint8_t>{0xaa, 0xbb}));
  EXPECT_EQ(coo->serialize(), bytes);
}

TEST(Vl2Credentials, TagSignAndRoundTrip) {
  const Tag t = makeTag();
  EXPECT_TRUE(t.verify(test::identityA()));
  EXPECT_FALSE(t.verify(test::identityB()));
  const auto bytes = t.serialize();
  EXPECT_EQ(bytes.size(), 8u + 8 + 4 + 4 + 5 + 5 + 3 + 96 + 2);
  util::Reader r(bytes.data(), bytes.size());
  const auto back = Tag::read(r);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, t);
  EXPECT_TRUE(back->verify(test::identityA()));
  auto changed = t;
  changed.value = 8;
  EXPECT_FALSE(changed.verify(test::identityA()));
  for (size_t n = 0; n < bytes.size(); ++n) {
    util::Reader cut(bytes.data(), n);
    EXPECT_FALSE(Tag::read(cut)) << n;
  }
}

TEST(Vl2Credentials, Capability) {
  const auto bytes = capabilityBytes();
  util::Reader r(bytes.data(), bytes.size());
  const auto cap = Capability::read(r);
  ASSERT_TRUE(cap);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(cap->networkId, test::kVl2Nwid);
  EXPECT_EQ(cap->id, 3u);
  ASSERT_EQ(cap->rules.size(), 2u);
  EXPECT_EQ(cap->rules[0], vl2::ethertypeRule(0x0800));
  EXPECT_EQ(cap->maxCustodyChainLength, 7);
  ASSERT_EQ(cap->custody.size(), 1u);
  EXPECT_EQ(cap->custody[0].to, 0x0b9ec04f21u);
  EXPECT_EQ(cap->custody[0].from, 0x8e4df28b72u);
  EXPECT_EQ(cap->raw, bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    util::Reader cut(bytes.data(), n);
    EXPECT_FALSE(Capability::read(cut)) << n;
  }
  // The chain may hold at most 7 links.
  const auto seven = capabilityBytes(7);
  util::Reader r7(seven.data(), seven.size());
  EXPECT_TRUE(Capability::read(r7));
  const auto eight = capabilityBytes(8);
  util::Reader r8(eight.data(), eight.size());
  EXPECT_FALSE(Capability::read(r8));
}

TEST(Vl2Credentials, Revocation) {
  const auto bytes = revocationBytes();
  util::Reader r(bytes.data(), bytes.size());
  const auto rev = Revocation::read(r);
  ASSERT_TRUE(rev);
  EXPECT_EQ(rev->id, 9u);
  EXPECT_EQ(rev->networkId, test::kVl2Nwid);
  EXPECT_EQ(rev->credentialId, 4u);
  EXPECT_EQ(rev->threshold, test::kVl2Timestamp);
  EXPECT_EQ(rev->target, 0x0b9ec04f21u);
  EXPECT_EQ(rev->signedBy, 0x8e4df28b72u);
  EXPECT_EQ(rev->credentialType, 1);
  EXPECT_EQ(rev->raw, bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    util::Reader cut(bytes.data(), n);
    EXPECT_FALSE(Revocation::read(cut)) << n;
  }
}

NetworkCredentials fullCredentials() {
  NetworkCredentials nc;
  const auto v14 = test::vectorBlock("V14");
  nc.coms.push_back(*vl2::CertificateOfMembership::parse(v14.data(), v14.size()));
  const auto capBytes = capabilityBytes();
  util::Reader cr(capBytes.data(), capBytes.size());
  nc.capabilities.push_back(*Capability::read(cr));
  nc.tags.push_back(makeTag());
  const auto revBytes = revocationBytes();
  util::Reader rr(revBytes.data(), revBytes.size());
  nc.revocations.push_back(*Revocation::read(rr));
  const auto coo = v15Coo();
  nc.coos.push_back(*CertificateOfOwnership::parse(coo.data(), coo.size()));
  return nc;
}

TEST(Vl2Credentials, StockShapedPayload) {
  // What the stock capture carried: COM, 0x00, no capabilities/tags/revocations, one COO.
  NetworkCredentials nc;
  const auto v14 = test::vectorBlock("V14");
  nc.coms.push_back(*vl2::CertificateOfMembership::parse(v14.data(), v14.size()));
  const auto coo = v15Coo();
  nc.coos.push_back(*CertificateOfOwnership::parse(coo.data(), coo.size()));
  const auto bytes = nc.serialize();
  std::vector<uint8_t> expected = v14;
  expected.insert(expected.end(), {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01});
  expected.insert(expected.end(), coo.begin(), coo.end());
  EXPECT_EQ(bytes, expected);
  const auto back = NetworkCredentials::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->coms.size(), 1u);
  EXPECT_TRUE(back->coms[0].verify(test::identityA()));
  ASSERT_EQ(back->coos.size(), 1u);
  EXPECT_TRUE(back->coos[0].verify(test::identityA()));
}

TEST(Vl2Credentials, FullRoundTripAndTruncations) {
  const auto nc = fullCredentials();
  const auto bytes = nc.serialize();
  const auto back = NetworkCredentials::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->coms, nc.coms);
  EXPECT_EQ(back->capabilities, nc.capabilities);
  EXPECT_EQ(back->tags, nc.tags);
  EXPECT_EQ(back->revocations, nc.revocations);
  EXPECT_EQ(back->coos, nc.coos);
  EXPECT_EQ(back->serialize(), bytes);

  // Older senders stop after a section: those prefixes parse; any other cut fails.
  const size_t com = 272;
  const size_t afterTerm = com + 1;
  const size_t afterCaps = afterTerm + 2 + capabilityBytes().size();
  const size_t afterTags = afterCaps + 2 + makeTag().serialize().size();
  const size_t afterRevs = afterTags + 2 + revocationBytes().size();
  const std::set<size_t> boundaries = {0,         com,       afterTerm,   afterCaps,
                                       afterTags, afterRevs, bytes.size()};
  for (size_t n = 0; n <= bytes.size(); ++n) {
    const auto p = NetworkCredentials::parse(bytes.data(), n);
    EXPECT_EQ(p.has_value(), boundaries.count(n) == 1) << n;
  }
  const auto onlyComs = NetworkCredentials::parse(bytes.data(), afterTerm);
  ASSERT_TRUE(onlyComs);
  EXPECT_EQ(onlyComs->coms.size(), 1u);
  EXPECT_TRUE(onlyComs->tags.empty());
  const auto toTags = NetworkCredentials::parse(bytes.data(), afterTags);
  ASSERT_TRUE(toTags);
  EXPECT_EQ(toTags->tags.size(), 1u);
  EXPECT_TRUE(toTags->coos.empty());
}

TEST(Vl2Credentials, MalformedPayloads) {
  const uint8_t notACom[] = {0x02, 0x00, 0x00};
  EXPECT_FALSE(NetworkCredentials::parse(notACom, sizeof notACom));
  // Counts larger than what follows.
  const uint8_t tooMany[] = {0x00, 0x00, 0x05};
  EXPECT_FALSE(NetworkCredentials::parse(tooMany, sizeof tooMany));
  const uint8_t empty[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const auto nothing = NetworkCredentials::parse(empty, sizeof empty);
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->coms.empty());
  EXPECT_EQ(NetworkCredentials().serialize(), std::vector<uint8_t>(empty, empty + sizeof empty));
}

TEST(Vl2Credentials, StockCoosVerify) {
  const auto controller = test::stockController();
  for (const char* path : {test::kStockClientConf, test::kStockServerConf}) {
    const auto bytes = test::readSharedFile(path);
    const auto blob = *vl2::Dictionary::parse(bytes.data(), bytes.size()).getBinary("COO");
    const auto coos = vl2::parseCooBlob(blob.data(), blob.size());
    ASSERT_TRUE(coos) << path;
    ASSERT_EQ(coos->size(), 1u);
    EXPECT_TRUE((*coos)[0].verify(controller)) << path;
    EXPECT_EQ((*coos)[0].serialize(), blob);
  }
}

TEST(Vl2Credentials, Blobs) {
  auto two = v15Coo();
  const auto one = v15Coo();
  two.insert(two.end(), one.begin(), one.end());
  EXPECT_EQ(vl2::parseCooBlob(two.data(), two.size())->size(), 2u);
  EXPECT_FALSE(vl2::parseCooBlob(two.data(), two.size() - 1));
  EXPECT_TRUE(vl2::parseCooBlob(nullptr, 0)->empty());
  const auto tag = makeTag().serialize();
  EXPECT_EQ(vl2::parseTagBlob(tag.data(), tag.size())->size(), 1u);
  const auto cap = capabilityBytes();
  EXPECT_EQ(vl2::parseCapabilityBlob(cap.data(), cap.size())->size(), 1u);
}

}  // namespace
}  // namespace zts
