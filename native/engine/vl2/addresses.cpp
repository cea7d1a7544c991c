#include "addresses.h"

#include <cstdio>

namespace zts::vl2 {

Mac macFromBytes(const uint8_t b[6]) {
  Mac m = 0;
  for (int i = 0; i < 6; ++i) m = (m << 8) | b[i];
  return m;
}

void macToBytes(Mac mac, uint8_t out[6]) {
  for (int i = 5; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(mac);
    mac >>= 8;
  }
}

std::string macToString(Mac mac) {
  uint8_t b[6];
  macToBytes(mac, b);
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

uint8_t macFirstByte(uint64_t nwid) {
  // Locally administered unicast from the network id's low byte. Stock nodes never use
  // 0x52 (most likely because 52:54:00 is QEMU/KVM's prefix), so neither may we.
  const uint8_t b = static_cast<uint8_t>((nwid & 0xfe) | 0x02);
  return b == 0x52 ? 0x32 : b;
}

namespace {
// The nwid bytes XORed into MAC bytes 1..5: bits 8..15 go to byte 1, ..., 40..47 to byte 5.
uint64_t macXorMask(uint64_t nwid) {
  uint64_t m = 0;
  for (int i = 1; i <= 5; ++i) m = (m << 8) | ((nwid >> (8 * i)) & 0xff);
  return m;
}
}  // namespace

Mac macFor(uint64_t address, uint64_t nwid) {
  return (static_cast<Mac>(macFirstByte(nwid)) << 40) |
         ((address ^ macXorMask(nwid)) & 0xffffffffffULL);
}

uint64_t addressFromMac(Mac mac, uint64_t nwid) {
  return (mac ^ macXorMask(nwid)) & 0xffffffffffULL;
}

bool isZeroTierMac(Mac mac, uint64_t nwid) {
  return ((mac >> 40) & 0xff) == macFirstByte(nwid);
}

vl1::InetAddress rfc4193Address(uint64_t nwid, uint64_t address) {
  uint8_t ip[16];
  ip[0] = 0xfd;
  for (int i = 0; i < 8; ++i) ip[1 + i] = static_cast<uint8_t>(nwid >> (56 - 8 * i));
  ip[9] = 0x99;
  ip[10] = 0x93;
  for (int i = 0; i < 5; ++i) ip[11 + i] = static_cast<uint8_t>(address >> (32 - 8 * i));
  return vl1::InetAddress::v6(ip, 88);
}

vl1::InetAddress sixPlaneAddress(uint64_t nwid, uint64_t address) {
  uint8_t ip[16] = {};
  const uint32_t folded = static_cast<uint32_t>(nwid ^ (nwid >> 32));
  ip[0] = 0xfc;
  for (int i = 0; i < 4; ++i) ip[1 + i] = static_cast<uint8_t>(folded >> (24 - 8 * i));
  for (int i = 0; i < 5; ++i) ip[5 + i] = static_cast<uint8_t>(address >> (32 - 8 * i));
  ip[15] = 0x01;
  return vl1::InetAddress::v6(ip, 40);
}

MulticastGroup arpGroup(const uint8_t ipv4[4]) {
  return {kBroadcastMac, (static_cast<uint32_t>(ipv4[0]) << 24) |
                             (static_cast<uint32_t>(ipv4[1]) << 16) |
                             (static_cast<uint32_t>(ipv4[2]) << 8) | ipv4[3]};
}

MulticastGroup solicitedNodeGroup(const uint8_t ipv6[16]) {
  const Mac mac = 0x3333ff000000ULL | (static_cast<Mac>(ipv6[13]) << 16) |
                  (static_cast<Mac>(ipv6[14]) << 8) | ipv6[15];
  return {mac, 0};
}

uint64_t adhocNetworkId(uint16_t startPort, uint16_t endPort) {
  return 0xff00000000000000ULL | (static_cast<uint64_t>(startPort) << 40) |
         (static_cast<uint64_t>(endPort) << 24);
}

std::optional<PortRange> adhocPortRange(uint64_t nwid) {
  if (!isAdhocNetwork(nwid) || (nwid & 0xffffff) != 0) return std::nullopt;
  PortRange r{static_cast<uint16_t>(nwid >> 40), static_cast<uint16_t>(nwid >> 24)};
  if (r.end < r.start) return std::nullopt;
  return r;
}

bool isAdhocFormB(uint64_t nwid) {
  return isAdhocNetwork(nwid) && (nwid & 0xff) == 0x01;
}

}  // namespace zts::vl2
