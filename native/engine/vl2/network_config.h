// A network's configuration as the controller sends it: a Dictionary (protocol.md §5.4)
// with integers, the member's COM, credentials, routes, static IPs, rules and DNS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../vl1/identity.h"
#include "../vl1/inet_address.h"
#include "certificate_of_membership.h"
#include "credentials.h"
#include "dictionary.h"
#include "rules.h"

namespace zts::vl2 {

// A managed route: target and gateway (nil when none); the port fields hold prefix bits.
struct Route {
  vl1::InetAddress target;
  vl1::InetAddress via;
  uint16_t flags = 0;
  uint16_t metric = 0;
  bool operator==(const Route&) const = default;
};

// `S` entries: address in the low 40 bits, role bits above.
struct Specialist {
  static constexpr uint64_t kActiveBridge = 0x0000020000000000ULL;
  static constexpr uint64_t kAnchor = 0x0000040000000000ULL;
  static constexpr uint64_t kMulticastReplicator = 0x0000080000000000ULL;
  uint64_t raw = 0;
  uint64_t address() const { return raw & 0xffffffffffULL; }
  bool operator==(const Specialist&) const = default;
};

struct DnsConfig {
  static constexpr size_t kDomainLen = 128;
  static constexpr size_t kMaxServers = 4;
  std::string domain;
  std::vector<vl1::InetAddress> servers;  // nil entries dropped
  bool operator==(const DnsConfig&) const = default;
};

struct NetworkConfig {
  static constexpr uint64_t kFormatVersion = 7;     // what 1.14 sends
  static constexpr uint64_t kMinFormatVersion = 6;  // older ones use legacy text keys
  static constexpr uint64_t kDefaultCredentialTimeMaxDelta = 1800000;
  static constexpr uint64_t kMinCredentialTimeMaxDelta = 300000;   // 5 min
  static constexpr uint64_t kMaxCredentialTimeMaxDelta = 7200000;  // 2 h
  static constexpr unsigned kDefaultMtu = 2800;
  static constexpr unsigned kMinMtu = 1280;
  static constexpr unsigned kMaxMtu = 10000;
  static constexpr uint64_t kDefaultMulticastLimit = 32;
  static constexpr size_t kMaxNameLen = 127;

  static constexpr uint64_t kFlagEnableBroadcast = 0x2;
  static constexpr uint64_t kFlagNdpEmulation = 0x4;
  static constexpr uint64_t kFlagRulesResultOfUnsupportedMatch = 0x8;
  static constexpr uint64_t kFlagDisableCompression = 0x10;

  enum class Type : uint64_t { kPrivate = 0, kPublic = 1 };

  uint64_t version = kFormatVersion;
  uint64_t networkId = 0;
  uint64_t timestamp = 0;
  uint64_t revision = 0;
  uint64_t issuedTo = 0;
  uint64_t credentialTimeMaxDelta = kDefaultCredentialTimeMaxDelta;
  uint64_t remoteTraceTarget = 0;  // `tt`/`tl`: unused, kept so configs re-serialise as sent
  uint64_t remoteTraceLevel = 0;
  uint64_t flags = 0;
  uint64_t multicastLimit = kDefaultMulticastLimit;
  Type type = Type::kPrivate;
  std::string name;
  unsigned mtu = kDefaultMtu;
  std::optional<CertificateOfMembership> com;
  std::vector<CertificateOfOwnership> coos;
  std::vector<Capability> capabilities;
  std::vector<Tag> tags;
  std::vector<Specialist> specialists;
  std::vector<Route> routes;
  std::vector<vl1::InetAddress> staticIps;  // port = netmask bits
  std::vector<uint8_t> rules;               // the `R` blob as sent (see rules() to parse it)
  DnsConfig dns;

  // Reads a config dictionary; nullopt when `v` < 6 or missing, `nwid` is missing, or a
  // blob (C, COO, CAP, TAG, S, RT, I, R, DNS) is malformed: the dictionary is signed by
  // the controller, so a damaged one is refused rather than half applied. ctmd and mtu are
  // clamped to their ranges, the name cut to 127 bytes; SSO keys are ignored.
  static std::optional<NetworkConfig> fromDictionary(const Dictionary& d);
  static std::optional<NetworkConfig> parse(const uint8_t* data, size_t len) {
    return fromDictionary(Dictionary::parse(data, len));
  }

  // Keys in 1.14's order (v nwid ts ctmd r id tt tl f ml t n mtu C COO RT I R DNS ssov
  // ssoe; CAP, TAG and S before RT when present), integers zero-padded, SSO off.
  Dictionary toDictionary() const;
  std::vector<uint8_t> serialize() const { return toDictionary().serialize(); }

  // The parsed rules table; nullopt if `rules` is malformed (checked by fromDictionary).
  std::optional<std::vector<Rule>> parsedRules() const {
    return parseRules(rules.data(), rules.size());
  }
  bool isPrivate() const { return type == Type::kPrivate; }
  bool enableBroadcast() const { return (flags & kFlagEnableBroadcast) != 0; }
  bool ndpEmulation() const { return (flags & kFlagNdpEmulation) != 0; }
  bool disableCompression() const { return (flags & kFlagDisableCompression) != 0; }
  // Whether this config is one `address` may use on `nwid`.
  bool isFor(uint64_t nwid, uint64_t address) const {
    return networkId == nwid && issuedTo == address;
  }
};

// The config every node synthesises for an ad-hoc network of form A (§7.5): public, name
// adhoc-SSSS-EEEE, MTU 2800, no multicast, NDP emulation, the 6plane address as the only
// IP, the ad-hoc rules. nullopt for other network ids (form B is not synthesised).
std::optional<NetworkConfig> makeAdhocConfig(uint64_t nwid, uint64_t address, uint64_t now);

}  // namespace zts::vl2
