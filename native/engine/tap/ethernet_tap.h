// The tap into lwIP: one lwIP netif per joined network, fed Ethernet frames from the
// network and handing back the frames lwIP sends. lwIP is process-global (brief,
// decision 1) and runs on the engine thread only, built with NO_SYS=1 (lwip-port/).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

struct netif;
struct pbuf;

namespace zts::tap {

// lwIP's one-time set-up; safe to call again.
void initLwip();
// Runs lwIP's due timers; returns ms until the next one (capped at 1000).
uint32_t runLwipTimers();

struct Ipv6Prefix {
  uint8_t bytes[16];
  unsigned bits;
};

class EthernetTap {
 public:
  // A frame lwIP wants on the wire: destination and source MAC (48-bit values), ethertype,
  // payload after the 14-byte Ethernet header.
  using Output = std::function<void(uint64_t dst, uint64_t src, uint16_t ethertype,
                                    const uint8_t* payload, size_t len)>;
  // For IPv6 NDP emulation: the MAC that owns an address, when the network derives it
  // (rfc4193 / 6plane addresses of peers), so no neighbour solicitation goes out.
  using NdpResolver = std::function<std::optional<uint64_t>(const uint8_t ip6[16])>;

  EthernetTap(uint64_t mac, unsigned mtu, Output output);
  ~EthernetTap();
  EthernetTap(const EthernetTap&) = delete;
  EthernetTap& operator=(const EthernetTap&) = delete;

  // A frame from the network into lwIP.
  void input(uint64_t dst, uint64_t src, uint16_t ethertype, const uint8_t* payload, size_t len);

  void setMtu(unsigned mtu);
  // Replaces the IPv4 address (0 clears it). `ip` in network byte order as 4 bytes.
  void setIpv4(const uint8_t ip[4], unsigned prefixBits);
  // A managed route through a gateway on this network: IPv4 destinations off our subnet go
  // to `gateway` (lwIP has one gateway per netif, so the first such route wins), and this
  // netif becomes lwIP's default. Null clears it.
  void setIpv4Gateway(const uint8_t* gateway);
  // Adds an IPv6 address, ready at once (no duplicate detection: the controller assigns).
  bool addIpv6(const uint8_t ip[16]);
  void clearIpv6();
  void setNdpResolver(NdpResolver resolver) { ndp_ = std::move(resolver); }
  // 6plane hosts each own a /80 under a /40, so lwIP (which decides on-link by /64) sees
  // peers as off-link. This announces a router that exists only here: lwIP then sends
  // off-link IPv6 to the router's MAC, and linkOutput re-addresses each such frame to the
  // MAC the NDP resolver derives from its destination address.
  void emulateRouter();
  // Feeds lwIP the answers emulateNdp() made while lwIP was sending (it must not be
  // re-entered from its own output path). Call after driving lwIP.
  void deliverDeferred();
  // Packets lwIP sent to one of this netif's own addresses (a process talking to itself,
  // as through the kernel's loopback) wait in the netif until this hands them back to
  // lwIP's input; with NO_SYS nothing else does. Call after driving lwIP.
  void deliverLoopback();
  bool loopbackPending() const;

  uint64_t mac() const { return mac_; }
  struct netif* netif() {
    return netif_.get();
  }

 private:
  static signed char linkOutput(struct netif* n, struct pbuf* p);
  // Answers a neighbour solicitation for an emulated address itself; true if it did.
  bool emulateNdp(const uint8_t* frame, size_t len);
  static constexpr uint64_t kRouterMac = 0x02fe00000001ULL;

  uint64_t mac_;
  Output output_;
  NdpResolver ndp_;
  std::unique_ptr<struct netif> netif_;
  std::vector<uint8_t> scratch_;
  struct Deferred {
    uint64_t dst, src;
    std::vector<uint8_t> packet;
  };
  std::vector<Deferred> deferred_;
};

}  // namespace zts::tap
