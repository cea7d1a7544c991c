// The lab's network controller (protocol.md §3.9, §5, §8): networks and members, the answer
// to NETWORK_CONFIG_REQUEST, and the stock controller's JSON model for the HTTP API. A pure
// state machine: no I/O, no clock (callers pass `now`, ms), no threads. The node core calls it
// on the engine thread; whoever calls it must serialise the calls.
//
// Deliberate limits: no tags, capabilities, SSO or token authorisation; the member's
// identity is taken as given (the core learned it from a validated HELLO or WHOIS).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../vl1/identity.h"
#include "../vl1/inet_address.h"
#include "../vl1/packet.h"
#include "../vl2/dictionary.h"
#include "../vl2/network_config.h"
#include "ip_assignment.h"

namespace zts::lab {

// What the stock controller calls the network object (network-*.json), minus the fields we
// do not implement. Defaults are the stock controller's for a new network.
struct NetworkSettings {
  static constexpr size_t kMaxPools = 32;
  static constexpr size_t kMaxRoutes = 64;

  std::string name;                                // "name", at most 127 bytes
  bool isPrivate = true;                           // "private"
  unsigned mtu = vl2::NetworkConfig::kDefaultMtu;  // "mtu", 1280..10000
  uint64_t multicastLimit = 32;                    // "multicastLimit", 0..2^32-1
  bool enableBroadcast = true;                     // "enableBroadcast"
  uint64_t credentialTimeMaxDelta = 1800000;       // `ctmd` (our extra JSON field)
  bool v4AssignZt = false;                         // "v4AssignMode": {"zt"}
  bool v6AssignZt = false;                         // "v6AssignMode": {"zt"} (pools)
  bool v6AssignRfc4193 = false;                    // "v6AssignMode": {"rfc4193"}
  bool v6AssignSixPlane = false;                   // "v6AssignMode": {"6plane"}
  std::vector<IpPool> ipAssignmentPools;           // "ipAssignmentPools"
  std::vector<vl2::Route> routes;                  // "routes": target bits in the port
  std::vector<uint8_t> rules = {0x01, 0x00};       // "rules": the `R` blob (accept all)
  // "dns": {"domain", "servers"}; an empty domain is no DNS (stock writes `[]` then).
  vl2::DnsConfig dns;

  bool operator==(const NetworkSettings&) const = default;
  // "" when acceptable, else why not (the 400 message).
  std::string validate() const;
};

struct Network {
  uint64_t id = 0;  // controller address << 24 | number
  NetworkSettings settings;
  int64_t creationTime = 0;
  uint64_t revision = 0;  // 1 at creation, +1 per change; sent as `r`
};

// The member fields an administrator sets (member-*.json).
struct MemberSettings {
  // Managed IPs plus the rfc4193/6plane ones must fit one certificate of ownership.
  static constexpr size_t kMaxIpAssignments = 14;

  bool authorized = false;
  bool activeBridge = false;
  bool noAutoAssignIps = false;
  std::vector<vl1::InetAddress> ipAssignments;  // plain IPs (port 0), explicit or assigned
  std::string name;

  bool operator==(const MemberSettings&) const = default;
  std::string validate() const;
};

struct Member {
  uint64_t address = 0;
  uint64_t nwid = 0;
  MemberSettings settings;
  std::optional<vl1::Identity> identity;  // public half, from the member's first request
  int64_t creationTime = 0;
  int64_t lastAuthorizedTime = 0;
  int64_t lastDeauthorizedTime = 0;
  std::string lastAuthorizedCredentialType;  // "" (JSON null), "api" or "public"
  uint64_t revision = 0;                     // 1 at creation, +1 per change
  // Software of the member's last request (`majv`, `minv`, `revv`, `pv`); -1 when unknown.
  int vMajor = -1;
  int vMinor = -1;
  int vRev = -1;
  int vProto = -1;
};

// The answer to a config request or the config to push.
struct ConfigReply {
  enum class Status { kConfig, kNotFound, kAccessDenied };
  Status status = Status::kNotFound;
  // kConfig: the signed chunk payloads (vl2::buildChunks), each to follow OK's
  // [verb][in-re packet id] or to be a NETWORK_CONFIG payload.
  std::vector<std::vector<uint8_t>> chunks;
  uint64_t updateId = 0;
  vl2::NetworkConfig config;  // what the chunks carry, for logs and tests

  bool ok() const { return status == Status::kConfig; }
  // The ERROR code for the other statuses (payload: the nwid).
  vl1::proto::ErrorCode errorCode() const {
    return status == Status::kAccessDenied ? vl1::proto::ErrorCode::kNetworkAccessDenied
                                           : vl1::proto::ErrorCode::kObjectNotFound;
  }
};

class Controller {
 public:
  // `identity` must include its private key; its address is the controller address. A
  // controller without one answers every request with kNotFound (it could sign nothing).
  explicit Controller(const vl1::Identity& identity);

  uint64_t address() const { return identity_.address(); }
  const vl1::Identity& identity() const { return identity_; }

