// One lwIP netif behind its tap, with the far side played by the test: ARP answers, a TCP
// SYN answered by a listener, and IPv6 neighbour discovery emulated (the SYN goes straight
// to the peer's derived MAC; no solicitation reaches the wire). Two netifs in one process
// cannot talk to each other: lwIP treats the other's address as local.
#include <gtest/gtest.h>

extern "C" {
#include <lwip/tcp.h>
}

#include <cstring>
#include <vector>

#include "tap/ethernet_tap.h"

namespace zts {
namespace {

struct Frame {
  uint64_t dst, src;
  uint16_t type;
  std::vector<uint8_t> payload;
};

struct Harness {
  std::vector<Frame> out;
  tap::EthernetTap tap;
  explicit Harness(uint64_t mac)
      : tap(mac, 2800, [this](uint64_t d, uint64_t s, uint16_t t, const uint8_t* p, size_t n) {
          out.push_back({d, s, t, std::vector<uint8_t>(p, p + n)});
        }) {}
  // The first frame of an ethertype that passes `match` (lwIP also sends gratuitous ARP
  // and MLD reports of its own).
  template <typename Match>
  const Frame* find(uint16_t type, Match match) const {
    for (const auto& f : out)
      if (f.type == type && match(f)) return &f;
    return nullptr;
  }
  void settle() {
    for (int i = 0; i < 5; ++i) {
      tap.deliverDeferred();
      tap::runLwipTimers();
    }
  }
};

uint16_t checksum(const std::vector<uint8_t>& bytes, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.size() % 2) sum += bytes.back() << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// An IPv4 TCP SYN from `src` to `dst`:port.
std::vector<uint8_t> ipv4Syn(const uint8_t src[4], const uint8_t dst[4], uint16_t port) {
  std::vector<uint8_t> tcp(20, 0);
  tcp[0] = 0x9c;  // source port 40000
  tcp[1] = 0x40;
  tcp[2] = static_cast<uint8_t>(port >> 8);
  tcp[3] = static_cast<uint8_t>(port);
  tcp[7] = 1;  // sequence number
  tcp[12] = 0x50;
  tcp[13] = 0x02;  // SYN
  tcp[14] = 0xff;  // window
  tcp[15] = 0xff;
  std::vector<uint8_t> pseudo(src, src + 4);
  pseudo.insert(pseudo.end(), dst, dst + 4);
  pseudo.insert(pseudo.end(), {0, 6, 0, 20});
  pseudo.insert(pseudo.end(), tcp.begin(), tcp.end());
  const uint16_t tsum = checksum(pseudo);
  tcp[16] = static_cast<uint8_t>(tsum >> 8);
  tcp[17] = static_cast<uint8_t>(tsum);
  std::vector<uint8_t> ip = {0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0};
  ip.insert(ip.end(), src, src + 4);
  ip.insert(ip.end(), dst, dst + 4);
  const uint16_t isum = checksum(ip);
  ip[10] = static_cast<uint8_t>(isum >> 8);
  ip[11] = static_cast<uint8_t>(isum);
  ip.insert(ip.end(), tcp.begin(), tcp.end());
  return ip;
}

TEST(EthernetTap, AnswersArpAndATcpSynOverIpv4) {
  const uint64_t mine = 0x028e4dee69b0, peer = 0x020b9ec04f21;
  Harness h(mine);
  const uint8_t me[4] = {10, 147, 17, 1}, them[4] = {10, 147, 17, 2};
  h.tap.setIpv4(me, 24);

  ip_addr_t any = IPADDR4_INIT(0);
  tcp_pcb* listener = tcp_new();
  ASSERT_EQ(tcp_bind(listener, &any, 8080), ERR_OK);
  listener = tcp_listen(listener);

  // The peer announces itself with an ARP request; lwIP answers it.
  std::vector<uint8_t> arp = {0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0x0b, 0x9e, 0xc0, 0x4f, 0x21};
  arp.insert(arp.end(), them, them + 4);
  arp.insert(arp.end(), 6, 0);
  arp.insert(arp.end(), me, me + 4);
  h.tap.input(0xffffffffffff, peer, 0x0806, arp.data(), arp.size());
  h.settle();
  const Frame* arpReply = h.find(0x0806, [](const Frame& f) { return f.payload[7] == 2; });
  ASSERT_NE(arpReply, nullptr);
  EXPECT_EQ(arpReply->dst, peer);
  EXPECT_EQ(arpReply->src, mine);
  EXPECT_EQ(arpReply->payload[7], 2);  // ARP reply
  h.out.clear();

  auto syn = ipv4Syn(them, me, 8080);
  h.tap.input(mine, peer, 0x0800, syn.data(), syn.size());
  h.settle();
  const Frame* synAck = h.find(0x0800, [](const Frame& f) { return f.payload[9] == 6; });
  ASSERT_NE(synAck, nullptr);
  const auto& reply = synAck->payload;
  EXPECT_EQ(synAck->dst, peer);
  EXPECT_EQ(reply[9], 6);                  // TCP
  EXPECT_EQ(reply[20 + 13] & 0x12, 0x12);  // SYN-ACK
  tcp_close(listener);
}

TEST(EthernetTap, EmulatesNeighbourDiscoveryForDerivedIpv6Addresses) {
  const uint64_t mine = 0x02aaaaaaaa03, peer = 0x02bbbbbbbb04;
  Harness h(mine);
  const uint8_t me[16] = {0xfd, 0x80, 0x56, 0xc2, 0xe2, 0x1c, 0,    0,
                          0,    0x99, 0x93, 0xaa, 0xaa, 0xaa, 0xaa, 0x03};
  const uint8_t them[16] = {0xfd, 0x80, 0x56, 0xc2, 0xe2, 0x1c, 0,    0,
                            0,    0x99, 0x93, 0xbb, 0xbb, 0xbb, 0xbb, 0x04};
  ASSERT_TRUE(h.tap.addIpv6(me));
  h.tap.setNdpResolver([&](const uint8_t ip[16]) -> std::optional<uint64_t> {
    if (std::memcmp(ip, them, 16) == 0) return peer;
    return std::nullopt;
  });
  h.settle();
  h.out.clear();

  ip_addr_t dst;
  IP_ADDR6(&dst, 0, 0, 0, 0);
  std::memcpy(&dst.u_addr.ip6.addr, them, 16);
  tcp_pcb* client = tcp_new_ip_type(IPADDR_TYPE_V6);
  ASSERT_EQ(tcp_connect(client, &dst, 80, nullptr), ERR_OK);
  h.settle();
  bool sawSyn = false;
  for (const auto& f : h.out) {
    ASSERT_EQ(f.type, 0x86dd);
    const bool solicitation = f.payload[6] == 58 && f.payload[40] == 135;
    EXPECT_FALSE(solicitation) << "a neighbour solicitation reached the wire";
    if (f.payload[6] == 6) {
      sawSyn = true;
      EXPECT_EQ(f.dst, peer);
      EXPECT_EQ(std::memcmp(f.payload.data() + 24, them, 16), 0);
    }
  }
  EXPECT_TRUE(sawSyn);
  tcp_abort(client);
}

TEST(EthernetTap, SendsOffSubnetTrafficToTheManagedRouteGateway) {
  Harness h(0x02aaaaaaaa05);
  const uint8_t me[4] = {10, 147, 18, 1}, gateway[4] = {10, 147, 18, 254};
  h.tap.setIpv4(me, 24);
  h.tap.setIpv4Gateway(gateway);
  h.settle();
  h.out.clear();
  ip_addr_t far;
  IP_ADDR4(&far, 192, 168, 50, 1);
  tcp_pcb* client = tcp_new();
  ASSERT_EQ(tcp_connect(client, &far, 80, nullptr), ERR_OK);
  h.settle();
  // lwIP asks who has the gateway, not the far address.
  const Frame* arp = h.find(0x0806, [](const Frame& f) { return f.payload[7] == 1; });
  ASSERT_NE(arp, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(arp->payload.begin() + 24, arp->payload.begin() + 28),
            std::vector<uint8_t>(gateway, gateway + 4));
  tcp_abort(client);
  h.tap.setIpv4Gateway(nullptr);
}

}  // namespace
}  // namespace zts
