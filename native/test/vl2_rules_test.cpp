#include <gtest/gtest.h>

#include "test_support.h"
#include "vl2/rules.h"

namespace zts {
namespace {

using vl2::FrameMeta;
using vl2::Rule;
using vl2::RuleAction;
using vl2::RuleResult;
using vl2::RuleType;

constexpr uint16_t kIpv4 = 0x0800;
constexpr uint16_t kArp = 0x0806;
constexpr uint16_t kIpv6 = 0x86dd;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kRst = 0x04;

const uint8_t kSrc6[16] = {0xfc, 0xaf, 0, 0x50, 0, 0x8e, 0x4d, 0xf2, 0x8b, 0x72, 0, 0, 0, 0, 0, 1};
const uint8_t kDst6[16] = {0xfc, 0xaf, 0, 0x50, 0, 0x0b, 0x9e, 0xc0, 0x4f, 0x21, 0, 0, 0, 0, 0, 1};

// An L4 header: ports for TCP/UDP (TCP with a 20-byte header and the given flags),
// type/code for ICMP.
std::vector<uint8_t> l4(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpFlags) {
  std::vector<uint8_t> h;
  if (proto == kTcp) {
    h.assign(20, 0);
    h[12] = 0x50;
    h[13] = tcpFlags;
  } else if (proto == kUdp) {
    h.assign(8, 0);
  } else {
    h = {static_cast<uint8_t>(sport), static_cast<uint8_t>(dport), 0, 0};
    return h;
  }
  h[0] = static_cast<uint8_t>(sport >> 8);
  h[1] = static_cast<uint8_t>(sport);
  h[2] = static_cast<uint8_t>(dport >> 8);
  h[3] = static_cast<uint8_t>(dport);
  return h;
}

std::vector<uint8_t> ipv6(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpFlags = 0,
                          bool hopByHop = false) {
  std::vector<uint8_t> p(40, 0);
  p[0] = 0x60;
  p[6] = hopByHop ? 0 : proto;
  p[7] = 64;
  std::copy(kSrc6, kSrc6 + 16, p.begin() + 8);
  std::copy(kDst6, kDst6 + 16, p.begin() + 24);
  if (hopByHop) {
    const uint8_t ext[8] = {proto, 0, 1, 4, 0, 0, 0, 0};
    p.insert(p.end(), ext, ext + 8);
  }
  const auto t = l4(proto, sport, dport, tcpFlags);
  p.insert(p.end(), t.begin(), t.end());
  return p;
}

std::vector<uint8_t> ipv4(uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tcpFlags = 0,
                          const uint8_t src[4] = nullptr, uint16_t fragOffset = 0) {
  static const uint8_t kSrc4[4] = {10, 147, 17, 5};
  std::vector<uint8_t> p(20, 0);
  p[0] = 0x45;
  p[6] = static_cast<uint8_t>(fragOffset >> 8);
  p[7] = static_cast<uint8_t>(fragOffset);
  p[8] = 64;
  p[9] = proto;
  std::copy(src ? src : kSrc4, (src ? src : kSrc4) + 4, p.begin() + 12);
  const uint8_t dst[4] = {10, 147, 17, 9};
  std::copy(dst, dst + 4, p.begin() + 16);
  const auto t = l4(proto, sport, dport, tcpFlags);
  p.insert(p.end(), t.begin(), t.end());
  return p;
}

struct Frame {
  std::vector<uint8_t> bytes;
  FrameMeta meta;
};

Frame frame(uint16_t etherType, std::vector<uint8_t> bytes) {
  Frame f;
  f.bytes = std::move(bytes);
  f.meta.ztSource = 0x8e4df28b72ULL;
  f.meta.ztDest = 0x0b9ec04f21ULL;
  f.meta.macSource = 0x028e4da28b22ULL;
  f.meta.macDest = 0x020b9e2f4f71ULL;
  f.meta.etherType = etherType;
  f.meta.payload = f.bytes.data();
  f.meta.payloadLen = f.bytes.size();
  return f;
}

RuleResult eval(const std::vector<Rule>& rules, uint16_t etherType, std::vector<uint8_t> bytes) {
  const Frame f = frame(etherType, std::move(bytes));
  return vl2::evaluateRules(rules, f.meta);
}

bool accepted(const std::vector<Rule>& rules, uint16_t etherType, std::vector<uint8_t> bytes) {
  const auto r = eval(rules, etherType, std::move(bytes));
  EXPECT_FALSE(r.unsupported);
  return r.action == RuleAction::kAccept;
}

const Rule kAccept = vl2::actionRule(RuleType::kActionAccept);
const Rule kDrop = vl2::actionRule(RuleType::kActionDrop);

TEST(Vl2Rules, ParseAndSerialize) {
  const auto acceptAll = vl2::parseRules(test::hex("0100").data(), 2);
  ASSERT_TRUE(acceptAll);
  ASSERT_EQ(acceptAll->size(), 1u);
  EXPECT_EQ((*acceptAll)[0], kAccept);
  EXPECT_TRUE(vl2::parseRules(nullptr, 0)->empty());
  const auto rules = vl2::adhocRules(22, 22);
  const auto bytes = vl2::serializeRules(rules);
  EXPECT_EQ(vl2::parseRules(bytes.data(), bytes.size()), rules);
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A cut inside a rule fails; a cut between rules is a shorter table.
    const auto p = vl2::parseRules(bytes.data(), n);
    if (p)
      EXPECT_EQ(vl2::serializeRules(*p), std::vector<uint8_t>(bytes.begin(), bytes.begin() + n));
  }
  EXPECT_FALSE(vl2::parseRules(test::hex("2502").data(), 2));
  EXPECT_FALSE(vl2::parseRules(test::hex("250286").data(), 3));
  // Bits of the type byte.
  const auto r = vl2::ethertypeRule(kIpv6, true, true);
  EXPECT_EQ(r.typeByte, 0x80 | 0x40 | 37);
  EXPECT_TRUE(r.negate());
  EXPECT_TRUE(r.orWithPrevious());
  EXPECT_EQ(r.type(), 37);
  EXPECT_FALSE(r.isAction());
  EXPECT_EQ(test::toHex(vl2::serializeRules({r})), "e50286dd");
}

TEST(Vl2Rules, AcceptAllAndEmpty) {
  EXPECT_TRUE(accepted({kAccept}, kIpv4, ipv4(kTcp, 1, 2, kSyn)));
  EXPECT_TRUE(accepted({kAccept}, kArp, std::vector<uint8_t>(28, 0)));
  // No action fires: drop (a config without rules drops everything).
  EXPECT_FALSE(accepted({}, kIpv4, ipv4(kTcp, 1, 2, kSyn)));
  EXPECT_FALSE(accepted({vl2::ethertypeRule(kIpv4)}, kIpv4, ipv4(kTcp, 1, 2, kSyn)));
}

// §7.5 with ports 80..80: what the ad-hoc network lets through.
TEST(Vl2Rules, AdhocRuleSet) {
  const auto rules = vl2::adhocRules(80, 80);
  // 1. Not IPv6: no IPv4, no ARP.
  EXPECT_FALSE(accepted(rules, kIpv4, ipv4(kTcp, 5555, 80, kSyn)));
  EXPECT_FALSE(accepted(rules, kArp, std::vector<uint8_t>(28, 0)));
  // 2. ICMPv6 (echo request 128, neighbour solicitation 135).
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kIcmpv6, 128, 0)));
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kIcmpv6, 135, 0)));
  // 3. TCP or UDP to a port in the range.
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 80, kSyn)));
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kUdp, 5555, 80)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 81, kSyn)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 79, kSyn)));
  // UDP works only when every datagram's destination port is in the range: the reply
  // from port 80 to the client's port is dropped.
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kUdp, 5555, 53)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kUdp, 80, 5555)));
  // 4. TCP segments without SYN, either way (established connections).
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 80, 5555, kAck)));
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 9999, kAck)));
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 9999, kRst)));
  // 5. SYN-ACK (the server's answer from inside the range).
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 80, 5555, kSyn | kAck)));
  // 6. A connection attempt to a port outside the range.
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 22, kSyn)));
  // Other IPv6 protocols.
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(132, 5555, 80)));  // SCTP to port 80
  // Extension headers are walked to find the transport header.
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 80, kSyn, true)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kTcp, 5555, 81, kSyn, true)));
  // A truncated IPv6 packet matches nothing but the final drop.
  EXPECT_FALSE(accepted(rules, kIpv6, std::vector<uint8_t>(10, 0x60)));
  EXPECT_FALSE(accepted(rules, kIpv6, {}));
}

