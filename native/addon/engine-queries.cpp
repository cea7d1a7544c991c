#include "engine-queries.h"

#include <sstream>

#include "../engine/util/hex.h"
#include "../engine/vl2/addresses.h"

namespace zts::addon {
namespace {

// Names and domains come from controllers we do not control: control bytes are escaped so
// the JSON stays valid.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      static const char* kHex = "0123456789abcdef";
      out += "\\u00";
      out.push_back(kHex[(c >> 4) & 0xf]);
      out.push_back(kHex[c & 0xf]);
      continue;
    }
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string countersJson(const vl1::NodeCore& core) {
  const auto& c = core.counters();
  std::ostringstream o;
  o << "{\"datagramsIn\":" << c.datagramsIn << ",\"datagramsOut\":" << c.datagramsOut
    << ",\"packetsIn\":" << c.packetsIn << ",\"packetsOut\":" << c.packetsOut
    << ",\"relayed\":" << c.relayed << ",\"dropped\":{";
  for (size_t i = 0; i < c.dropped.size(); ++i) {
    if (i > 0) o << ',';
    o << quoted(vl1::dropName(static_cast<vl1::Drop>(i))) << ':' << c.dropped[i];
  }
  o << "}}";
  return o.str();
}

std::string peersJson(vl1::NodeCore& core, int64_t now) {
  std::ostringstream o;
  o << '[';
  bool first = true;
  for (const auto& [addr, peer] : core.peers()) {
    if (!first) o << ',';
    first = false;
    o << "{\"address\":" << quoted(vl1::addressToString(addr))
      << ",\"root\":" << (peer->isRoot ? "true" : "false") << ",\"latency\":" << peer->latencyMs
      << ",\"version\":"
      << quoted(std::to_string(peer->remoteMajor) + "." + std::to_string(peer->remoteMinor) + "." +
                std::to_string(peer->remoteRevision))
      << ",\"protocol\":" << static_cast<int>(peer->remoteProtocol)
      << ",\"lastReceive\":" << peer->lastReceive << ",\"paths\":[";
    bool firstPath = true;
    for (const auto& p : peer->paths()) {
      if (!firstPath) o << ',';
      firstPath = false;
      o << "{\"address\":" << quoted(p.remote.toString()) << ",\"lastReceive\":" << p.lastReceive
        << ",\"latency\":" << p.latencyMs << ",\"alive\":" << (p.alive(now) ? "true" : "false")
        << '}';
    }
    o << "]}";
  }
  o << ']';
  return o.str();
}

std::string statusJson(const vl1::NodeCore& core) {
  std::ostringstream o;
  o << "{\"address\":" << quoted(vl1::addressToString(core.address()))
    << ",\"online\":" << (core.online() ? "true" : "false")
    << ",\"planetId\":" << core.planet().id()
    << ",\"planetTimestamp\":" << core.planet().timestamp() << ",\"externalAddresses\":[";
  bool first = true;
  for (const auto& [reporter, seen] : core.externalAddresses()) {
    if (!first) o << ',';
    first = false;
    o << "{\"reporter\":" << quoted(vl1::addressToString(reporter))
      << ",\"address\":" << quoted(seen.toString()) << '}';
  }
  o << "]}";
  return o.str();
}

std::string networksJson(const vl1::NodeCore& core) {
  std::ostringstream o;
  o << '[';
  bool first = true;
  for (const auto& [nwid, net] : core.networks()) {
    if (!first) o << ',';
    first = false;
    uint8_t id[8];
    util::writeBigEndian(id, nwid, 8);
    std::string hex;
    util::appendHex(hex, id, 8);
    o << "{\"id\":" << quoted(hex) << ",\"status\":" << quoted(vl2::statusName(net->status))
      << ",\"mac\":" << quoted(vl2::macToString(net->myMac()));
    if (net->config) {
      const auto& c = *net->config;
      o << ",\"name\":" << quoted(c.name) << ",\"mtu\":" << c.mtu << ",\"type\":"
        << quoted(c.type == vl2::NetworkConfig::Type::kPublic ? "public" : "private")
        << ",\"revision\":" << c.revision << ",\"addresses\":[";
      for (size_t i = 0; i < c.staticIps.size(); ++i)
        o << (i ? "," : "") << quoted(c.staticIps[i].toString());
      o << "],\"routes\":[";
      for (size_t i = 0; i < c.routes.size(); ++i) {
        o << (i ? "," : "") << "{\"target\":" << quoted(c.routes[i].target.toString())
          << ",\"via\":" << (c.routes[i].via.isNil() ? "null" : quoted(c.routes[i].via.ipString()))
          << '}';
      }
      o << ']';
      if (!c.dns.domain.empty() || !c.dns.servers.empty()) {
        o << ",\"dns\":{\"domain\":" << quoted(c.dns.domain) << ",\"servers\":[";
        for (size_t i = 0; i < c.dns.servers.size(); ++i)
          o << (i ? "," : "") << quoted(c.dns.servers[i].ipString());
        o << "]}";
      }
    } else {
      o << ",\"addresses\":[],\"routes\":[]";  // not configured (yet): nothing assigned
    }
    o << '}';
  }
  o << ']';
  return o.str();
}

}  // namespace zts::addon
