// The controller's JSON: the stock controller's network and member objects (field names,
// types and alphabetical member order as in vectors/stock/controller/*.json), POST bodies,
// and the saved state.
#include <limits>

#include "../util/json.h"
#include "controller.h"
#include "rules_json.h"

namespace zts::lab {
namespace {

namespace json = util::json;
using json::Value;

constexpr int kIndent = 2;
constexpr int64_t kStateVersion = 1;

Value str(std::string s) {
  return Value(std::move(s));
}
Value num(int64_t v) {
  return Value(v);
}
Value boolean(bool b) {
  return Value(b);
}

Value networkToJson(const Network& n) {
  const NetworkSettings& s = n.settings;
  Value pools = Value::array();
  for (const auto& p : s.ipAssignmentPools) {
    Value o = Value::object();
    o["ipRangeEnd"] = str(p.end.ipString());
    o["ipRangeStart"] = str(p.start.ipString());
    pools.push_back(std::move(o));
  }
  Value routes = Value::array();
  for (const auto& r : s.routes) {
    Value o = Value::object();
    o["target"] = str(r.target.toString());
    o["via"] = r.via.isNil() ? Value() : str(r.via.ipString());
    routes.push_back(std::move(o));
  }
  Value v4 = Value::object();
  v4["zt"] = boolean(s.v4AssignZt);
  Value v6 = Value::object();
  v6["6plane"] = boolean(s.v6AssignSixPlane);
  v6["rfc4193"] = boolean(s.v6AssignRfc4193);
  v6["zt"] = boolean(s.v6AssignZt);

  Value o = Value::object();
  // Token and SSO authorisation are not implemented; their fields keep the stock shape.
  o["authTokens"] = Value::array();
  o["authorizationEndpoint"] = str("");
  o["capabilities"] = Value::array();
  o["clientId"] = str("");
  o["creationTime"] = num(n.creationTime);
  o["credentialTimeMaxDelta"] = num(static_cast<int64_t>(s.credentialTimeMaxDelta));
  // Stock writes `[]` until a DNS object is set, then {"domain", "servers"}.
  if (s.dns.domain.empty() && s.dns.servers.empty()) {
    o["dns"] = Value::array();
  } else {
    Value servers = Value::array();
    for (const auto& a : s.dns.servers) servers.push_back(str(a.ipString()));
    o["dns"] = {{"domain", str(s.dns.domain)}, {"servers", std::move(servers)}};
  }
  o["enableBroadcast"] = boolean(s.enableBroadcast);
  o["id"] = str(nwidToString(n.id));
  o["ipAssignmentPools"] = std::move(pools);
  o["mtu"] = num(s.mtu);
  o["multicastLimit"] = num(static_cast<int64_t>(s.multicastLimit));
  o["name"] = str(s.name);
  o["nwid"] = str(nwidToString(n.id));
  o["objtype"] = str("network");
  o["private"] = boolean(s.isPrivate);
  o["remoteTraceLevel"] = num(0);
  o["remoteTraceTarget"] = Value();
  o["revision"] = num(static_cast<int64_t>(n.revision));
  o["routes"] = std::move(routes);
  o["rules"] = rulesToJson(s.rules);
  o["rulesSource"] = str("");
  o["ssoEnabled"] = boolean(false);
  o["tags"] = Value::array();
  o["v4AssignMode"] = std::move(v4);
  o["v6AssignMode"] = std::move(v6);
  return o;
}

Value memberToJson(const Member& m) {
  Value ips = Value::array();
  for (const auto& a : m.settings.ipAssignments) ips.push_back(str(a.ipString()));
  const std::string address = vl1::addressToString(m.address);
  Value o = Value::object();
  o["activeBridge"] = boolean(m.settings.activeBridge);
  o["address"] = str(address);
  o["authenticationExpiryTime"] = num(0);
  o["authorized"] = boolean(m.settings.authorized);
  o["capabilities"] = Value::array();
  o["creationTime"] = num(m.creationTime);
  o["id"] = str(address);
  o["identity"] = str(m.identity ? m.identity->toString(false) : "");
  o["ipAssignments"] = std::move(ips);
  o["lastAuthorizedCredential"] = Value();
  o["lastAuthorizedCredentialType"] =
      m.lastAuthorizedCredentialType.empty() ? Value() : str(m.lastAuthorizedCredentialType);
  o["lastAuthorizedTime"] = num(m.lastAuthorizedTime);
  o["lastDeauthorizedTime"] = num(m.lastDeauthorizedTime);
  o["name"] = str(m.settings.name);
  o["noAutoAssignIps"] = boolean(m.settings.noAutoAssignIps);
  o["nwid"] = str(nwidToString(m.nwid));
  o["objtype"] = str("member");
  o["remoteTraceLevel"] = num(0);
  o["remoteTraceTarget"] = Value();
  o["revision"] = num(static_cast<int64_t>(m.revision));
  o["ssoExempt"] = boolean(false);
  o["tags"] = Value::array();
  o["vMajor"] = num(m.vMajor);
  o["vMinor"] = num(m.vMinor);
  o["vProto"] = num(m.vProto);
  o["vRev"] = num(m.vRev);
  return o;
}

// Field readers: an absent field leaves `out` alone; a present one of the wrong type or
// range is an error message. Nothing here writes to the controller.
std::string readBool(const Value& o, const char* key, bool& out) {
  const Value* f = json::find(o, key);
  if (f == nullptr) return "";
  if (!f->is_boolean()) return std::string("\"") + key + "\" must be a boolean";
  out = f->get<bool>();
  return "";
}

std::string readInt(const Value& o, const char* key, int64_t min, int64_t max, int64_t& out) {
  const Value* f = json::find(o, key);
  if (f == nullptr) return "";
  const auto i = json::exactInt(*f);
  if (!i || *i < min || *i > max) return std::string("\"") + key + "\" must be an integer in range";
  out = *i;
  return "";
}

template <typename T>
std::string readUnsigned(const Value& o, const char* key, T& out) {
  constexpr uint64_t kTypeMax = std::numeric_limits<T>::max();
  constexpr int64_t kMax = kTypeMax > uint64_t{std::numeric_limits<int64_t>::max()}
                               ? std::numeric_limits<int64_t>::max()
                               : static_cast<int64_t>(kTypeMax);
  if (json::find(o, key) == nullptr) return "";
  int64_t v = 0;
  auto err = readInt(o, key, 0, kMax, v);
  if (err.empty()) out = static_cast<T>(v);
  return err;
}

std::string readString(const Value& o, const char* key, std::string& out) {
  const Value* f = json::find(o, key);
  if (f == nullptr) return "";
  if (!f->is_string()) return std::string("\"") + key + "\" must be a string";
  out = f->get<std::string>();
  return "";
}

std::string readIp(const Value& v, const char* what, vl1::InetAddress& out) {
  auto ip = v.is_string() ? parseIp(v.get<std::string>()) : std::nullopt;
  if (!ip) return std::string(what) + " must be an IP address string";
  out = *ip;
  return "";
}

std::string readPools(const Value& o, std::vector<IpPool>& out) {
  const Value* f = json::find(o, "ipAssignmentPools");
  if (f == nullptr) return "";
  if (!f->is_array()) return "\"ipAssignmentPools\" must be an array";
  std::vector<IpPool> pools;
  for (const auto& p : *f) {
    IpPool pool;
    if (!p.is_object()) return "\"ipAssignmentPools\" entries must be objects";
    const Value* start = json::find(p, "ipRangeStart");
    const Value* end = json::find(p, "ipRangeEnd");
    if (start == nullptr || end == nullptr) return "pool: ipRangeStart and ipRangeEnd needed";
    if (auto e = readIp(*start, "ipRangeStart", pool.start); !e.empty()) return e;
    if (auto e = readIp(*end, "ipRangeEnd", pool.end); !e.empty()) return e;
    pools.push_back(pool);
  }
  out = std::move(pools);
  return "";
}

std::string readRoutes(const Value& o, std::vector<vl2::Route>& out) {
  const Value* f = json::find(o, "routes");
  if (f == nullptr) return "";
  if (!f->is_array()) return "\"routes\" must be an array";
  std::vector<vl2::Route> routes;
  for (const auto& r : *f) {
    vl2::Route route;
    const Value* target = json::find(r, "target");
    auto cidr = target != nullptr && target->is_string() ? parseCidr(target->get<std::string>())
                                                         : std::nullopt;
    if (!cidr) return "route target must be a CIDR string like \"10.0.0.0/24\"";
    route.target = *cidr;
    const Value* via = json::find(r, "via");
    if (via != nullptr && !via->is_null()) {
      if (auto e = readIp(*via, "route via", route.via); !e.empty()) return e;
    }
    routes.push_back(route);
  }
  out = std::move(routes);
  return "";
}

// "dns": an object {"domain", "servers"} sets it; the stock default `[]` (or null) clears it.
std::string readDns(const Value& o, vl2::DnsConfig& out) {
  const Value* f = json::find(o, "dns");
  if (f == nullptr) return "";
  vl2::DnsConfig dns;
  if (f->is_null() || (f->is_array() && f->empty())) {
    out = dns;
    return "";
  }
  if (!f->is_object()) return "\"dns\" must be an object {\"domain\", \"servers\"}";
  std::string e;
  if (e = readString(*f, "domain", dns.domain); !e.empty()) return "dns: " + e;
  if (const Value* servers = json::find(*f, "servers"); servers != nullptr && !servers->is_null()) {
    if (!servers->is_array()) return "dns: \"servers\" must be an array";
    for (const auto& v : *servers) {
      auto ip = v.is_string() ? parseIp(v.get<std::string>()) : std::nullopt;
      if (!ip) return "dns: servers must be IP address strings";
      dns.servers.push_back(*ip);
    }
  }
  out = std::move(dns);
  return "";
}

// Applies a network object's settable fields to `s` (a copy; the caller validates it).
std::string networkSettingsFromJson(const Value& o, NetworkSettings& s) {
  if (!o.is_object()) return "body must be a JSON object";
  std::string e;
  if (e = readString(o, "name", s.name); !e.empty()) return e;
  if (e = readBool(o, "private", s.isPrivate); !e.empty()) return e;
  if (e = readUnsigned(o, "mtu", s.mtu); !e.empty()) return e;
  if (e = readUnsigned(o, "multicastLimit", s.multicastLimit); !e.empty()) return e;
  if (e = readBool(o, "enableBroadcast", s.enableBroadcast); !e.empty()) return e;
  if (e = readUnsigned(o, "credentialTimeMaxDelta", s.credentialTimeMaxDelta); !e.empty()) {
    return e;
  }
  if (const Value* v4 = json::find(o, "v4AssignMode")) {
    if (!v4->is_object()) return "\"v4AssignMode\" must be an object";
    if (e = readBool(*v4, "zt", s.v4AssignZt); !e.empty()) return "v4AssignMode: " + e;
  }
  if (const Value* v6 = json::find(o, "v6AssignMode")) {
    if (!v6->is_object()) return "\"v6AssignMode\" must be an object";
    if (e = readBool(*v6, "zt", s.v6AssignZt); !e.empty()) return "v6AssignMode: " + e;
    if (e = readBool(*v6, "rfc4193", s.v6AssignRfc4193); !e.empty()) return "v6AssignMode: " + e;
    if (e = readBool(*v6, "6plane", s.v6AssignSixPlane); !e.empty()) return "v6AssignMode: " + e;
  }
  if (e = readPools(o, s.ipAssignmentPools); !e.empty()) return e;
  if (e = readRoutes(o, s.routes); !e.empty()) return e;
  if (const Value* rules = json::find(o, "rules")) {
    if (e = rulesFromJson(*rules, s.rules); !e.empty()) return e;
  }
  if (e = readDns(o, s.dns); !e.empty()) return e;
  return s.validate();
}

std::string memberSettingsFromJson(const Value& o, MemberSettings& s) {
  if (!o.is_object()) return "body must be a JSON object";
  std::string e;
  if (e = readBool(o, "authorized", s.authorized); !e.empty()) return e;
  if (e = readBool(o, "activeBridge", s.activeBridge); !e.empty()) return e;
  if (e = readBool(o, "noAutoAssignIps", s.noAutoAssignIps); !e.empty()) return e;
  if (e = readString(o, "name", s.name); !e.empty()) return e;
  if (const Value* ips = json::find(o, "ipAssignments")) {
    if (!ips->is_array()) return "\"ipAssignments\" must be an array";
    std::vector<vl1::InetAddress> list;
    for (const auto& v : *ips) {
      vl1::InetAddress a;
      if (e = readIp(v, "ipAssignments entries", a); !e.empty()) return e;
      list.push_back(a);
    }
    s.ipAssignments = std::move(list);
  }
  return s.validate();
}

std::optional<Value> parseObject(std::string_view text, std::string& err) {
  std::string perr;
  auto v = util::json::parse(text, &perr);
  if (!v) {
    err = "invalid JSON: " + perr;
    return std::nullopt;
  }
  if (!v->is_object()) {
    err = "body must be a JSON object";
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::string Controller::networkJson(uint64_t nwid) const {
  const NetworkState* n = findNetwork(nwid);
  return n == nullptr ? "" : util::json::write(networkToJson(n->net), kIndent);
}

std::string Controller::memberJson(uint64_t nwid, uint64_t address) const {
  const Member* m = member(nwid, address);
  return m == nullptr ? "" : util::json::write(memberToJson(*m), kIndent);
}

std::string Controller::networksJson() const {
  Value a = Value::array();
  for (const auto& [id, n] : networks_) a.push_back(str(nwidToString(id)));
  return util::json::write(a, kIndent);
}

std::string Controller::membersJson(uint64_t nwid) const {
  const NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return "";
  Value o = Value::object();
  for (const auto& [a, ms] : n->members) {
    o[vl1::addressToString(a)] = num(static_cast<int64_t>(ms.m.revision));
  }
  return util::json::write(o, kIndent);
}

std::string Controller::applyNetworkJson(uint64_t nwid, std::string_view text, int64_t now) {
  std::string err;
  const auto body = parseObject(text, err);
  if (!body) return err;
  const NetworkState* n = findNetwork(nwid);
  NetworkSettings s = n != nullptr ? n->net.settings : NetworkSettings();
  if (err = networkSettingsFromJson(*body, s); !err.empty()) return err;
  if (n != nullptr) return updateNetwork(nwid, s);
  if ((nwid >> 24) != address()) return "network not found";
  return createNetwork(static_cast<uint32_t>(nwid & 0xffffff), s, now);
}

std::string Controller::createNetworkJson(std::string_view text, int64_t now, uint64_t* nwidOut) {
  std::string err;
  const auto body = parseObject(text, err);
  if (!body) return err;
  NetworkSettings s;
  if (err = networkSettingsFromJson(*body, s); !err.empty()) return err;
  return createNetwork(std::nullopt, s, now, nwidOut);
}

std::string Controller::applyMemberJson(uint64_t nwid, uint64_t address, std::string_view text,
                                        int64_t now) {
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return "network not found";
  std::string err;
  const auto body = parseObject(text, err);
  if (!body) return err;
  const Member* m = member(nwid, address);
  MemberSettings s = m != nullptr ? m->settings : MemberSettings();
  if (err = memberSettingsFromJson(*body, s); !err.empty()) return err;
  return applyMemberSettings(*n, address, s, now);
}

std::string Controller::saveState() const {
  Value nets = Value::array();
  for (const auto& [id, n] : networks_) {
    Value members = Value::array();
    for (const auto& [a, ms] : n.members) members.push_back(memberToJson(ms.m));
    Value entry = Value::object();
    entry["members"] = std::move(members);
    entry["network"] = networkToJson(n.net);
    nets.push_back(std::move(entry));
  }
  Value o = Value::object();
  o["controller"] = str(vl1::addressToString(address()));
  o["networks"] = std::move(nets);
  o["objtype"] = str("controllerState");
  o["version"] = num(kStateVersion);
  return util::json::write(o, kIndent);
}

namespace {

// Reads a saved member (settings plus the bookkeeping fields the API does not set).
std::string memberFromState(const Value& o, uint64_t nwid, Member& m) {
  if (!o.is_object()) return "member must be an object";
  const Value* addr = json::find(o, "address");
  const auto address = addr != nullptr ? parseMemberAddress(json::stringOr(addr)) : std::nullopt;
  if (!address) return "member: bad address";
  m.address = *address;
  m.nwid = nwid;
  std::string e;
  if (e = memberSettingsFromJson(o, m.settings); !e.empty()) return e;
  std::string identity;
  if (e = readString(o, "identity", identity); !e.empty()) return e;
  if (!identity.empty()) {
    auto id = vl1::Identity::fromString(identity);
    if (!id || id->address() != m.address) return "member: bad identity";
    m.identity = vl1::Identity(id->address(), id->publicKey());
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const Value* type = json::find(o, "lastAuthorizedCredentialType");
  if (type != nullptr && !type->is_null()) {
    if (e = readString(o, "lastAuthorizedCredentialType", m.lastAuthorizedCredentialType);
        !e.empty()) {
      return e;
    }
  }
  int64_t rev = 0, vMajor = -1, vMinor = -1, vRev = -1, vProto = -1;
  if ((e = readInt(o, "creationTime", -kMax, kMax, m.creationTime)).empty() &&
      (e = readInt(o, "lastAuthorizedTime", -kMax, kMax, m.lastAuthorizedTime)).empty() &&
      (e = readInt(o, "lastDeauthorizedTime", -kMax, kMax, m.lastDeauthorizedTime)).empty() &&
      (e = readInt(o, "revision", 0, kMax, rev)).empty() &&
      (e = readInt(o, "vMajor", -1, 0xffff, vMajor)).empty() &&
      (e = readInt(o, "vMinor", -1, 0xffff, vMinor)).empty() &&
      (e = readInt(o, "vRev", -1, 0xffff, vRev)).empty() &&
      (e = readInt(o, "vProto", -1, 0xffff, vProto)).empty()) {
    m.revision = static_cast<uint64_t>(rev);
    m.vMajor = static_cast<int>(vMajor);
    m.vMinor = static_cast<int>(vMinor);
    m.vRev = static_cast<int>(vRev);
    m.vProto = static_cast<int>(vProto);
  }
  return e;
}

std::string networkFromState(const Value& o, uint64_t controller, Network& n) {
  if (!o.is_object()) return "network must be an object";
  const Value* id = json::find(o, "id");
  const auto nwid = id != nullptr ? parseNwid(json::stringOr(id)) : std::nullopt;
  if (!nwid) return "network: bad id";
  if ((*nwid >> 24) != controller) return "network " + json::stringOr(id) + " is not ours";
  n.id = *nwid;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t rev = 0;
  std::string e;
  if (e = networkSettingsFromJson(o, n.settings); !e.empty()) return e;
  if (e = readInt(o, "creationTime", -kMax, kMax, n.creationTime); !e.empty()) return e;
  if (e = readInt(o, "revision", 0, kMax, rev); !e.empty()) return e;
  n.revision = static_cast<uint64_t>(rev);
  return "";
}

}  // namespace

bool Controller::loadState(std::string_view text, std::string* error) {
  std::string err;
  const auto fail = [&](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return false;
  };
  const auto doc = parseObject(text, err);
  if (!doc) return fail(err);
  const Value* version = json::find(*doc, "version");
  if (version == nullptr || json::exactInt(*version) != kStateVersion)
    return fail("unknown version");
  const Value* nets = json::find(*doc, "networks");
  if (nets == nullptr || !nets->is_array()) return fail("\"networks\" must be an array");

  std::map<uint64_t, NetworkState> loaded;
  for (const auto& entry : *nets) {
    NetworkState n;
    const Value* net = json::find(entry, "network");
    if (net == nullptr) return fail("network entry without \"network\"");
    if (err = networkFromState(*net, address(), n.net); !err.empty()) return fail(err);
    if (loaded.count(n.net.id) != 0) return fail("duplicate network");
    const Value* members = json::find(entry, "members");
    if (members != nullptr && !members->is_array()) return fail("\"members\" must be an array");
    if (members != nullptr) {
      for (const auto& mv : *members) {
        MemberState ms;
        if (err = memberFromState(mv, n.net.id, ms.m); !err.empty()) return fail(err);
        if (!n.members.emplace(ms.m.address, std::move(ms)).second) {
          return fail("duplicate member");
        }
      }
    }
    loaded.emplace(n.net.id, std::move(n));
  }
  networks_ = std::move(loaded);
  return true;
}

}  // namespace zts::lab