TEST(Vl2Rules, AdhocPortRange) {
  const auto rules = vl2::adhocRules(8000, 8010);
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kUdp, 1, 8000)));
  EXPECT_TRUE(accepted(rules, kIpv6, ipv6(kUdp, 1, 8010)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kUdp, 1, 8011)));
  EXPECT_FALSE(accepted(rules, kIpv6, ipv6(kUdp, 1, 7999)));
}

TEST(Vl2Rules, AddressMatches) {
  const Frame f = frame(kIpv4, ipv4(kTcp, 1000, 2000, kSyn));
  auto check = [&](const Rule& match) {
    return vl2::evaluateRules({match, kAccept}, f.meta).action == RuleAction::kAccept;
  };
  EXPECT_TRUE(check(vl2::ztAddressRule(RuleType::kMatchSourceZtAddress, 0x8e4df28b72ULL)));
  EXPECT_FALSE(check(vl2::ztAddressRule(RuleType::kMatchSourceZtAddress, 0x0b9ec04f21ULL)));
  EXPECT_TRUE(check(vl2::ztAddressRule(RuleType::kMatchDestZtAddress, 0x0b9ec04f21ULL)));
  EXPECT_TRUE(check(vl2::macRule(RuleType::kMatchMacSource, 0x028e4da28b22ULL)));
  EXPECT_FALSE(check(vl2::macRule(RuleType::kMatchMacSource, 0x020b9e2f4f71ULL)));
  EXPECT_TRUE(check(vl2::macRule(RuleType::kMatchMacDest, 0x020b9e2f4f71ULL)));
  const uint8_t net[4] = {10, 147, 17, 0};
  EXPECT_TRUE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Source, net, 24)));
  EXPECT_TRUE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Dest, net, 24)));
  EXPECT_FALSE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Source, net, 32)));
  const uint8_t other[4] = {10, 147, 16, 0};
  EXPECT_FALSE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Source, other, 24)));
  EXPECT_TRUE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Source, other, 23)));
  EXPECT_TRUE(check(vl2::ipv4Rule(RuleType::kMatchIpv4Source, other, 0)));
  // An IPv6 match never matches IPv4.
  EXPECT_FALSE(check(vl2::ipv6Rule(RuleType::kMatchIpv6Source, kSrc6, 0)));

  const Frame f6 = frame(kIpv6, ipv6(kUdp, 1, 2));
  auto check6 = [&](const Rule& match) {
    return vl2::evaluateRules({match, kAccept}, f6.meta).action == RuleAction::kAccept;
  };
  EXPECT_TRUE(check6(vl2::ipv6Rule(RuleType::kMatchIpv6Source, kSrc6, 128)));
  EXPECT_FALSE(check6(vl2::ipv6Rule(RuleType::kMatchIpv6Source, kDst6, 128)));
  EXPECT_TRUE(check6(vl2::ipv6Rule(RuleType::kMatchIpv6Source, kDst6, 40)));  // same /40
  EXPECT_FALSE(check6(vl2::ipv6Rule(RuleType::kMatchIpv6Source, kDst6, 41)));
  EXPECT_TRUE(check6(vl2::ipv6Rule(RuleType::kMatchIpv6Dest, kDst6, 128)));
  EXPECT_FALSE(check6(vl2::ipv4Rule(RuleType::kMatchIpv4Source, net, 0)));
}

