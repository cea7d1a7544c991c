// The SocketTable's UDP sockets: binding, sending (multicast on the first interface with an
// address) and IP multicast membership. Datagrams arrive in Lwip::datagram
// (socket_table_callbacks.cpp).
#include "socket_table.h"

extern "C" {
#include <lwip/igmp.h>
#include <lwip/ip.h>
#include <lwip/mld6.h>
#include <lwip/netif.h>
#include <lwip/udp.h>
}

#include "tap/socket_table_internal.h"

namespace zts::tap {
namespace {
// The largest UDP payloads over IPv4 and IPv6 (as the kernel refuses larger with EMSGSIZE).
constexpr size_t kMaxUdpPayload4 = 65507;
constexpr size_t kMaxUdpPayload6 = 65527;
}  // namespace

int SocketTable::udpBind(const IpEndpoint& local, SocketHandle* out) {
  if (out == nullptr) return ERR_ARG;
  ip_addr_t ip;
  toLwip(local, &ip);
  udp_pcb* pcb = udp_new_ip_type(local.len == 0 ? u8_t{IPADDR_TYPE_ANY} : IP_GET_TYPE(&ip));
  if (pcb == nullptr) return ERR_MEM;
  const err_t err = udp_bind(pcb, &ip, local.port);
  if (err != ERR_OK) {
    udp_remove(pcb);
    return err;
  }
  Socket& s = add(Kind::kUdp);
  s.udp = pcb;
  udp_recv(pcb, &Lwip::datagram, handleArg(s.handle));
  s.local = fromLwip(&pcb->local_ip, pcb->local_port);
  *out = s.handle;
  return ERR_OK;
}

int SocketTable::udpSendTo(SocketHandle h, const IpEndpoint& to, const uint8_t* data, size_t len) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kUdp) return ERR_VAL;
  if ((to.len != 4 && to.len != 16) || to.port == 0) return ERR_VAL;
  ip_addr_t ip;
  toLwip(to, &ip);
  if (len > (IP_IS_V4(&ip) ? kMaxUdpPayload4 : kMaxUdpPayload6)) return ERR_VAL;
  if (isHostLoopbackOrAny(&ip)) return ERR_RTE;
  pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(len), PBUF_RAM);
  if (p == nullptr) return ERR_MEM;
  pbuf_take(p, data, static_cast<u16_t>(len));
  // A group address has no route: send it on the first interface of its family that has
  // an address (with no default route, udp_sendto would fail with ERR_RTE).
  netif* out = nullptr;
  if (IP_IS_V4(&ip) && ip4_addr_ismulticast(ip_2_ip4(&ip))) {
    netif* n;
    NETIF_FOREACH(n) {
      if (netif_is_up(n) && !ip4_addr_isany_val(*netif_ip4_addr(n))) {
        out = n;
        break;
      }
    }
  }
  const err_t err = out != nullptr ? udp_sendto_if(s->udp, p, &ip, to.port, out)
                                   : udp_sendto(s->udp, p, &ip, to.port);
  pbuf_free(p);
  return err;
}

int SocketTable::udpMembership(const IpEndpoint& group, bool join) {
  ip_addr_t ip;
  toLwip(group, &ip);
  if (IP_IS_V4(&ip)) {
    if (!ip4_addr_ismulticast(ip_2_ip4(&ip))) return ERR_VAL;
    return join ? igmp_joingroup(IP4_ADDR_ANY4, ip_2_ip4(&ip))
                : igmp_leavegroup(IP4_ADDR_ANY4, ip_2_ip4(&ip));
  }
  if (!ip6_addr_ismulticast(ip_2_ip6(&ip))) return ERR_VAL;
  return join ? mld6_joingroup(IP6_ADDR_ANY6, ip_2_ip6(&ip))
              : mld6_leavegroup(IP6_ADDR_ANY6, ip_2_ip6(&ip));
}

}  // namespace zts::tap
