#include "network_taps.h"

extern "C" {
#include <lwip/etharp.h>
#include <lwip/ip_addr.h>
#include <lwip/priv/nd6_priv.h>
}

#include <cstring>

#include "../util/hex.h"
#include "../vl2/addresses.h"

namespace zts::tap {
namespace {

// The ZeroTier address inside a managed IPv6 address of `nwid`, when it is one (§5.5):
// rfc4193 fd‖nwid‖9993‖address, 6plane fc‖(nwid^nwid>>32)‖address‖...
std::optional<uint64_t> addressInManagedIpv6(uint64_t nwid, const uint8_t ip[16]) {
  uint8_t nw[8];
  util::writeBigEndian(nw, nwid, 8);
  if (ip[0] == 0xfd && std::memcmp(ip + 1, nw, 8) == 0 && ip[9] == 0x99 && ip[10] == 0x93)
    return util::readBigEndian(ip + 11, 5);
  const uint32_t folded = static_cast<uint32_t>(nwid ^ (nwid >> 32));
  uint8_t f[4];
  util::writeBigEndian(f, folded, 4);
  if (ip[0] == 0xfc && std::memcmp(ip + 1, f, 4) == 0) return util::readBigEndian(ip + 5, 5);
  return std::nullopt;
}

}  // namespace

NetworkTaps::NetworkTaps(uint64_t myAddress, FrameOut out)
    : myAddress_(myAddress), out_(std::move(out)) {
  initLwip();
}

NetworkTaps::~NetworkTaps() = default;

EthernetTap* NetworkTaps::tap(uint64_t nwid) {
  auto it = taps_.find(nwid);
  return it == taps_.end() ? nullptr : it->second.get();
}

void NetworkTaps::configure(uint64_t nwid, const vl2::NetworkConfig& cfg) {
  EthernetTap* t = tap(nwid);
  if (t == nullptr) {
    const uint64_t mac = vl2::macFor(myAddress_, nwid);
    auto created = std::make_unique<EthernetTap>(
        mac, cfg.mtu,
        [this, nwid](uint64_t dst, uint64_t src, uint16_t type, const uint8_t* d, size_t n) {
          out_(nwid, dst, src, type, d, n);
        });
    t = created.get();
    taps_[nwid] = std::move(created);
  }
  t->setMtu(cfg.mtu);
  auto& applied = applied_[nwid];
  if (applied != cfg.staticIps) {
    applied = cfg.staticIps;
    applyAddresses(*t, cfg);
  }
  applyGateway(*t, cfg);
  if ((cfg.flags & vl2::NetworkConfig::kFlagNdpEmulation) != 0) {
    t->setNdpResolver([nwid](const uint8_t ip[16]) -> std::optional<uint64_t> {
      auto addr = addressInManagedIpv6(nwid, ip);
      if (!addr) return std::nullopt;
      return vl2::macFor(*addr, nwid);
    });
    t->emulateRouter();  // refreshed with every config, long before its lifetime ends
  } else {
    t->setNdpResolver(nullptr);
  }
}

void NetworkTaps::applyGateway(EthernetTap& t, const vl2::NetworkConfig& cfg) {
  for (const auto& r : cfg.routes) {
    if (r.via.isV4()) {
      t.setIpv4Gateway(r.via.ip());
      return;
    }
  }
  t.setIpv4Gateway(nullptr);
}

void NetworkTaps::applyAddresses(EthernetTap& t, const vl2::NetworkConfig& cfg) {
  const uint8_t none[4] = {0, 0, 0, 0};
  bool haveV4 = false;
  t.clearIpv6();
  for (const auto& ip : cfg.staticIps) {
    if (ip.isV4() && !haveV4) {
      t.setIpv4(ip.ip(), ip.port());  // the port field carries the prefix length
      haveV4 = true;
    } else if (ip.isV6()) {
      t.addIpv6(ip.ip());
    }
  }
  if (!haveV4) t.setIpv4(none, 0);
}

void NetworkTaps::remove(uint64_t nwid) {
  taps_.erase(nwid);
  applied_.erase(nwid);
}

std::optional<uint64_t> NetworkTaps::peerAddressOf(const IpEndpoint& ip) const {
  ip_addr_t addr;
  toLwip(ip, &addr);
  for (const auto& [nwid, t] : taps_) {
    struct netif* n = t->netif();
    const uint8_t* hw = nullptr;
    if (IP_IS_V4(&addr)) {
      struct eth_addr* eth = nullptr;
      const ip4_addr_t* found = nullptr;
      if (etharp_find_addr(n, ip_2_ip4(&addr), &eth, &found) >= 0) hw = eth->addr;
    } else {
      if (auto inside = addressInManagedIpv6(nwid, ip.ip)) return inside;
      for (int i = 0; i < LWIP_ND6_NUM_NEIGHBORS; ++i) {
        const auto& entry = neighbor_cache[i];
        if (entry.state != ND6_NO_ENTRY && entry.netif == n &&
            ip6_addr_cmp_zoneless(&entry.next_hop_address, ip_2_ip6(&addr))) {
          hw = entry.lladdr;
          break;
        }
      }
    }
    if (hw == nullptr) continue;
    vl2::Mac mac = 0;
    for (int i = 0; i < 6; ++i) mac = (mac << 8) | hw[i];
    if (vl2::isZeroTierMac(mac, nwid)) return vl2::addressFromMac(mac, nwid);
  }
  return std::nullopt;
}

void NetworkTaps::queueInbound(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                               const uint8_t* data, size_t len) {
  if (tap(nwid) == nullptr) return;
  inbound_.push_back({nwid, dst, src, etherType, std::vector<uint8_t>(data, data + len)});
}

void NetworkTaps::deliver() {
  while (!inbound_.empty()) {
    auto batch = std::move(inbound_);
    inbound_.clear();
    for (auto& f : batch) {
      if (EthernetTap* t = tap(f.nwid))
        t->input(f.dst, f.src, f.etherType, f.data.data(), f.data.size());
    }
  }
  for (auto& [nwid, t] : taps_) {
    t->deliverDeferred();
    t->deliverLoopback();
  }
}

bool NetworkTaps::loopbackPending() const {
  for (const auto& [nwid, t] : taps_)
    if (t->loopbackPending()) return true;
  return false;
}

uint32_t NetworkTaps::runTimers() {
  const uint32_t next = tap::runLwipTimers();
  for (auto& [nwid, t] : taps_) t->deliverDeferred();
  return next;
}

}  // namespace zts::tap
