#include "engine-queries.h"

#include "../engine/tap/lwip_census.h"
#include "../engine/util/hex.h"
#include "../engine/util/json.h"
#include "../engine/vl2/addresses.h"

namespace zts::addon {

using util::json::Value;

namespace {
Value socketsCensus(const SocketBridge& sockets) {
  const auto pcbs = tap::tcpPcbCensus();
  return {{"open", sockets.openIds()},
          {"held", sockets.tableSockets()},
          {"tcpListening", pcbs.listening},
          {"tcpActive", pcbs.active},
          {"tcpTimeWait", pcbs.timeWait}};
}

Value tablesCensus(const vl1::CoreTableSizes& t) {
  return {{"peers", t.peers},
          {"pendingIdentities", t.pendingIdentities},
          {"rejectedIdentities", t.rejectedIdentities},
          {"queuedReceives", t.queuedReceives},
          {"heldFrames", t.heldFrames},
          {"queuedSends", t.queuedSends},
          {"whois", t.whois},
          {"expectedReplies", t.expectedReplies},
          {"fragmentsInFlight", t.fragmentsInFlight}};
}
}  // namespace

std::string countersJson(const vl1::NodeCore& core, const SocketBridge& sockets) {
  const auto& c = core.counters();
  Value dropped = Value::object();
  for (size_t i = 0; i < c.dropped.size(); ++i)
    dropped[vl1::dropName(static_cast<vl1::Drop>(i))] = c.dropped[i];
  return util::json::write({{"datagramsIn", c.datagramsIn},
                            {"datagramsOut", c.datagramsOut},
                            {"packetsIn", c.packetsIn},
                            {"packetsOut", c.packetsOut},
                            {"relayed", c.relayed},
                            {"dropped", std::move(dropped)},
                            {"sockets", socketsCensus(sockets)},
                            {"tables", tablesCensus(core.tableSizes())}});
}

std::string peersJson(vl1::NodeCore& core, int64_t now) {
  Value peers = Value::array();
  for (const auto& [addr, peer] : core.peers()) {
    Value paths = Value::array();
    for (const auto& p : peer->paths()) {
      paths.push_back({{"address", p.remote.toString()},
                       {"lastReceive", p.lastReceive},
                       {"latency", p.latencyMs},
                       {"alive", p.alive(now)}});
    }
    peers.push_back(
        {{"address", vl1::addressToString(addr)},
         {"root", peer->isRoot},
         {"latency", peer->latencyMs},
         {"version", std::to_string(peer->remoteMajor) + "." + std::to_string(peer->remoteMinor) +
                         "." + std::to_string(peer->remoteRevision)},
         {"protocol", static_cast<int>(peer->remoteProtocol)},
         {"lastReceive", peer->lastReceive},
         {"paths", std::move(paths)}});
  }
  return util::json::write(peers);
}

std::string statusJson(const vl1::NodeCore& core) {
  Value external = Value::array();
  for (const auto& [reporter, seen] : core.externalAddresses()) {
    external.push_back(
        {{"reporter", vl1::addressToString(reporter)}, {"address", seen.toString()}});
  }
  return util::json::write({{"address", vl1::addressToString(core.address())},
                            {"online", core.online()},
                            {"planetId", core.planet().id()},
                            {"planetTimestamp", core.planet().timestamp()},
                            {"externalAddresses", std::move(external)}});
}

std::string networksJson(const vl1::NodeCore& core) {
  Value networks = Value::array();
  for (const auto& [nwid, net] : core.networks()) {
    uint8_t id[8];
    util::writeBigEndian(id, nwid, 8);
    std::string hex;
    util::appendHex(hex, id, 8);
    Value n = {{"id", hex},
               {"status", vl2::statusName(net->status)},
               {"mac", vl2::macToString(net->myMac())},
               {"addresses", Value::array()},
               {"routes", Value::array()}};  // not configured (yet): nothing assigned
    if (net->config) {
      const auto& c = *net->config;
      n["name"] = c.name;  // from the controller: any bytes; the writer keeps the JSON valid
      n["mtu"] = c.mtu;
      n["type"] = c.type == vl2::NetworkConfig::Type::kPublic ? "public" : "private";
      n["revision"] = c.revision;
      for (const auto& ip : c.staticIps) n["addresses"].push_back(ip.toString());
      for (const auto& r : c.routes) {
        n["routes"].push_back({{"target", r.target.toString()},
                               {"via", r.via.isNil() ? Value() : Value(r.via.ipString())}});
      }
      if (!c.dns.domain.empty() || !c.dns.servers.empty()) {
        Value dns = {{"domain", c.dns.domain}, {"servers", Value::array()}};
        for (const auto& server : c.dns.servers) dns["servers"].push_back(server.ipString());
        n["dns"] = std::move(dns);
      }
    }
    networks.push_back(std::move(n));
  }
  return util::json::write(networks);
}

}  // namespace zts::addon