TEST(Vl2Rules, ProtocolAndPortMatches) {
  auto check = [](const Rule& match, uint16_t et, std::vector<uint8_t> bytes) {
    return accepted({match, kAccept}, et, std::move(bytes));
  };
  EXPECT_TRUE(check(vl2::ipProtocolRule(kTcp), kIpv4, ipv4(kTcp, 1, 2)));
  EXPECT_FALSE(check(vl2::ipProtocolRule(kUdp), kIpv4, ipv4(kTcp, 1, 2)));
  EXPECT_FALSE(check(vl2::ipProtocolRule(0), kArp, std::vector<uint8_t>(28, 0)));
  EXPECT_TRUE(check(vl2::ethertypeRule(kArp), kArp, std::vector<uint8_t>(28, 0)));
  EXPECT_TRUE(check(vl2::portRangeRule(RuleType::kMatchSourcePortRange, 1000, 1000), kIpv4,
                    ipv4(kUdp, 1000, 2000)));
  EXPECT_FALSE(check(vl2::portRangeRule(RuleType::kMatchSourcePortRange, 1001, 1999), kIpv4,
                     ipv4(kUdp, 1000, 2000)));
  EXPECT_TRUE(check(vl2::portRangeRule(RuleType::kMatchDestPortRange, 1001, 2000), kIpv4,
                    ipv4(kUdp, 1000, 2000)));
  // A later IPv4 fragment has no ports.
  EXPECT_FALSE(check(vl2::portRangeRule(RuleType::kMatchDestPortRange, 0, 65535), kIpv4,
                     ipv4(kUdp, 1000, 2000, 0, nullptr, 10)));
  // ICMP: IPv4 echo request (type 8, code 0); ICMPv6 type 135.
  EXPECT_TRUE(check(vl2::icmpRule(8, std::nullopt), kIpv4, ipv4(1, 8, 0)));
  EXPECT_TRUE(check(vl2::icmpRule(8, 0), kIpv4, ipv4(1, 8, 0)));
  EXPECT_FALSE(check(vl2::icmpRule(8, 1), kIpv4, ipv4(1, 8, 0)));
  EXPECT_FALSE(check(vl2::icmpRule(0, std::nullopt), kIpv4, ipv4(1, 8, 0)));
  EXPECT_TRUE(check(vl2::icmpRule(135, std::nullopt), kIpv6, ipv6(kIcmpv6, 135, 0)));
  // Protocol 1 in IPv6 is not ICMP.
  EXPECT_FALSE(check(vl2::icmpRule(8, std::nullopt), kIpv6, ipv6(1, 8, 0)));
  // Frame size of the Ethernet payload (20 + 8 bytes here).
  EXPECT_TRUE(check(vl2::frameSizeRule(28, 28), kIpv4, ipv4(kUdp, 1, 2)));
  EXPECT_FALSE(check(vl2::frameSizeRule(29, 1500), kIpv4, ipv4(kUdp, 1, 2)));
}

