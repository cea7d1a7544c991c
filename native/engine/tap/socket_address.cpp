#include "socket_address.h"

extern "C" {
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
}

#include <cstring>

namespace zts::tap {
namespace {

bool isV4Mapped(const uint8_t ip[16]) {
  static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(ip, kPrefix, sizeof kPrefix) == 0;
}

void setV4(const uint8_t ip4[4], ip_addr_t* out) {
  std::memset(out, 0, sizeof *out);
  std::memcpy(&ip_2_ip4(out)->addr, ip4, 4);
  IP_SET_TYPE_VAL(*out, IPADDR_TYPE_V4);
}

}  // namespace

IpEndpoint IpEndpoint::v4(const uint8_t ip4[4], uint16_t port) {
  IpEndpoint e;
  e.len = 4;
  std::memcpy(e.ip, ip4, 4);
  e.port = port;
  return e;
}

IpEndpoint IpEndpoint::v6(const uint8_t ip6[16], uint16_t port) {
  IpEndpoint e;
  e.len = 16;
  std::memcpy(e.ip, ip6, 16);
  e.port = port;
  return e;
}

void toLwip(const IpEndpoint& e, ip_addr_t* out) {
  if (e.len == 4) {
    setV4(e.ip, out);
  } else if (e.len == 16 && isV4Mapped(e.ip)) {
    setV4(e.ip + 12, out);
  } else if (e.len == 16) {
    std::memset(out, 0, sizeof *out);
    std::memcpy(ip_2_ip6(out)->addr, e.ip, 16);
    // Global addresses carry no zone; lwIP picks the netif by prefix.
    ip6_addr_clear_zone(ip_2_ip6(out));
    IP_SET_TYPE_VAL(*out, IPADDR_TYPE_V6);
  } else {
    ip_addr_copy(*out, *IP_ANY_TYPE);
  }
}

IpEndpoint fromLwip(const ip_addr_t* a, uint16_t port) {
  IpEndpoint e;
  e.port = port;
  if (IP_IS_V4(a)) {
    e.len = 4;
    std::memcpy(e.ip, &ip_2_ip4(a)->addr, 4);
  } else if (IP_IS_V6(a)) {
    e.len = 16;
    std::memcpy(e.ip, ip_2_ip6(a)->addr, 16);
  }
  return e;
}

bool isHostLoopbackOrAny(const ip_addr_t* a) {
  if (IP_IS_V4(a)) {
    const ip4_addr_t* v4 = ip_2_ip4(a);
    return ip4_addr_isany(v4) || ip4_addr_isloopback(v4);
  }
  const ip6_addr_t* v6 = ip_2_ip6(a);
  return ip6_addr_isany(v6) || ip6_addr_isloopback(v6);
}

bool isGroupAddress(const ip_addr_t* a) {
  if (!IP_IS_V4(a)) return ip6_addr_ismulticast(ip_2_ip6(a));
  const ip4_addr_t* v4 = ip_2_ip4(a);
  if (ip4_addr_ismulticast(v4) || v4->addr == IPADDR_BROADCAST) return true;
  // A subnet's directed broadcast (lwIP's check wants a netif, and 0.0.0.0 counts there).
  struct netif* n;
  NETIF_FOREACH(n) {
    if (!ip4_addr_isany_val(*netif_ip4_addr(n)) && ip4_addr_isbroadcast(v4, n)) return true;
  }
  return false;
}

}  // namespace zts::tap
