#include "rules_json.h"

#include <cstdio>
#include <string_view>

#include "../util/hex.h"
#include "../vl2/rules.h"
#include "ip_assignment.h"

namespace zts::lab {
namespace {

namespace json = util::json;
using json::Value;
using vl2::RuleType;

// How a rule's value is written in JSON.
enum class Kind { kNone, kZt, kMac, kIpv4, kIpv6, kProtocol, kEthertype, kRange };

struct RuleName {
  const char* name;
  RuleType type;
  Kind kind;
};

constexpr RuleName kNames[] = {
    {"ACTION_DROP", RuleType::kActionDrop, Kind::kNone},
    {"ACTION_ACCEPT", RuleType::kActionAccept, Kind::kNone},
    {"ACTION_BREAK", RuleType::kActionBreak, Kind::kNone},
    {"MATCH_SOURCE_ZEROTIER_ADDRESS", RuleType::kMatchSourceZtAddress, Kind::kZt},
    {"MATCH_DEST_ZEROTIER_ADDRESS", RuleType::kMatchDestZtAddress, Kind::kZt},
    {"MATCH_MAC_SOURCE", RuleType::kMatchMacSource, Kind::kMac},
    {"MATCH_MAC_DEST", RuleType::kMatchMacDest, Kind::kMac},
    {"MATCH_IPV4_SOURCE", RuleType::kMatchIpv4Source, Kind::kIpv4},
    {"MATCH_IPV4_DEST", RuleType::kMatchIpv4Dest, Kind::kIpv4},
    {"MATCH_IPV6_SOURCE", RuleType::kMatchIpv6Source, Kind::kIpv6},
    {"MATCH_IPV6_DEST", RuleType::kMatchIpv6Dest, Kind::kIpv6},
    {"MATCH_IP_PROTOCOL", RuleType::kMatchIpProtocol, Kind::kProtocol},
    {"MATCH_ETHERTYPE", RuleType::kMatchEthertype, Kind::kEthertype},
    {"MATCH_IP_SOURCE_PORT_RANGE", RuleType::kMatchSourcePortRange, Kind::kRange},
    {"MATCH_IP_DEST_PORT_RANGE", RuleType::kMatchDestPortRange, Kind::kRange},
    {"MATCH_FRAME_SIZE_RANGE", RuleType::kMatchFrameSizeRange, Kind::kRange},
};

// Value length each kind has on the wire.
size_t valueLength(Kind k) {
  switch (k) {
    case Kind::kNone:
      return 0;
    case Kind::kZt:
      return 5;
    case Kind::kMac:
      return 6;
    case Kind::kIpv4:
      return 5;
    case Kind::kIpv6:
      return 17;
    case Kind::kProtocol:
      return 1;
    case Kind::kEthertype:
      return 2;
    case Kind::kRange:
      return 4;
  }
  return 0;
}

const RuleName* byType(uint8_t type) {
  for (const auto& n : kNames) {
    if (static_cast<uint8_t>(n.type) == type) return &n;
  }
  return nullptr;
}

const RuleName* byName(std::string_view name) {
  for (const auto& n : kNames) {
    if (name == n.name) return &n;
  }
  return nullptr;
}

std::string hexOf(const uint8_t* p, size_t n) {
  std::string s;
  util::appendHex(s, p, n);
  return s;
}

uint64_t be(const std::vector<uint8_t>& v, size_t off, size_t n) {
  return util::readBigEndian(v.data() + off, n);
}

void putBe(std::vector<uint8_t>& v, uint64_t x, size_t n) {
  for (size_t i = n; i-- > 0;) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}

Value raw(const vl2::Rule& r) {
  std::vector<uint8_t> bytes;
  util::Writer w(bytes);
  vl2::writeRule(w, r);
  Value o = Value::object();
  o["raw"] = Value(hexOf(bytes.data(), bytes.size()));
  o["type"] = Value("RAW");
  return o;
}

Value ruleToJson(const vl2::Rule& r) {
  const RuleName* n = byType(r.type());
  if (n == nullptr || r.value.size() != valueLength(n->kind)) return raw(r);
  const auto& v = r.value;
  // Values the named form cannot express (and rulesFromJson would refuse) stay RAW, so a
  // saved state still reads back to the same bytes.
  if (n->kind == Kind::kRange && be(v, 0, 2) > be(v, 2, 2)) return raw(r);
  if (n->kind == Kind::kIpv4 && v[4] > 32) return raw(r);
  if (n->kind == Kind::kIpv6 && v[16] > 128) return raw(r);
  // Members in alphabetical order, as the stock controller writes them.
  Value o = Value::object();
  const auto num = [](uint64_t x) { return Value(static_cast<int64_t>(x)); };
  switch (n->kind) {
    case Kind::kNone:
      break;
    case Kind::kRange:
      o["end"] = num(be(v, 2, 2));
      break;
    case Kind::kEthertype:
      o["etherType"] = num(be(v, 0, 2));
      break;
    case Kind::kIpv4:
    case Kind::kIpv6: {
      const bool v6 = n->kind == Kind::kIpv6;
      auto ip = v6 ? vl1::InetAddress::v6(v.data(), v[16]) : vl1::InetAddress::v4(v.data(), v[4]);
      o["ip"] = Value(ip.toString());
      break;
    }
    case Kind::kProtocol:
      o["ipProtocol"] = num(v[0]);
      break;
    case Kind::kMac: {
      char buf[18];
      std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4],
                    v[5]);
      o["mac"] = Value(buf);
      break;
    }
    case Kind::kZt:
      break;
  }
  o["not"] = Value(r.negate());
  o["or"] = Value(r.orWithPrevious());
  if (n->kind == Kind::kRange) o["start"] = num(be(v, 0, 2));
  o["type"] = Value(n->name);
  if (n->kind == Kind::kZt) o["zt"] = Value(hexOf(v.data(), 5));
  return o;
}

