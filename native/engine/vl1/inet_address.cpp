#include "inet_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace zts::vl1 {
namespace {

// Wire type bytes (protocol.md §4).
constexpr uint8_t kTypeNil = 0x00;
constexpr uint8_t kTypeEthernet = 0x01;
constexpr uint8_t kTypeBluetooth = 0x02;
constexpr uint8_t kTypeOther = 0x03;
constexpr uint8_t kTypeV4 = 0x04;
constexpr uint8_t kTypeV6 = 0x06;

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// A decimal port of 1..5 digits, at most 65535; strtoul would accept signs and spaces.
std::optional<uint16_t> parsePort(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 0xffff) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<InetAddress> parseIp(const std::string& text, uint16_t port) {
  uint8_t buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return InetAddress::v4(buf, port);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return InetAddress::v6(buf, port);
  return std::nullopt;
}

bool isV4Mapped(const uint8_t* ip16) {
  return std::memcmp(ip16, kV4MappedPrefix, sizeof kV4MappedPrefix) == 0;
}

bool allZero(const uint8_t* p, size_t n) {
  return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

// The scope checks of isUsablePath for a bare IPv4 address (also applied to the
// IPv4 inside ::ffff:a.b.c.d, which a dual-stack socket reports for IPv4 peers).
bool usableV4(const uint8_t* ip, bool allowLoopback) {
  if (ip[0] == 0) return false;                    // 0/8 "this network", incl. unspecified
  if (ip[0] == 127) return allowLoopback;          // loopback
  if (ip[0] == 169 && ip[1] == 254) return false;  // link-local
  if ((ip[0] & 0xf0) == 0xe0) return false;        // multicast 224/4
  if (ip[0] == 255 && ip[1] == 255 && ip[2] == 255 && ip[3] == 255) return false;
  return true;
}

}  // namespace

InetAddress InetAddress::v4(const uint8_t ip[4], uint16_t port) {
  InetAddress a;
  a.family_ = Family::kV4;
  std::memcpy(a.ip_.data(), ip, 4);
  a.port_ = port;
  return a;
}

InetAddress InetAddress::v6(const uint8_t ip[16], uint16_t port) {
  InetAddress a;
  a.family_ = Family::kV6;
  std::memcpy(a.ip_.data(), ip, 16);
  a.port_ = port;
  return a;
}

std::optional<InetAddress> InetAddress::parse(const std::string& text) {
  // inet_pton reads a C string, so an embedded NUL would hide whatever follows it.
  if (text.empty() || text.find('\0') != std::string::npos) return std::nullopt;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    const std::string ip = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (rest.empty()) return parseIp(ip, 0);
    if (rest.front() != ':' && rest.front() != '/') return std::nullopt;
    const auto port = parsePort(rest.substr(1));
    if (!port) return std::nullopt;
    auto a = parseIp(ip, *port);
    // Brackets exist to disambiguate IPv6 colons; "[1.2.3.4]" is a typo, not an address.
    if (a && !a->isV6()) return std::nullopt;
    return a;
  }
  // '/' is ZeroTier's own separator and is never part of an IP literal, so it wins.
  size_t sep = text.rfind('/');
  // Without brackets a single ':' can only be an IPv4 port; more than one is IPv6.
  if (sep == std::string::npos && std::count(text.begin(), text.end(), ':') == 1) {
    sep = text.find(':');
  }
  if (sep == std::string::npos) return parseIp(text, 0);
  const auto port = parsePort(text.substr(sep + 1));
  if (!port) return std::nullopt;
  return parseIp(text.substr(0, sep), *port);
}

std::optional<InetAddress> InetAddress::fromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);
    return v4(reinterpret_cast<const uint8_t*>(&in.sin_addr), ntohs(in.sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    return v6(in6.sin6_addr.s6_addr, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

unsigned InetAddress::toSockaddr(sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (isV4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port_);
    std::memcpy(&in.sin_addr, ip_.data(), 4);
    std::memcpy(out, &in, sizeof in);
    return sizeof in;
  }
  if (isV6()) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port_);
    std::memcpy(in6.sin6_addr.s6_addr, ip_.data(), 16);
    std::memcpy(out, &in6, sizeof in6);
    return sizeof in6;
  }
  return 0;
}

InetAddress InetAddress::read(util::Reader& r) {
  InetAddress a;
  switch (r.u8()) {
    case kTypeNil:
      break;
    case kTypeV4:
      a.family_ = Family::kV4;
      r.copy(a.ip_.data(), 4);
      a.port_ = r.u16();
      break;
    case kTypeV6:
      a.family_ = Family::kV6;
      r.copy(a.ip_.data(), 16);
      a.port_ = r.u16();
      break;
    case kTypeEthernet:
    case kTypeBluetooth:
      r.skip(6);
      break;
    case kTypeOther:
      r.skip(r.u16());
      break;
    default:
      r.fail();
      break;
  }
  // A half-read address must not leak out as a plausible one.
  return r.ok() ? a : InetAddress();
}

void InetAddress::write(util::Writer& w) const {
  if (isV4()) {
    w.u8(kTypeV4);
    w.bytes(ip_.data(), 4);
    w.u16(port_);
  } else if (isV6()) {
    w.u8(kTypeV6);
    w.bytes(ip_.data(), 16);
    w.u16(port_);
  } else {
    w.u8(kTypeNil);
  }
}

size_t InetAddress::serializedSize() const {
  return 1 + (isNil() ? 0 : ipLength() + 2);
}

bool InetAddress::isLoopback() const {
  if (isV4()) return ip_[0] == 127;
  if (!isV6()) return false;
  if (isV4Mapped(ip_.data())) return ip_[12] == 127;
  return allZero(ip_.data(), 15) && ip_[15] == 1;
}

bool InetAddress::isUsablePath(bool allowLoopback) const {
  if (isNil() || port_ == 0) return false;
  if (isV4()) return usableV4(ip_.data(), allowLoopback);
  const uint8_t* ip = ip_.data();
  if (isV4Mapped(ip)) return usableV4(ip + 12, allowLoopback);
  if (allZero(ip, 16)) return false;                          // ::
  if (isLoopback()) return allowLoopback;                     // ::1
  if (ip[0] == 0xff) return false;                            // multicast ff00::/8
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return false;  // link-local fe80::/10
  return true;
}

std::string InetAddress::ipString() const {
  if (isNil()) return {};
  char buf[INET6_ADDRSTRLEN];
  const int af = isV4() ? AF_INET : AF_INET6;
  if (inet_ntop(af, ip_.data(), buf, sizeof buf) == nullptr) return {};
  return buf;
}

std::string InetAddress::toString() const {
  if (isNil()) return {};
  return ipString() + "/" + std::to_string(port_);
}

bool InetAddress::sameIp(const InetAddress& o) const {
  return family_ == o.family_ && std::memcmp(ip_.data(), o.ip_.data(), ipLength()) == 0;
}

bool InetAddress::operator==(const InetAddress& o) const {
  return sameIp(o) && port_ == o.port_;
}

bool InetAddress::operator<(const InetAddress& o) const {
  // Bytes past ipLength() are always zero, so comparing the whole array is consistent
  // with operator==.
  return std::tie(family_, ip_, port_) < std::tie(o.family_, o.ip_, o.port_);
}

}  // namespace zts::vl1
