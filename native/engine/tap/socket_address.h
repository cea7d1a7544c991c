// Addresses as the socket layer passes them across its API: raw bytes in network order,
// so callers need no lwIP headers, and the checks on destinations.
#pragma once

#include <cstdint>

struct ip_addr;

namespace zts::tap {

struct IpEndpoint {
  // 4 (IPv4), 16 (IPv6), or 0: no address, meaning "any" on both families when listening
  // or binding.
  uint8_t len = 0;
  uint8_t ip[16] = {};
  uint16_t port = 0;

  static IpEndpoint v4(const uint8_t ip4[4], uint16_t port);
  static IpEndpoint v6(const uint8_t ip6[16], uint16_t port);
  bool operator==(const IpEndpoint&) const = default;
};

// IpEndpoint <-> lwIP. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes plain IPv4,
// since lwIP would send it as an IPv6 packet nobody answers.
void toLwip(const IpEndpoint& e, struct ip_addr* out);
IpEndpoint fromLwip(const struct ip_addr* a, uint16_t port);

// True for 127/8, ::1 and the unspecified address: the host's, not the network's (our own
// ZeroTier addresses are fine: lwIP loops those back, see tap/ethernet_tap.h).
bool isHostLoopbackOrAny(const struct ip_addr* a);
// True for a multicast or limited-broadcast address (not a TCP peer).
bool isGroupAddress(const struct ip_addr* a);

}  // namespace zts::tap
