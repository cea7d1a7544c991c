#include <gtest/gtest.h>

#include "test_support.h"
#include "vl2/certificate_of_membership.h"
#include "vl2/dictionary.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using vl2::CertificateOfMembership;
using vl2::ComQualifier;

CertificateOfMembership comOfB() {
  auto com = CertificateOfMembership::issue(test::kVl2Nwid, test::kVl2Timestamp, test::kVl2MaxDelta,
                                            test::identityB(), test::identityA());
  EXPECT_TRUE(com);
  return com.value_or(CertificateOfMembership());
}

TEST(Vl2Com, IssueMatchesV14) {
  const auto bytes = comOfB().serialize();
  EXPECT_EQ(bytes.size(), 272u);
  EXPECT_EQ(test::toHex(bytes), test::toHex(test::vectorBlock("V14")));
}

TEST(Vl2Com, ParseV14) {
  const auto v14 = test::vectorBlock("V14");
  size_t consumed = 0;
  const auto com = CertificateOfMembership::parse(v14.data(), v14.size(), &consumed);
  ASSERT_TRUE(com);
  EXPECT_EQ(consumed, 272u);
  EXPECT_EQ(com->qualifiers().size(), 7u);
  EXPECT_EQ(com->networkId(), test::kVl2Nwid);
  EXPECT_EQ(com->timestamp(), test::kVl2Timestamp);
  EXPECT_EQ(com->issuedTo(), 0x0b9ec04f21u);
  EXPECT_EQ(com->signedBy(), 0x8e4df28b72u);
  EXPECT_EQ(com->qualifiers()[0].maxDelta, test::kVl2MaxDelta);
  EXPECT_TRUE(com->verify(test::identityA()));
  EXPECT_EQ(com->serialize(), v14);
  EXPECT_EQ(*com, comOfB());
  // Trailing bytes are left to the caller.
  auto longer = v14;
  longer.push_back(0x00);
  EXPECT_TRUE(CertificateOfMembership::parse(longer.data(), longer.size(), &consumed));
  EXPECT_EQ(consumed, 272u);
}

TEST(Vl2Com, EveryTruncationFails) {
  const auto v14 = test::vectorBlock("V14");
  for (size_t n = 0; n < v14.size(); ++n) {
    EXPECT_FALSE(CertificateOfMembership::parse(v14.data(), n)) << n;
  }
}

TEST(Vl2Com, MalformedHeaders) {
  auto v14 = test::vectorBlock("V14");
  auto bad = v14;
  bad[0] = 2;  // version
  EXPECT_FALSE(CertificateOfMembership::parse(bad.data(), bad.size()));
  // Nine qualifiers (more than the maximum of 8), with enough bytes to hold them.
  std::vector<uint8_t> nine = {0x01, 0x00, 0x09};
  nine.resize(3 + 9 * 24 + 5, 0);
  EXPECT_FALSE(CertificateOfMembership::parse(nine.data(), nine.size()));
  // Eight is allowed (unsigned: signed-by 0 and no signature).
  std::vector<uint8_t> eight = {0x01, 0x00, 0x08};
  eight.resize(3 + 8 * 24 + 5, 0);
  const auto com = CertificateOfMembership::parse(eight.data(), eight.size());
  ASSERT_TRUE(com);
  EXPECT_EQ(com->qualifiers().size(), 8u);
  EXPECT_EQ(com->signedBy(), 0u);
  EXPECT_EQ(com->serialize(), eight);
  EXPECT_FALSE(com->verify(test::identityA()));
}

TEST(Vl2Com, BadSignatures) {
  const auto a = test::identityA();
  const auto b = test::identityB();
  const auto v14 = test::vectorBlock("V14");
  EXPECT_FALSE(comOfB().verify(b));  // not the signer
  // A flipped bit anywhere in the qualifiers or the signature breaks it.
  for (size_t i :
       {size_t{3}, size_t{20}, size_t{100}, size_t{170}, size_t{176}, size_t{200}, size_t{271}}) {
    auto bad = v14;
    bad[i] ^= 0x01;
    const auto com = CertificateOfMembership::parse(bad.data(), bad.size());
    ASSERT_TRUE(com) << i;
    EXPECT_FALSE(com->verify(a)) << i;
  }
  // A validly signed COM whose signer is not the network's controller (nwid >> 24).
  CertificateOfMembership foreign({{0, test::kVl2Timestamp, test::kVl2MaxDelta},
                                   {1, 0x0b9ec04f21000001ULL, 0},
                                   {2, a.address(), ~0ULL}});
  ASSERT_TRUE(foreign.sign(a));
  EXPECT_FALSE(foreign.verify(a));
  // issue() refuses to sign for someone else's network, or without a private key.
  EXPECT_FALSE(CertificateOfMembership::issue(0x0b9ec04f21000001ULL, 1, 1, b, a));
  EXPECT_FALSE(CertificateOfMembership::issue(test::kVl2Nwid, 1, 1, b,
                                              vl1::Identity(a.address(), a.publicKey())));
}