TEST(Vl2Rules, Characteristics) {
  auto chars = [](uint64_t mask, const Frame& f) {
    return vl2::evaluateRules({vl2::characteristicsRule(mask), kAccept}, f.meta).action ==
           RuleAction::kAccept;
  };
  Frame f = frame(kIpv4, ipv4(kTcp, 1, 2, kSyn | kAck));
  EXPECT_TRUE(chars(vl2::kCharTcpSyn, f));
  EXPECT_TRUE(chars(vl2::kCharTcpAck, f));
  EXPECT_FALSE(chars(vl2::kCharTcpFin, f));
  EXPECT_FALSE(chars(vl2::kCharInbound, f));
  f.meta.inbound = true;
  EXPECT_TRUE(chars(vl2::kCharInbound, f));
  EXPECT_FALSE(chars(vl2::kCharMulticast, f));
  f.meta.macDest = vl2::kBroadcastMac;
  EXPECT_TRUE(chars(vl2::kCharMulticast, f));
  EXPECT_TRUE(chars(vl2::kCharBroadcast, f));
  // NS is the low bit of the data-offset byte.
  f.bytes[20 + 12] |= 0x01;
  EXPECT_TRUE(chars(vl2::kCharTcpNs, f));
  // UDP has no TCP flags.
  const Frame u = frame(kIpv4, ipv4(kUdp, 1, 2));
  EXPECT_FALSE(chars(vl2::kCharTcpSyn | vl2::kCharTcpAck, u));
}