// An integer member in [0, max]; false (with `err`) when absent or of another type.
bool intField(const Value& o, const char* key, uint64_t max, uint64_t& out, std::string& err) {
  const Value* f = json::find(o, key);
  const auto i = f != nullptr ? json::exactInt(*f) : std::nullopt;
  if (!i || *i < 0 || static_cast<uint64_t>(*i) > max) {
    err = std::string("rule field \"") + key + "\" must be an integer 0.." + std::to_string(max);
    return false;
  }
  out = static_cast<uint64_t>(*i);
  return true;
}

bool stringField(const Value& o, const char* key, std::string& out, std::string& err) {
  const Value* f = json::find(o, key);
  if (f == nullptr || !f->is_string()) {
    err = std::string("rule field \"") + key + "\" must be a string";
    return false;
  }
  out = f->get<std::string>();
  return true;
}

bool parseMac(const std::string& s, std::vector<uint8_t>& out) {
  if (s.size() != 17) return false;
  uint8_t b[6];
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && s[3 * i - 1] != ':') return false;
    if (!util::decodeHex(std::string_view(s).substr(3 * i, 2), &b[i], 1)) return false;
  }
  out.insert(out.end(), b, b + 6);
  return true;
}

// One JSON rule to wire bytes appended to `out`; "" or the error.
std::string ruleFromJson(const Value& o, std::vector<uint8_t>& out) {
  if (!o.is_object()) return "each rule must be an object";
  std::string type, err;
  if (!stringField(o, "type", type, err)) return err;
  if (type == "RAW") {
    std::string hex;
    if (!stringField(o, "raw", hex, err)) return err;
    std::vector<uint8_t> bytes(hex.size() / 2);
    if (hex.size() % 2 != 0 || !util::decodeHex(hex, bytes.data(), bytes.size())) {
      return "RAW rule: \"raw\" must be hex";
    }
    util::Reader r(bytes.data(), bytes.size());
    vl2::Rule rule;
    if (!vl2::readRule(r, rule) || !r.ok() || r.remaining() != 0) {
      return "RAW rule: \"raw\" must hold exactly one rule";
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
    return "";
  }
  const RuleName* n = byName(type);
  if (n == nullptr) return "unsupported rule type \"" + type + "\"";
  vl2::Rule rule;
  rule.typeByte = static_cast<uint8_t>(n->type);
  for (const char* flag : {"not", "or"}) {
    const Value* f = json::find(o, flag);
    if (f == nullptr || f->is_null()) continue;
    if (!f->is_boolean()) return std::string("rule field \"") + flag + "\" must be a boolean";
    if (f->get<bool>()) rule.typeByte |= flag[0] == 'n' ? vl2::kRuleNot : vl2::kRuleOr;
  }
  auto& v = rule.value;
  uint64_t a = 0, b = 0;
  std::string s;
  switch (n->kind) {
    case Kind::kNone:
      break;
    case Kind::kZt: {
      if (!stringField(o, "zt", s, err)) return err;
      uint8_t z[5];
      if (!util::decodeHex(s, z, 5)) return "rule field \"zt\" must be 10 hex digits";
      v.assign(z, z + 5);
      break;
    }
    case Kind::kMac:
      if (!stringField(o, "mac", s, err)) return err;
      if (!parseMac(s, v)) return "rule field \"mac\" must be xx:xx:xx:xx:xx:xx";
      break;
    case Kind::kIpv4:
    case Kind::kIpv6: {
      if (!stringField(o, "ip", s, err)) return err;
      auto ip = parseCidr(s);
      if (!ip) ip = parseIp(s);  // a bare address means the host itself
      const bool v6 = n->kind == Kind::kIpv6;
      if (!ip || ip->isV6() != v6) {
        return std::string("rule field \"ip\" must be an ") + (v6 ? "IPv6" : "IPv4") +
               " address or CIDR";
      }
      v.assign(ip->ip(), ip->ip() + ip->ipLength());
      v.push_back(
          static_cast<uint8_t>(s.find('/') == std::string::npos ? ip->ipLength() * 8 : ip->port()));
      break;
    }
    case Kind::kProtocol:
      if (!intField(o, "ipProtocol", 255, a, err)) return err;
      v.push_back(static_cast<uint8_t>(a));
      break;
    case Kind::kEthertype:
      if (!intField(o, "etherType", 0xffff, a, err)) return err;
      putBe(v, a, 2);
      break;
    case Kind::kRange:
      if (!intField(o, "start", 0xffff, a, err) || !intField(o, "end", 0xffff, b, err)) {
        return err;
      }
      if (a > b) return "rule range: start > end";
      putBe(v, a, 2);
      putBe(v, b, 2);
      break;
  }
  util::Writer w(out);
  vl2::writeRule(w, rule);
  return "";
}

}  // namespace

Value rulesToJson(const std::vector<uint8_t>& rules) {
  Value a = Value::array();
  const auto parsed = vl2::parseRules(rules.data(), rules.size());
  if (!parsed) return a;
  for (const auto& r : *parsed) a.push_back(ruleToJson(r));
  return a;
}

std::string rulesFromJson(const Value& v, std::vector<uint8_t>& out) {
  if (!v.is_array()) return "\"rules\" must be an array";
  // The member's `mr` metadata (1.14: 1024) bounds what it accepts.
  if (v.size() > 1024) return "\"rules\": at most 1024 rules";
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto err = ruleFromJson(v[i], bytes);
    if (!err.empty()) return "rules[" + std::to_string(i) + "]: " + err;
  }
  out = std::move(bytes);
  return "";
}

}  // namespace zts::lab