TEST(Vl2Com, AgreementBetweenMembers) {
  const auto a = test::identityA();
  const auto b = test::identityB();
  const auto mine = comOfB();
  auto issueA = [&](uint64_t ts, uint64_t nwid = test::kVl2Nwid) {
    return *CertificateOfMembership::issue(nwid, ts, test::kVl2MaxDelta, a, a);
  };
  // A (also a member of its own network) with a COM 10 minutes older or newer.
  EXPECT_TRUE(mine.agreesWith(issueA(test::kVl2Timestamp - 600000), a));
  EXPECT_TRUE(issueA(test::kVl2Timestamp + 600000).agreesWith(mine, b));
  // Exactly at the max delta still agrees; one ms beyond does not, in either direction.
  EXPECT_TRUE(mine.agreesWith(issueA(test::kVl2Timestamp + test::kVl2MaxDelta), a));
  EXPECT_FALSE(mine.agreesWith(issueA(test::kVl2Timestamp + test::kVl2MaxDelta + 1), a));
  EXPECT_FALSE(mine.agreesWith(issueA(test::kVl2Timestamp - test::kVl2MaxDelta - 1), a));
  // Another network.
  const uint64_t other = test::kVl2Nwid + 1;
  EXPECT_FALSE(mine.agreesWith(issueA(test::kVl2Timestamp, other), a));
  // Their COM presented with the wrong identity (hash words and issued-to differ).
  EXPECT_FALSE(mine.agreesWith(issueA(test::kVl2Timestamp), b));
  // A COM whose issued-to matches but whose hash words do not.
  auto q = issueA(test::kVl2Timestamp).qualifiers();
  q[4].value ^= 1;
  EXPECT_FALSE(mine.agreesWith(CertificateOfMembership(q), a));
  // Missing one of the hash qualifiers.
  q = issueA(test::kVl2Timestamp).qualifiers();
  q.pop_back();
  EXPECT_FALSE(mine.agreesWith(CertificateOfMembership(q), a));
  // Missing the timestamp qualifier.
  q = issueA(test::kVl2Timestamp).qualifiers();
  q.erase(q.begin());
  EXPECT_FALSE(mine.agreesWith(CertificateOfMembership(q), a));
  // Empty COMs agree with nothing.
  EXPECT_FALSE(mine.agreesWith(CertificateOfMembership(), a));
  EXPECT_FALSE(CertificateOfMembership().agreesWith(mine, b));
}

TEST(Vl2Com, AgreementWithoutHashQualifiers) {
  // An old-style COM (ids 0..2 only): no hash check, but issued-to must still match.
  const auto a = test::identityA();
  const auto b = test::identityB();
  CertificateOfMembership mine({{0, 1000, 100}, {1, test::kVl2Nwid, 0}, {2, b.address(), ~0ULL}});
  CertificateOfMembership theirs({{0, 1050, 100}, {1, test::kVl2Nwid, 0}, {2, a.address(), ~0ULL}});
  EXPECT_TRUE(mine.agreesWith(theirs, a));
  EXPECT_FALSE(mine.agreesWith(theirs, b));
}

TEST(Vl2Com, StockComsVerifyAndAgree) {
  const auto controller = test::stockController();
  const auto client = test::stockMember("8b83622530");
  const auto server = test::stockMember("1bde67c0ad");
  auto loadCom = [](const char* path) {
    const auto bytes = test::readSharedFile(path);
    const auto d = vl2::Dictionary::parse(bytes.data(), bytes.size());
    const auto c = d.getBinary("C");
    EXPECT_TRUE(c);
    auto com = CertificateOfMembership::parse(c->data(), c->size());
    EXPECT_TRUE(com);
    return com.value_or(CertificateOfMembership());
  };
  const auto clientCom = loadCom(test::kStockClientConf);
  const auto serverCom = loadCom(test::kStockServerConf);
  EXPECT_TRUE(clientCom.verify(controller));
  EXPECT_TRUE(serverCom.verify(controller));
  EXPECT_EQ(clientCom.networkId(), test::kStockNwid);
  EXPECT_EQ(clientCom.issuedTo(), client.address());
  EXPECT_EQ(serverCom.issuedTo(), server.address());
  EXPECT_TRUE(clientCom.agreesWith(serverCom, server));
  EXPECT_TRUE(serverCom.agreesWith(clientCom, client));
  EXPECT_FALSE(clientCom.agreesWith(serverCom, client));
  // The stock controller issued exactly the qualifiers issue() builds (§5.6).
  const auto words = vl2::identityHashWords(client);
  const std::vector<ComQualifier> expected = {
      {0, clientCom.timestamp(), 1800000},
      {1, test::kStockNwid, 0},
      {2, client.address(), ~0ULL},
      {3, words[0], ~0ULL},
      {4, words[1], ~0ULL},
      {5, words[2], ~0ULL},
      {6, words[3], ~0ULL},
  };
  EXPECT_EQ(clientCom.qualifiers(), expected);
}

}  // namespace
}  // namespace zts