  // ---- Networks. Errors come back as a message ("" = success) and change nothing.
  // Creates network `number` (24 bits; nullopt: a random unused one) with revision 1.
  std::string createNetwork(std::optional<uint32_t> number, const NetworkSettings& settings,
                            int64_t now, uint64_t* nwidOut = nullptr);
  // Replaces the settings; the revision moves only when something changed.
  std::string updateNetwork(uint64_t nwid, const NetworkSettings& settings);
  bool deleteNetwork(uint64_t nwid);
  const Network* network(uint64_t nwid) const;
  std::vector<uint64_t> networks() const;

  // ---- Members.
  const Member* member(uint64_t nwid, uint64_t address) const;
  // Creates (revision 1) or updates the member; authorising records lastAuthorizedTime.
  std::string setMember(uint64_t nwid, uint64_t address, const MemberSettings& settings,
                        int64_t now);
  bool deleteMember(uint64_t nwid, uint64_t address);
  std::vector<uint64_t> members(uint64_t nwid) const;

  // ---- The protocol side.
  // NETWORK_CONFIG_REQUEST from `member` for `nwid`. Unknown network (or not ours):
  // kNotFound. A member whose address is known with another key: kAccessDenied, nothing
  // recorded. Otherwise the member is recorded (a new one on a private network as
  // unauthorised, like stock; a public network authorises everyone) and an unauthorised
  // one gets kAccessDenied. Else IPs are assigned (and persisted) and the config is built,
  // signed and chunked.
  ConfigReply handleConfigRequest(int64_t now, const vl1::Identity& member, uint64_t nwid,
                                  const vl2::Dictionary& metadata);
  // Members whose config changed since we last answered them (authorisation, IPs, network
  // settings, the set of active bridges), and deleted members that held a config, so the
  // core can push NETWORK_CONFIG (or tell them they lost access). Members that never asked
  // are not listed: we could not reach or certify them.
  std::vector<uint64_t> membersToRefresh(uint64_t nwid) const;
  // The config to push to `address`, as handleConfigRequest would answer it now (with the
  // metadata of its last request). kAccessDenied when it is no longer authorised, deleted or
  // its identity is unknown; kNotFound for an unknown network. Clears its refresh flag.
  ConfigReply configFor(int64_t now, uint64_t nwid, uint64_t address);

  // ---- JSON, with the stock controller's field names and types. Unknown fields in input
  // are ignored; a wrong type or bad value is an error message and nothing is applied.
  std::string networkJson(uint64_t nwid) const;  // "" when unknown
  std::string memberJson(uint64_t nwid, uint64_t address) const;
  std::string networksJson() const;              // ["nwid", ...]
  std::string membersJson(uint64_t nwid) const;  // {"address": revision, ...}
  // POST /controller/network/NWID: updates the network, or creates it when absent (its
  // controller must be us).
  std::string applyNetworkJson(uint64_t nwid, std::string_view text, int64_t now);
  // POST /controller/network/CONTROLLER______: creates a network with a random number.
  std::string createNetworkJson(std::string_view text, int64_t now, uint64_t* nwidOut);
  // POST /controller/network/NWID/member/ADDRESS (creates the member when absent).
  std::string applyMemberJson(uint64_t nwid, uint64_t address, std::string_view text, int64_t now);

  // Every network and member (identities and assigned addresses included) as one JSON
  // document, and back. loadState replaces everything or, on any error, nothing; it refuses
  // networks of another controller.
  std::string saveState() const;
  bool loadState(std::string_view text, std::string* error = nullptr);

 private:
  // What we last told a member, to find the ones whose config changed since.
  struct Sent {
    bool any = false;       // answered at least once
    bool config = false;    // the last answer was a config (else access denied)
    uint64_t epoch = 0;     // the network's epoch then
    uint64_t revision = 0;  // the member's revision then
  };
  struct MemberState {
    Member m;
    Sent sent;
    vl2::Dictionary metadata;  // of its last request
  };
  struct NetworkState {
    Network net;
    std::map<uint64_t, MemberState> members;
    // Bumped with anything that changes every member's config: network settings and the set
    // of active bridges (the `S` list).
    uint64_t epoch = 1;
    std::set<uint64_t> revoked;  // deleted members that had been sent a config
  };

  NetworkState* findNetwork(uint64_t nwid);
  const NetworkState* findNetwork(uint64_t nwid) const;
  bool needsRefresh(const NetworkState& n, const MemberState& ms) const;
  // Builds the reply for a known member with identity; assigns IPs if authorised.
  ConfigReply answer(int64_t now, NetworkState& n, MemberState& ms);
  // Managed IPs (IPv4 and IPv6 pools) for a member that has none of that family.
  void assignIps(NetworkState& n, MemberState& ms);
  vl2::NetworkConfig buildConfig(int64_t now, const NetworkState& n, const MemberState& ms) const;
  std::string applyMemberSettings(NetworkState& n, uint64_t address, const MemberSettings& s,
                                  int64_t now);

  vl1::Identity identity_;
  std::map<uint64_t, NetworkState> networks_;
};

// Network ids and member addresses as the API writes them (16 / 10 lowercase hex digits).
std::string nwidToString(uint64_t nwid);
std::optional<uint64_t> parseNwid(std::string_view text);
std::optional<uint64_t> parseMemberAddress(std::string_view text);  // 10 hex, not reserved

}  // namespace zts::lab
