#include "rules.h"

#include <cstring>

#include "../util/hex.h"

namespace zts::vl2 {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoUdpLite = 136;
// Characteristics we can compute from a frame alone; a mask asking for any other bit (the
// COO-based "sender authenticated" bits) cannot be answered here.
constexpr uint64_t kCharComputable = kCharInbound | kCharMulticast | kCharBroadcast | kCharTcpFin |
                                     kCharTcpSyn | kCharTcpRst | kCharTcpPsh | kCharTcpAck |
                                     kCharTcpUrg | kCharTcpEce | kCharTcpCwr | kCharTcpNs;

// Layer 3/4 fields of the Ethernet payload, found once per evaluation.
struct Fields {
  bool ip = false;  // a well-formed IPv4 or IPv6 header
  bool v6 = false;
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  uint8_t protocol = 0;
  bool ports = false;  // first fragment of TCP/UDP/SCTP/UDP-Lite with room for the ports
  uint16_t srcPort = 0;
  uint16_t dstPort = 0;
  bool icmp = false;
  uint8_t icmpType = 0;
  uint8_t icmpCode = 0;
  uint64_t tcpFlags = 0;  // characteristics bits
};

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

// Fills the transport fields from the first bytes of the L4 header at `l4` (len bytes).
void transport(Fields& f, const uint8_t* l4, size_t len) {
  const uint8_t p = f.protocol;
  if ((p == kProtoTcp || p == kProtoUdp || p == kProtoSctp || p == kProtoUdpLite) && len >= 4) {
    f.ports = true;
    f.srcPort = be16(l4);
    f.dstPort = be16(l4 + 2);
  }
  if (p == kProtoTcp && len >= 14) {
    f.tcpFlags = l4[13] | (static_cast<uint64_t>(l4[12] & 0x01) << 8);
  }
  if (((p == kProtoIcmp && !f.v6) || (p == kProtoIcmpv6 && f.v6)) && len >= 2) {
    f.icmp = true;
    f.icmpType = l4[0];
    f.icmpCode = l4[1];
  }
}

void parseIpv4(Fields& f, const uint8_t* d, size_t len) {
  if (len < 20 || (d[0] >> 4) != 4) return;
  const size_t ihl = static_cast<size_t>(d[0] & 0x0f) * 4;
  if (ihl < 20 || ihl > len) return;
  f.ip = true;
  f.protocol = d[9];
  std::memcpy(f.src, d + 12, 4);
  std::memcpy(f.dst, d + 16, 4);
  // Later fragments carry no transport header.
  const unsigned fragOffset = ((d[6] & 0x1fu) << 8) | d[7];
  if (fragOffset == 0) transport(f, d + ihl, len - ihl);
}

void parseIpv6(Fields& f, const uint8_t* d, size_t len) {
  if (len < 40 || (d[0] >> 4) != 6) return;
  f.ip = true;
  f.v6 = true;
  std::memcpy(f.src, d + 8, 16);
  std::memcpy(f.dst, d + 24, 16);
  uint8_t next = d[6];
  size_t pos = 40;
  // Walk the extension headers to the upper-layer protocol; a bounded number of them, so a
  // crafted chain cannot make evaluation expensive.
  for (int hops = 0; hops < 8; ++hops) {
    size_t extLen = 0;
    if (next == 0 || next == 43 || next == 60 ||
        next == 135) {  // hop-by-hop, routing, dest opts, mobility
      if (pos + 2 > len) return;
      extLen = (static_cast<size_t>(d[pos + 1]) + 1) * 8;
    } else if (next == 44) {  // fragment
      if (pos + 8 > len) return;
      const unsigned fragOffset = (static_cast<unsigned>(d[pos + 2]) << 5) | (d[pos + 3] >> 3);
      if (fragOffset != 0) {
        f.protocol = d[pos];
        return;
      }
      extLen = 8;
    } else if (next == 51) {  // authentication header
      if (pos + 2 > len) return;
      extLen = (static_cast<size_t>(d[pos + 1]) + 2) * 4;
    } else {
      break;
    }
    if (pos + extLen > len) return;
    next = d[pos];
    pos += extLen;
  }
  f.protocol = next;
  transport(f, d + pos, len - pos);
}

Fields parseFields(const FrameMeta& m) {
  Fields f;
  if (m.payload == nullptr) return f;
  if (m.etherType == kEtherTypeIpv4) parseIpv4(f, m.payload, m.payloadLen);
  if (m.etherType == kEtherTypeIpv6) parseIpv6(f, m.payload, m.payloadLen);
  return f;
}

bool prefixMatches(const uint8_t* ip, const uint8_t* net, unsigned bits, unsigned maxBits) {
  if (bits > maxBits) bits = maxBits;
  const unsigned whole = bits / 8;
  if (std::memcmp(ip, net, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip[whole] & mask) == (net[whole] & mask);
}

Mac readMac(const uint8_t* p) {
  return macFromBytes(p);
}

// The outcome of one match rule: matched or not, or nullopt when unsupported/malformed.
std::optional<bool> evaluateMatch(const Rule& rule, const FrameMeta& m, const Fields& f) {
  const auto& v = rule.value;
  const auto t = static_cast<RuleType>(rule.type());
  switch (t) {
    case RuleType::kMatchSourceZtAddress:
    case RuleType::kMatchDestZtAddress: {
      if (v.size() != 5) return std::nullopt;
      const uint64_t want = util::readBigEndian(v.data(), 5);
      return want == (t == RuleType::kMatchSourceZtAddress ? m.ztSource : m.ztDest);
    }
    case RuleType::kMatchMacSource:
    case RuleType::kMatchMacDest:
      if (v.size() != 6) return std::nullopt;
      return readMac(v.data()) == (t == RuleType::kMatchMacSource ? m.macSource : m.macDest);
    case RuleType::kMatchIpv4Source:
    case RuleType::kMatchIpv4Dest:
      if (v.size() != 5) return std::nullopt;
      if (!f.ip || f.v6) return false;
      return prefixMatches(t == RuleType::kMatchIpv4Source ? f.src : f.dst, v.data(), v[4], 32);
    case RuleType::kMatchIpv6Source:
    case RuleType::kMatchIpv6Dest:
      if (v.size() != 17) return std::nullopt;
      if (!f.ip || !f.v6) return false;
      return prefixMatches(t == RuleType::kMatchIpv6Source ? f.src : f.dst, v.data(), v[16], 128);
    case RuleType::kMatchIpProtocol:
      if (v.size() != 1) return std::nullopt;
      return f.ip && f.protocol == v[0];
    case RuleType::kMatchEthertype:
      if (v.size() != 2) return std::nullopt;
      return m.etherType == be16(v.data());
    case RuleType::kMatchIcmp:
      if (v.size() != 3) return std::nullopt;
      if (!f.icmp || f.icmpType != v[0]) return false;
      return (v[2] & 0x01) == 0 || f.icmpCode == v[1];
    case RuleType::kMatchSourcePortRange:
    case RuleType::kMatchDestPortRange: {
      if (v.size() != 4) return std::nullopt;
      if (!f.ports) return false;
      const uint16_t port = t == RuleType::kMatchSourcePortRange ? f.srcPort : f.dstPort;
      return port >= be16(v.data()) && port <= be16(v.data() + 2);
    }
    case RuleType::kMatchCharacteristics: {
      if (v.size() != 8) return std::nullopt;
      const uint64_t mask = util::readBigEndian(v.data(), 8);
      if ((mask & ~kCharComputable) != 0) return std::nullopt;
      uint64_t cf = f.tcpFlags;
      if (m.inbound) cf |= kCharInbound;
      if (isMulticastMac(m.macDest)) cf |= kCharMulticast;
      if (m.macDest == kBroadcastMac) cf |= kCharBroadcast;
      return (cf & mask) != 0;
    }
    case RuleType::kMatchFrameSizeRange:
      if (v.size() != 4) return std::nullopt;
      return m.payloadLen >= be16(v.data()) && m.payloadLen <= be16(v.data() + 2);
    default:
      return std::nullopt;  // VLAN, TOS, random, tags, integer range, unknown types
  }
}

Rule makeRule(RuleType t, bool negate, bool orPrev, std::vector<uint8_t> value) {
  Rule r;
  r.typeByte = static_cast<uint8_t>(static_cast<uint8_t>(t) | (negate ? kRuleNot : 0) |
                                    (orPrev ? kRuleOr : 0));
  r.value = std::move(value);
  return r;
}

std::vector<uint8_t> beBytes(uint64_t v, size_t n) {
  std::vector<uint8_t> out(n);
  util::writeBigEndian(out.data(), v, n);
  return out;
}

}  // namespace

bool readRule(util::Reader& r, Rule& out) {
  out.typeByte = r.u8();
  const size_t len = r.u8();
  const uint8_t* p = r.bytes(len);
  if (!r.ok()) return false;
  out.value.assign(p, p + len);
  return true;
}

void writeRule(util::Writer& w, const Rule& rule) {
  w.u8(rule.typeByte);
  // Values are built by us or read with a one-byte length, so they always fit.
  const size_t len = rule.value.size() > 255 ? 255 : rule.value.size();
  w.u8(static_cast<uint8_t>(len));
  w.bytes(rule.value.data(), len);
}

std::optional<std::vector<Rule>> parseRules(const uint8_t* data, size_t len) {
  util::Reader r(data, len);
  std::vector<Rule> rules;
  while (r.remaining() > 0) {
    Rule rule;
    if (!readRule(r, rule)) return std::nullopt;
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::vector<uint8_t> serializeRules(const std::vector<Rule>& rules) {
  std::vector<uint8_t> out;
  util::Writer w(out);
  for (const auto& rule : rules) writeRule(w, rule);
  return out;
}

Rule actionRule(RuleType action) {
  return makeRule(action, false, false, {});
}

Rule ztAddressRule(RuleType t, uint64_t address, bool negate, bool orPrev) {
  return makeRule(t, negate, orPrev, beBytes(address, 5));
}

Rule macRule(RuleType t, Mac mac, bool negate, bool orPrev) {
  return makeRule(t, negate, orPrev, beBytes(mac, 6));
}

Rule ipv4Rule(RuleType t, const uint8_t ip[4], uint8_t bits, bool negate, bool orPrev) {
  std::vector<uint8_t> v(ip, ip + 4);
  v.push_back(bits);
  return makeRule(t, negate, orPrev, std::move(v));
}

Rule ipv6Rule(RuleType t, const uint8_t ip[16], uint8_t bits, bool negate, bool orPrev) {
  std::vector<uint8_t> v(ip, ip + 16);
  v.push_back(bits);
  return makeRule(t, negate, orPrev, std::move(v));
}

Rule ipProtocolRule(uint8_t protocol, bool negate, bool orPrev) {
  return makeRule(RuleType::kMatchIpProtocol, negate, orPrev, {protocol});
}

Rule ethertypeRule(uint16_t ethertype, bool negate, bool orPrev) {
  return makeRule(RuleType::kMatchEthertype, negate, orPrev, beBytes(ethertype, 2));
}

Rule icmpRule(uint8_t type, std::optional<uint8_t> code, bool negate, bool orPrev) {
  return makeRule(RuleType::kMatchIcmp, negate, orPrev,
                  {type, code.value_or(0), static_cast<uint8_t>(code ? 0x01 : 0x00)});
}

Rule portRangeRule(RuleType t, uint16_t start, uint16_t end, bool negate, bool orPrev) {
  return makeRule(t, negate, orPrev, beBytes((static_cast<uint32_t>(start) << 16) | end, 4));
}

Rule characteristicsRule(uint64_t mask, bool negate, bool orPrev) {
  return makeRule(RuleType::kMatchCharacteristics, negate, orPrev, beBytes(mask, 8));
}

Rule frameSizeRule(uint16_t start, uint16_t end, bool negate, bool orPrev) {
  return makeRule(RuleType::kMatchFrameSizeRange, negate, orPrev,
                  beBytes((static_cast<uint32_t>(start) << 16) | end, 4));
}

std::vector<Rule> adhocRules(uint16_t startPort, uint16_t endPort) {
  const Rule accept = actionRule(RuleType::kActionAccept);
  return {
      // 1. Anything but IPv6 is dropped (no ARP, no IPv4).
      ethertypeRule(kEtherTypeIpv6, true),
      actionRule(RuleType::kActionDrop),
      // 2. ICMPv6, which NDP needs.
      ipProtocolRule(kProtoIcmpv6),
      accept,
      // 3. UDP or TCP to a port in the range.
      ipProtocolRule(kProtoUdp),
      ipProtocolRule(kProtoTcp, false, true),
      portRangeRule(RuleType::kMatchDestPortRange, startPort, endPort),
      accept,
      // 4. TCP segments without SYN (established connections, both ways). §7.5 lists this
      // as a lone NOT-SYN match, but that would accept every non-TCP packet too (its TCP
      // flags are empty), contradicting §7.5's own "UDP only to ports in range"; the TCP
      // match keeps it to what the note describes.
      ipProtocolRule(kProtoTcp),
      characteristicsRule(kCharTcpSyn, true),
      accept,
      // 5. SYN-ACK, the server's answer to a connection into the range.
      characteristicsRule(kCharTcpSyn),
      characteristicsRule(kCharTcpAck),
      accept,
      // 6. Everything else.
      actionRule(RuleType::kActionDrop),
  };
}

RuleResult evaluateRules(const std::vector<Rule>& rules, const FrameMeta& frame) {
  const Fields fields = parseFields(frame);
  bool set = true;
  for (const auto& rule : rules) {
    if (rule.isAction()) {
      const bool fire = set;
      set = true;
      if (!fire) continue;
      switch (static_cast<RuleType>(rule.type())) {
        case RuleType::kActionAccept:
          return {RuleAction::kAccept, false};
        case RuleType::kActionDrop:
        case RuleType::kActionBreak:  // leaves the table without an accept
          return {RuleAction::kDrop, false};
        case RuleType::kActionPriority:  // QoS only; the frame's fate is unchanged
          continue;
        default:
          // TEE/WATCH/REDIRECT would send copies or the frame itself elsewhere, which we
          // cannot do; delivering it anyway would defeat the network's policy.
          return {RuleAction::kDrop, true};
      }
    }
    const auto m = evaluateMatch(rule, frame, fields);
    if (!m) return {RuleAction::kDrop, true};
    const bool thisMatches = *m != rule.negate();
    set = rule.orWithPrevious() ? (set || thisMatches) : (set && thisMatches);
  }
  return {RuleAction::kDrop, false};
}

}  // namespace zts::vl2