TEST(Vl2Rules, NotAndOr) {
  const auto tcp = ipv4(kTcp, 1, 2, kSyn);
  // NOT
  EXPECT_FALSE(accepted({vl2::ipProtocolRule(kTcp, true), kAccept}, kIpv4, tcp));
  EXPECT_TRUE(accepted({vl2::ipProtocolRule(kUdp, true), kAccept}, kIpv4, tcp));
  // OR with the previous match: UDP or TCP.
  EXPECT_TRUE(accepted({vl2::ipProtocolRule(kUdp), vl2::ipProtocolRule(kTcp, false, true), kAccept},
                       kIpv4, tcp));
  // AND: UDP and TCP never both.
  EXPECT_FALSE(
      accepted({vl2::ipProtocolRule(kUdp), vl2::ipProtocolRule(kTcp), kAccept}, kIpv4, tcp));
  // The set resets after an action that did not fire.
  EXPECT_TRUE(accepted({vl2::ipProtocolRule(kUdp), kDrop, kAccept}, kIpv4, tcp));
  // The first action that fires wins.
  EXPECT_FALSE(accepted({vl2::ipProtocolRule(kTcp), kDrop, kAccept}, kIpv4, tcp));
}

TEST(Vl2Rules, UnsupportedFailsClosed) {
  const auto tcp = ipv4(kTcp, 1, 2, kSyn);
  auto raw = [](uint8_t type, std::vector<uint8_t> value) {
    Rule r;
    r.typeByte = type;
    r.value = std::move(value);
    return r;
  };
  const std::vector<Rule> unsupported[] = {
      {raw(26, {0, 1}), kAccept},                    // VLAN id
      {raw(35, {0xfc, 0, 0xff}), kAccept},           // IP TOS
      {raw(44, {0, 0, 0, 1, 0, 0, 0, 0}), kAccept},  // tag difference
      {raw(20, {}), kAccept},                        // unknown type
      {vl2::characteristicsRule(vl2::kCharSenderIpAuthenticated), kAccept},
      {raw(37, {0x08}), kAccept},  // short ethertype
      {raw(static_cast<uint8_t>(RuleType::kActionTee), std::vector<uint8_t>(11, 0))},
      {raw(static_cast<uint8_t>(RuleType::kActionRedirect), std::vector<uint8_t>(11, 0))},
      {raw(9, {})},  // unknown action
  };
  for (const auto& rules : unsupported) {
    const auto r = eval(rules, kIpv4, tcp);
    EXPECT_EQ(r.action, RuleAction::kDrop);
    EXPECT_TRUE(r.unsupported) << int(rules[0].typeByte);
  }
  // NOT does not turn an unsupported match into a supported one.
  EXPECT_TRUE(eval({raw(0x80 | 26, {0, 1}), kAccept}, kIpv4, tcp).unsupported);
  // Never reached: an earlier accept decides.
  const auto early = eval({kAccept, raw(26, {0, 1}), kAccept}, kIpv4, tcp);
  EXPECT_EQ(early.action, RuleAction::kAccept);
  EXPECT_FALSE(early.unsupported);
  // A TEE whose set did not match does nothing.
  const auto skipped =
      eval({vl2::ipProtocolRule(kUdp),
            raw(static_cast<uint8_t>(RuleType::kActionTee), std::vector<uint8_t>(11, 0)), kAccept},
           kIpv4, tcp);
  EXPECT_EQ(skipped.action, RuleAction::kAccept);
  // PRIORITY only tags QoS; BREAK leaves the table without an accept.
  EXPECT_TRUE(
      accepted({raw(static_cast<uint8_t>(RuleType::kActionPriority), {3}), kAccept}, kIpv4, tcp));
  EXPECT_FALSE(accepted({vl2::actionRule(RuleType::kActionBreak), kAccept}, kIpv4, tcp));
}

}  // namespace
}  // namespace zts
