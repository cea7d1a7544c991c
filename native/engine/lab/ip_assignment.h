// Address arithmetic of the lab controller: IP and CIDR text, route containment, and the
// managed IP assignment from pools as 1.14 does it (protocol.md §8 item 3).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "../vl1/inet_address.h"
#include "../vl2/network_config.h"

namespace zts::lab {

// An assignment pool: first and last address of one family (ports 0).
struct IpPool {
  vl1::InetAddress start;
  vl1::InetAddress end;
  bool operator==(const IpPool&) const = default;
};

// A plain IPv4 or IPv6 address ("172.29.0.10", "fd00::1"): no prefix, port or brackets.
std::optional<vl1::InetAddress> parseIp(std::string_view text);
// "172.29.0.0/16" or "fd00::/8": the prefix length goes into the port field, as in configs.
// Host bits may be set (kept as written); the prefix must not exceed 32 / 128.
std::optional<vl1::InetAddress> parseCidr(std::string_view text);

// Whether `ip` lies inside `net` (same family, the first net.port() bits equal).
bool cidrContains(const vl1::InetAddress& net, const vl1::InetAddress& ip);

// The prefix length of the longest route without a gateway (`via` nil) that contains `ip`.
// Only such routes count: a gatewayed route (say 0.0.0.0/0 via a router) says where to send
// traffic, not which subnet the member's own address belongs to.
std::optional<unsigned> onLinkBits(const std::vector<vl2::Route>& routes,
                                   const vl1::InetAddress& ip);

// Walks at most this many candidates per pool, so a huge pool whose addresses mostly lie
// outside every route cannot stall the controller.
constexpr uint64_t kMaxPoolTrials = 100000;

// Picks an address for `member` from `pool`, as 1.14 does: the walk starts at
// (member & 0xffffffff) mod size, where size = end - start (the stock controller's range
// length: the stock data confirm it, member 3efbf8193f got 172.29.0.57 from .10-.250, so
// the last address of a pool is never handed out), wraps within the pool, skips IPv4 x.x.x.0
// and x.x.x.255, addresses in `used` and addresses outside every on-link route. A pool with
// start == end is the single address start. IPv6 pools spanning at least 2^40 addresses
// give start + member (the 40-bit address), as 1.14 does; smaller ones are walked like IPv4
// pools from member mod size. nullopt when nothing fits (or the pool is malformed).
std::optional<vl1::InetAddress> assignFromPool(const IpPool& pool, uint64_t member,
                                               const std::vector<vl2::Route>& routes,
                                               const std::set<vl1::InetAddress>& used);

}  // namespace zts::lab
