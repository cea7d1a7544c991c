// The network rules table (protocol.md §5.9): a flat list of type-length-value rules that
// both ends of a frame evaluate. Matches accumulate into one "set matches" bit; an action
// fires when the set matched. Only the matches a client needs are implemented; anything
// else makes the evaluation fail closed (drop, flagged as unsupported) instead of guessing.
//
// §5.9 names the rule types but not their value layouts; the layouts below are those of
// 1.14's wire format as we understand it (unverified against a stock vector except the
// accept-all table `01 00`). Value lengths are explicit on the wire, so a rule whose length
// differs from what we expect is treated as unsupported rather than misread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../util/buffer.h"
#include "addresses.h"

namespace zts::vl2 {

enum class RuleType : uint8_t {
  kActionDrop = 0,
  kActionAccept = 1,
  kActionTee = 2,
  kActionWatch = 3,
  kActionRedirect = 4,
  kActionBreak = 5,
  kActionPriority = 6,
  kMatchSourceZtAddress = 24,  // [5] address
  kMatchDestZtAddress = 25,    // [5] address
  kMatchVlanId = 26,
  kMatchVlanPcp = 27,
  kMatchVlanDei = 28,
  kMatchMacSource = 29,   // [6] MAC
  kMatchMacDest = 30,     // [6] MAC
  kMatchIpv4Source = 31,  // [4] IP ‖ [1] prefix bits
  kMatchIpv4Dest = 32,    // [4] IP ‖ [1] prefix bits
  kMatchIpv6Source = 33,  // [16] IP ‖ [1] prefix bits
  kMatchIpv6Dest = 34,    // [16] IP ‖ [1] prefix bits
  kMatchIpTos = 35,
  kMatchIpProtocol = 36,       // [1] protocol
  kMatchEthertype = 37,        // [2] ethertype
  kMatchIcmp = 38,             // [1] type ‖ [1] code ‖ [1] flags (0x01: code must match)
  kMatchSourcePortRange = 39,  // [2] start ‖ [2] end
  kMatchDestPortRange = 40,    // [2] start ‖ [2] end
  kMatchCharacteristics = 41,  // [8] bit mask; matches when any masked bit is set
  kMatchFrameSizeRange = 42,   // [2] start ‖ [2] end (bytes of Ethernet payload)
  kMatchRandom = 43,
  kMatchIntegerRange = 51,
};

// Flag bits of the type byte.
constexpr uint8_t kRuleNot = 0x80;
constexpr uint8_t kRuleOr = 0x40;
constexpr uint8_t kRuleTypeMask = 0x3f;

// Characteristics bits (kMatchCharacteristics). The TCP flag bits sit where they are in the
// TCP header's flags byte, with NS (the low bit of the data-offset byte) above them.
constexpr uint64_t kCharTcpFin = 1ULL << 0;
constexpr uint64_t kCharTcpSyn = 1ULL << 1;
constexpr uint64_t kCharTcpRst = 1ULL << 2;
constexpr uint64_t kCharTcpPsh = 1ULL << 3;
constexpr uint64_t kCharTcpAck = 1ULL << 4;
constexpr uint64_t kCharTcpUrg = 1ULL << 5;
constexpr uint64_t kCharTcpEce = 1ULL << 6;
constexpr uint64_t kCharTcpCwr = 1ULL << 7;
constexpr uint64_t kCharTcpNs = 1ULL << 8;
constexpr uint64_t kCharSenderMacAuthenticated = 1ULL << 59;
constexpr uint64_t kCharSenderIpAuthenticated = 1ULL << 60;
constexpr uint64_t kCharBroadcast = 1ULL << 61;
constexpr uint64_t kCharMulticast = 1ULL << 62;
constexpr uint64_t kCharInbound = 1ULL << 63;

struct Rule {
  uint8_t typeByte = 0;  // rule type with the NOT/OR bits
  std::vector<uint8_t> value;

  uint8_t type() const { return typeByte & kRuleTypeMask; }
  bool negate() const { return (typeByte & kRuleNot) != 0; }
  bool orWithPrevious() const { return (typeByte & kRuleOr) != 0; }
  // Types 0..15 are actions, the rest matches.
  bool isAction() const { return type() < 16; }
  bool operator==(const Rule&) const = default;
};

// Reads one rule; the reader turns bad when truncated.
bool readRule(util::Reader& r, Rule& out);
void writeRule(util::Writer& w, const Rule& rule);
// A whole table (the `R` blob); nullopt when a rule is truncated.
std::optional<std::vector<Rule>> parseRules(const uint8_t* data, size_t len);
std::vector<uint8_t> serializeRules(const std::vector<Rule>& rules);

// Rule builders. `negate`/`orPrev` set the NOT and OR bits of a match.
Rule actionRule(RuleType action);
Rule ztAddressRule(RuleType t, uint64_t address, bool negate = false, bool orPrev = false);
Rule macRule(RuleType t, Mac mac, bool negate = false, bool orPrev = false);
Rule ipv4Rule(RuleType t, const uint8_t ip[4], uint8_t bits, bool negate = false,
              bool orPrev = false);
Rule ipv6Rule(RuleType t, const uint8_t ip[16], uint8_t bits, bool negate = false,
              bool orPrev = false);
Rule ipProtocolRule(uint8_t protocol, bool negate = false, bool orPrev = false);
Rule ethertypeRule(uint16_t ethertype, bool negate = false, bool orPrev = false);
Rule icmpRule(uint8_t type, std::optional<uint8_t> code, bool negate = false, bool orPrev = false);
Rule portRangeRule(RuleType t, uint16_t start, uint16_t end, bool negate = false,
                   bool orPrev = false);
Rule characteristicsRule(uint64_t mask, bool negate = false, bool orPrev = false);
Rule frameSizeRule(uint16_t start, uint16_t end, bool negate = false, bool orPrev = false);

// The table every node synthesises for an ad-hoc network with ports start..end (§7.5):
// IPv6 only; ICMPv6; UDP or TCP to a port in range; TCP without SYN; SYN-ACK; drop.
std::vector<Rule> adhocRules(uint16_t startPort, uint16_t endPort);

// A frame as the rules see it: ZeroTier and MAC addresses, ethertype, Ethernet payload.
struct FrameMeta {
  uint64_t ztSource = 0;
  uint64_t ztDest = 0;
  Mac macSource = 0;
  Mac macDest = 0;
  uint16_t etherType = 0;
  const uint8_t* payload = nullptr;
  size_t payloadLen = 0;
  bool inbound = false;
};

enum class RuleAction : uint8_t { kDrop, kAccept };

struct RuleResult {
  RuleAction action = RuleAction::kDrop;
  // The table needed a match or action we do not implement (or a malformed value); the
  // frame was dropped for that reason. Callers count these.
  bool unsupported = false;
};

// Evaluates the table. No action firing means drop; so does an empty table.
RuleResult evaluateRules(const std::vector<Rule>& rules, const FrameMeta& frame);

}  // namespace zts::vl2
