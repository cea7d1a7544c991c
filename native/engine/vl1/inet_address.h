// A physical (UDP) endpoint or a virtual IP with prefix length: IPv4 or IPv6 bytes plus a
// port, which in network configs holds the netmask bit count (protocol.md §4).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "../util/buffer.h"

struct sockaddr;
struct sockaddr_storage;

namespace zts::vl1 {

class InetAddress {
 public:
  enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

  InetAddress() = default;
  static InetAddress v4(const uint8_t ip[4], uint16_t port);
  static InetAddress v6(const uint8_t ip[16], uint16_t port);
  // "1.2.3.4/9993", "1.2.3.4:9993", "[::1]:9993", "[::1]/9993", "::1/9993"; a bare IP
  // gets port 0. nullopt when malformed.
  static std::optional<InetAddress> parse(const std::string& text);
  static std::optional<InetAddress> fromSockaddr(const sockaddr* sa);

  // Reads the ZeroTier serialization; on a bad or truncated record the reader turns bad.
  // Reserved types (1, 2, 3) are skipped and yield kNone.
  static InetAddress read(util::Reader& r);
  void write(util::Writer& w) const;
  // Bytes write() produces.
  size_t serializedSize() const;

  // Fills a sockaddr_in/sockaddr_in6; returns its length (0 for kNone).
  unsigned toSockaddr(sockaddr_storage* out) const;

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::kV4; }
  bool isV6() const { return family_ == Family::kV6; }
  bool isNil() const { return family_ == Family::kNone; }
  const uint8_t* ip() const { return ip_.data(); }
  size_t ipLength() const { return isV4() ? 4 : isV6() ? 16 : 0; }
  uint16_t port() const { return port_; }
  void setPort(uint16_t port) { port_ = port; }

  bool isLoopback() const;
  // Whether this is an address a stock node would use as a physical path: not loopback,
  // multicast, unspecified or link-local (loopback is accepted only in lab mode).
  bool isUsablePath(bool allowLoopback) const;

  // "1.2.3.4/9993" style, as ZeroTier prints endpoints; "" for kNone.
  std::string toString() const;
  // The IP alone; "" for kNone.
  std::string ipString() const;

  bool sameIp(const InetAddress& o) const;
  bool operator==(const InetAddress& o) const;
  bool operator!=(const InetAddress& o) const { return !(*this == o); }
  bool operator<(const InetAddress& o) const;

 private:
  Family family_ = Family::kNone;
  std::array<uint8_t, 16> ip_{};
  uint16_t port_ = 0;
};

}  // namespace zts::vl1
