// The network config a member receives (protocol.md §5.4, §8 item 2), shaped like what the
// stock 1.14 controller sends (vectors/stock/controller/netconf).
#include "../vl2/addresses.h"
#include "../vl2/certificate_of_membership.h"
#include "../vl2/credentials.h"
#include "controller.h"

namespace zts::lab {

vl2::NetworkConfig Controller::buildConfig(int64_t now, const NetworkState& n,
                                           const MemberState& ms) const {
  const NetworkSettings& s = n.net.settings;
  const Member& m = ms.m;
  const uint64_t ts = static_cast<uint64_t>(now);
  vl2::NetworkConfig c;
  c.networkId = n.net.id;
  c.timestamp = ts;
  c.revision = n.net.revision;
  c.issuedTo = m.address;
  c.credentialTimeMaxDelta = s.credentialTimeMaxDelta;
  const bool managedV6 = s.v6AssignRfc4193 || s.v6AssignSixPlane;
  c.flags = (s.enableBroadcast ? vl2::NetworkConfig::kFlagEnableBroadcast : 0) |
            (managedV6 ? vl2::NetworkConfig::kFlagNdpEmulation : 0);
  c.multicastLimit = s.multicastLimit;
  c.type = s.isPrivate ? vl2::NetworkConfig::Type::kPrivate : vl2::NetworkConfig::Type::kPublic;
  c.name = s.name;
  c.mtu = s.mtu;

  // Each managed IP carries the prefix of the on-link route it lies in, so the member
  // configures the right subnet; an IP outside every route gets a host prefix (/32, /128)
  // rather than being dropped, so an explicit assignment is never silently ignored.
  for (const auto& ip : m.settings.ipAssignments) {
    vl1::InetAddress a = ip;
    a.setPort(static_cast<uint16_t>(onLinkBits(s.routes, ip).value_or(ip.ipLength() * 8)));
    c.staticIps.push_back(a);
  }
  if (s.v6AssignRfc4193) c.staticIps.push_back(vl2::rfc4193Address(c.networkId, m.address));
  if (s.v6AssignSixPlane) c.staticIps.push_back(vl2::sixPlaneAddress(c.networkId, m.address));
  for (const auto& r : s.routes) c.routes.push_back({r.target, r.via, 0, 0});

  for (const auto& [a, other] : n.members) {
    if (other.m.settings.authorized && other.m.settings.activeBridge) {
      c.specialists.push_back({a | vl2::Specialist::kActiveBridge});
    }
  }
  // A member that does not announce a rules engine (`revr` missing or 0) cannot evaluate
  // anything but the single ACCEPT, and the stock controller then sends only that.
  c.dns = s.dns;
  c.rules = ms.metadata.getUInt("revr", 0) >= 1 ? s.rules : std::vector<uint8_t>{0x01, 0x00};

  c.com = vl2::CertificateOfMembership::issue(c.networkId, ts, s.credentialTimeMaxDelta,
                                              *m.identity, identity_);
  // One certificate of ownership for all managed IPs (id 1, flags 0, like stock), so peers
  // that check IP ownership accept the member's traffic from them.
  if (!c.staticIps.empty()) {
    vl2::CertificateOfOwnership coo;
    coo.networkId = c.networkId;
    coo.timestamp = ts;
    coo.id = 1;
    coo.issuedTo = m.address;
    for (const auto& a : c.staticIps) {
      if (a.isV4()) coo.addIpv4(a.ip());
      if (a.isV6()) coo.addIpv6(a.ip());
    }
    if (coo.sign(identity_)) c.coos.push_back(std::move(coo));
  }
  return c;
}

}  // namespace zts::lab
