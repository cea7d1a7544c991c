#include "ethernet_tap.h"

extern "C" {
#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>
}

#include <algorithm>
#include <cstring>

namespace zts::tap {
namespace {

constexpr size_t kEthHeader = 14;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;

void putMac(uint8_t* p, uint64_t mac) {
  for (int i = 5; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(mac);
    mac >>= 8;
  }
}

uint64_t getMac(const uint8_t* p) {
  uint64_t m = 0;
  for (int i = 0; i < 6; ++i) m = (m << 8) | p[i];
  return m;
}

// The ICMPv6 checksum over the IPv6 pseudo-header and the message.
uint16_t icmpv6Checksum(const uint8_t src[16], const uint8_t dst[16], const uint8_t* msg,
                        size_t len) {
  uint32_t sum = 0;
  auto add = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    if (n % 2 != 0) sum += p[n - 1] << 8;
  };
  add(src, 16);
  add(dst, 16);
  sum += static_cast<uint32_t>(len);
  sum += kIcmpv6;
  add(msg, len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

err_t netifInit(struct netif* n) {
  auto* tap = static_cast<EthernetTap*>(n->state);
  n->name[0] = 'z';
  n->name[1] = 't';
  n->hwaddr_len = 6;
  putMac(n->hwaddr, tap->mac());
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP |
             NETIF_FLAG_MLD6;
  n->output = etharp_output;
  n->output_ip6 = ethip6_output;
  return ERR_OK;
}

}  // namespace

void initLwip() {
  static bool done = false;
  if (!done) {
    lwip_init();
    done = true;
  }
}

uint32_t runLwipTimers() {
  sys_check_timeouts();
  return std::min<uint32_t>(sys_timeouts_sleeptime(), 1000);
}

EthernetTap::EthernetTap(uint64_t mac, unsigned mtu, Output output)
    : mac_(mac), output_(std::move(output)), netif_(std::make_unique<struct netif>()) {
  initLwip();
  std::memset(netif_.get(), 0, sizeof(struct netif));
  netif_add(netif_.get(), IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, this, netifInit,
            ethernet_input);
  netif_->linkoutput = &EthernetTap::linkOutput;
  netif_->mtu = static_cast<uint16_t>(mtu);
  netif_->mtu6 = static_cast<uint16_t>(mtu);
  // Nothing routes on a ZeroTier network: router solicitations are off in lwipopts.h.
  netif_create_ip6_linklocal_address(netif_.get(), 1);
  netif_ip6_addr_set_state(netif_.get(), 0, IP6_ADDR_PREFERRED);
  netif_set_up(netif_.get());
  netif_set_link_up(netif_.get());
}

EthernetTap::~EthernetTap() {
  // Looped packets still queued (the resets of a table torn down just before) are ours to
  // free: netif_remove leaves them.
  if (netif_->loop_first != nullptr) pbuf_free(netif_->loop_first);
  netif_->loop_first = netif_->loop_last = nullptr;
  netif_remove(netif_.get());
}

void EthernetTap::setMtu(unsigned mtu) {
  netif_->mtu = static_cast<uint16_t>(mtu);
  netif_->mtu6 = static_cast<uint16_t>(mtu);
}

void EthernetTap::setIpv4(const uint8_t ip[4], unsigned prefixBits) {
  ip4_addr_t addr, mask;
  IP4_ADDR(&addr, ip[0], ip[1], ip[2], ip[3]);
  const uint32_t m = prefixBits == 0 ? 0 : 0xffffffffu << (32 - std::min(prefixBits, 32u));
  IP4_ADDR(&mask, m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
  netif_set_addr(netif_.get(), &addr, &mask, IP4_ADDR_ANY4);
}

void EthernetTap::setIpv4Gateway(const uint8_t* gateway) {
  ip4_addr_t gw;
  if (gateway == nullptr) {
    ip4_addr_set_zero(&gw);
  } else {
    IP4_ADDR(&gw, gateway[0], gateway[1], gateway[2], gateway[3]);
  }
  netif_set_gw(netif_.get(), &gw);
  if (gateway != nullptr) netif_set_default(netif_.get());
}

bool EthernetTap::addIpv6(const uint8_t ip[16]) {
  ip6_addr_t a;
  std::memcpy(&a.addr, ip, 16);
#if LWIP_IPV6_SCOPES
  a.zone = 0;
#endif
  s8_t index = -1;
  if (netif_add_ip6_address(netif_.get(), &a, &index) != ERR_OK || index < 0) return false;
  netif_ip6_addr_set_state(netif_.get(), index, IP6_ADDR_PREFERRED);
  return true;
}

void EthernetTap::clearIpv6() {
  // Slot 0 is the link-local address; the others are the network's.
  for (int i = 1; i < LWIP_IPV6_NUM_ADDRESSES; ++i)
    netif_ip6_addr_set_state(netif_.get(), i, IP6_ADDR_INVALID);
}

void EthernetTap::input(uint64_t dst, uint64_t src, uint16_t ethertype, const uint8_t* payload,
                        size_t len) {
  const size_t total = kEthHeader + len;
  if (total > 0xffff) return;
  // PBUF_RAM, not PBUF_POOL: Debian's liblwip 2.1.3 sizes its pool elements at 616 bytes
  // (memp.c) while pbuf_alloc fills each with up to 1536 (pbuf.c), a heap overflow for
  // every frame over ~590 bytes. PBUF_RAM is one exact allocation, so also one pbuf.
  struct pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(total), PBUF_RAM);
  if (p == nullptr) return;
  uint8_t header[kEthHeader];
  putMac(header, dst);
  putMac(header + 6, src);
  header[12] = static_cast<uint8_t>(ethertype >> 8);
  header[13] = static_cast<uint8_t>(ethertype);
  pbuf_take_at(p, header, kEthHeader, 0);
  pbuf_take_at(p, payload, static_cast<u16_t>(len), kEthHeader);
  if (netif_->input(p, netif_.get()) != ERR_OK) pbuf_free(p);
}

signed char EthernetTap::linkOutput(struct netif* n, struct pbuf* p) {
  auto* tap = static_cast<EthernetTap*>(n->state);
  if (p->tot_len < kEthHeader) return ERR_OK;
  tap->scratch_.resize(p->tot_len);
  pbuf_copy_partial(p, tap->scratch_.data(), p->tot_len, 0);
  const uint8_t* f = tap->scratch_.data();
  if (tap->emulateNdp(f, p->tot_len)) return ERR_OK;
  const uint16_t ethertype = static_cast<uint16_t>((f[12] << 8) | f[13]);
  uint64_t dst = getMac(f);
  if (dst == kRouterMac) {
    // Sent "via the router": deliver straight to the destination's derived MAC.
    if (ethertype != kEtherTypeIpv6 || p->tot_len < kEthHeader + 40 || !tap->ndp_) return ERR_OK;
    const auto owner = tap->ndp_(f + kEthHeader + 24);
    if (!owner) return ERR_OK;
    dst = *owner;
  }
  tap->output_(dst, getMac(f + 6), ethertype, f + kEthHeader, p->tot_len - kEthHeader);
  return ERR_OK;
}

void EthernetTap::emulateRouter() {
  static const uint8_t kRouterIp[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  // Router advertisement: hop limit 64, lifetime 65535 s, source link-layer option.
  uint8_t ra[24] = {134, 0, 0, 0, 64, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  putMac(ra + 18, kRouterMac);
  const uint16_t sum = icmpv6Checksum(kRouterIp, kAllNodes, ra, sizeof ra);
  ra[2] = static_cast<uint8_t>(sum >> 8);
  ra[3] = static_cast<uint8_t>(sum);
  std::vector<uint8_t> packet(40 + sizeof ra, 0);
  packet[0] = 0x60;
  packet[5] = sizeof ra;
  packet[6] = kIcmpv6;
  packet[7] = 255;
  std::memcpy(packet.data() + 8, kRouterIp, 16);
  std::memcpy(packet.data() + 24, kAllNodes, 16);
  std::memcpy(packet.data() + 40, ra, sizeof ra);
  deferred_.push_back({0x333300000001ULL, kRouterMac, std::move(packet)});
}

void EthernetTap::deliverDeferred() {
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (auto& d : batch) input(d.dst, d.src, kEtherTypeIpv6, d.packet.data(), d.packet.size());
  }
}

void EthernetTap::deliverLoopback() {
  netif_poll(netif_.get());
}

bool EthernetTap::loopbackPending() const {
  return netif_->loop_first != nullptr;
}

bool EthernetTap::emulateNdp(const uint8_t* f, size_t len) {
  if (!ndp_ || len < kEthHeader + 40 + 24) return false;
  if (((f[12] << 8) | f[13]) != kEtherTypeIpv6) return false;
  const uint8_t* ip = f + kEthHeader;
  if (ip[6] != kIcmpv6) return false;
  const uint8_t* icmp = ip + 40;
  if (icmp[0] != kNeighborSolicitation) return false;
  const uint8_t* target = icmp + 8;
  const uint8_t* askerIp = ip + 8;
  static const uint8_t kUnspecified[16] = {};
  if (std::memcmp(askerIp, kUnspecified, 16) == 0) return false;  // duplicate detection
  static const uint8_t kRouterIp[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const auto owner =
      std::memcmp(target, kRouterIp, 16) == 0 ? std::optional<uint64_t>(kRouterMac) : ndp_(target);
  if (!owner) return false;

  // Nobody would answer this solicitation on a ZeroTier network: answer it ourselves.
  uint8_t na[32];
  std::memset(na, 0, sizeof na);
  na[0] = kNeighborAdvertisement;
  na[4] = 0x60;  // solicited, override
  std::memcpy(na + 8, target, 16);
  na[24] = 2;  // target link-layer address option
  na[25] = 1;
  putMac(na + 26, *owner);
  const uint16_t sum = icmpv6Checksum(target, askerIp, na, sizeof na);
  na[2] = static_cast<uint8_t>(sum >> 8);
  na[3] = static_cast<uint8_t>(sum);

  uint8_t packet[40 + sizeof na];
  std::memset(packet, 0, 40);
  packet[0] = 0x60;
  packet[4] = 0;
  packet[5] = sizeof na;
  packet[6] = kIcmpv6;
  packet[7] = 255;
  std::memcpy(packet + 8, target, 16);
  std::memcpy(packet + 24, askerIp, 16);
  std::memcpy(packet + 40, na, sizeof na);
  deferred_.push_back(
      {getMac(f + 6), *owner, std::vector<uint8_t>(packet, packet + sizeof packet)});
  return true;
}

}  // namespace zts::tap
