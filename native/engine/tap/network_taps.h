// The taps of all joined networks: a netif per network, configured from its config
// (MAC, MTU, addresses, NDP emulation), with inbound frames queued so that lwIP is never
// entered from inside the protocol core.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "../vl2/network_config.h"
#include "ethernet_tap.h"
#include "socket_address.h"

namespace zts::tap {

class NetworkTaps {
 public:
  using FrameOut = std::function<void(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                                      const uint8_t* data, size_t len)>;

  NetworkTaps(uint64_t myAddress, FrameOut out);
  ~NetworkTaps();

  // Creates or reconfigures the network's netif from its (new) config.
  void configure(uint64_t nwid, const vl2::NetworkConfig& cfg);
  void remove(uint64_t nwid);
  EthernetTap* tap(uint64_t nwid);
  const std::map<uint64_t, std::unique_ptr<EthernetTap>>& taps() const { return taps_; }

  // The ZeroTier node that holds `ip` on one of our networks, as lwIP knows it (its ARP or
  // neighbour cache, or a managed IPv6 address that contains it); nullopt when unknown.
  std::optional<uint64_t> peerAddressOf(const IpEndpoint& ip) const;

  void queueInbound(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                    const uint8_t* data, size_t len);
  // Feeds queued frames, lwIP's own deferred answers and what it sent to our own
  // addresses to lwIP.
  void deliver();
  // Something sent to our own addresses waits for the next deliver().
  bool loopbackPending() const;
  // lwIP's timers; returns ms until the next.
  uint32_t runTimers();

 private:
  static void applyAddresses(EthernetTap& t, const vl2::NetworkConfig& cfg);
  static void applyGateway(EthernetTap& t, const vl2::NetworkConfig& cfg);
  struct Inbound {
    uint64_t nwid, dst, src;
    uint16_t etherType;
    std::vector<uint8_t> data;
  };
  uint64_t myAddress_;
  FrameOut out_;
  std::map<uint64_t, std::unique_ptr<EthernetTap>> taps_;
  // What each netif was given last: re-setting an address would cut its connections.
  std::map<uint64_t, std::vector<vl1::InetAddress>> applied_;
  std::vector<Inbound> inbound_;
};

}  // namespace zts::tap
