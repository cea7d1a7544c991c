// Addresses derived from (ZeroTier address, network id): the virtual MAC (protocol.md §7.1),
// the managed IPv6 addresses rfc4193 and 6plane (§5.5), multicast groups used for address
// resolution (§7.2), and the ad-hoc network ids (§7.5).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "../vl1/inet_address.h"

namespace zts::vl2 {

// MAC addresses are 48-bit values in the low bits of a uint64_t (first wire byte highest).
using Mac = uint64_t;
constexpr Mac kBroadcastMac = 0xffffffffffffULL;

Mac macFromBytes(const uint8_t b[6]);
void macToBytes(Mac mac, uint8_t out[6]);
// "02:8e:4d:ee:69:b0"
std::string macToString(Mac mac);
inline bool isMulticastMac(Mac mac) {
  return ((mac >> 40) & 0x01) != 0;
}

// The first MAC byte every member of `nwid` uses; a MAC starting with it is a ZeroTier node.
uint8_t macFirstByte(uint64_t nwid);
Mac macFor(uint64_t address, uint64_t nwid);
// The node address inside a ZeroTier MAC (the XOR is its own inverse). Callers check
// isZeroTierMac first; otherwise the result is meaningless.
uint64_t addressFromMac(Mac mac, uint64_t nwid);
bool isZeroTierMac(Mac mac, uint64_t nwid);

// `fd` ‖ nwid ‖ 99 93 ‖ address, prefix /88 (the port field carries the bits, §4).
vl1::InetAddress rfc4193Address(uint64_t nwid, uint64_t address);
// `fc` ‖ low 32 bits of (nwid ^ nwid >> 32) ‖ address ‖ 00..01, prefix /40.
vl1::InetAddress sixPlaneAddress(uint64_t nwid, uint64_t address);

// A multicast group: MAC plus the 32-bit "additional distinguishing information".
struct MulticastGroup {
  Mac mac = 0;
  uint32_t adi = 0;
  bool operator==(const MulticastGroup&) const = default;
  auto operator<=>(const MulticastGroup&) const = default;
};
// ARP for an IPv4 address goes to the broadcast MAC with the address as ADI, so only its
// owner (who subscribed to that group) receives it.
MulticastGroup arpGroup(const uint8_t ipv4[4]);
// IPv6 solicited-node group 33:33:ff:xx:yy:zz for the last three address bytes.
MulticastGroup solicitedNodeGroup(const uint8_t ipv6[16]);

// Ad-hoc networks (§7.5): top byte 0xff, no controller.
inline bool isAdhocNetwork(uint64_t nwid) {
  return (nwid >> 56) == 0xff;
}
// Form A: ff ‖ start port ‖ end port ‖ 00 00 00.
uint64_t adhocNetworkId(uint16_t startPort, uint16_t endPort);
struct PortRange {
  uint16_t start = 0;
  uint16_t end = 0;
};
// The port range of a form A id; nullopt for other ids and for end < start (which a stock
// node reports as "not found").
std::optional<PortRange> adhocPortRange(uint64_t nwid);
// Form B: ff ‖ [1] A ‖ [5] hub address ‖ 01. Recognised only; its config is not synthesised.
bool isAdhocFormB(uint64_t nwid);

}  // namespace zts::vl2
