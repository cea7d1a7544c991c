// The node's protocol core. It does no I/O (brief, decision 2): it is fed datagrams,
// timer ticks and the results of identity checks, each with the current time, and it
// emits datagrams and events through a CoreHost. The engine thread drives it with real
// sockets; tests drive it with a fake clock and an in-memory wire.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "../vl2/network.h"
#include "counters.h"
#include "fragment.h"
#include "identity.h"
#include "inet_address.h"
#include "packet.h"
#include "peer.h"
#include "rate_budget.h"
#include "world.h"

namespace zts::vl1 {

struct CoreEvent {
  enum class Type : uint8_t {
    kOnline,           // a root answered: the node can reach the network
    kOffline,          // no root heard from within the online window
    kPeerLearned,      // a new peer identity is trusted (address)
    kDirectPath,       // a peer answered on a direct path (address, path)
    kPathLost,         // a direct path expired (address, path)
    kEchoReply,        // OK(ECHO) (address, data = payload, value = round trip ms)
    kExternalAddress,  // a peer says it sees us at `path` (address = reporter)
    kPlanetUpdated,    // a signed planet update replaced ours (data = the new World)
    kError,            // ERROR received (address, value = code, data = in-re verb ‖ payload)
    kUserMessage,      // USER_MESSAGE (address, value = type id, data = payload)
    kNetworkStatus,    // a joined network's status changed (network, value = NetworkStatus)
    kNetworkConfig,    // a network's new config (network, data = its Dictionary, to cache)
    kNetworkLeft,      // a network was left (network)
  };
  Type type = Type::kOnline;
  uint64_t address = 0;
  uint64_t network = 0;
  InetAddress path;
  int64_t value = 0;
  std::vector<uint8_t> data;
};

// What the core needs from its surroundings.
class CoreHost {
 public:
  virtual ~CoreHost() = default;
  // One UDP datagram out of the local socket `localSocket` (-1: the host picks one that
  // fits the address family).
  virtual void sendDatagram(int64_t localSocket, const InetAddress& to, const uint8_t* data,
                            size_t len) = 0;
  // Checks an identity learned from the wire (the memory-hard hash, milliseconds of work)
  // away from the core's thread; the answer comes back through identityChecked().
  virtual void checkIdentity(const Identity& identity) = 0;
  virtual void onEvent(CoreEvent&& event) = 0;
  // Random 64-bit values for packet ids.
  virtual uint64_t random64() = 0;
  // A datagram with a low IP TTL, to open a NAT mapping toward a peer without reaching it
  // (sent on RENDEZVOUS). Hosts that cannot set the TTL may send it as usual or skip it.
  virtual void sendNatOpener(int64_t localSocket, const InetAddress& to, const uint8_t* data,
                             size_t len, unsigned ttl) {}
  // An Ethernet frame for our tap on network `nwid` (MACs are 48-bit values).
  virtual void onFrame(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                       const uint8_t* data, size_t len) {}
};

// What a controller answers a NETWORK_CONFIG_REQUEST with (the lab's controller).
struct ConfigReply {
  enum class Kind : uint8_t { kConfig, kNotFound, kAccessDenied };
  Kind kind = Kind::kNotFound;
  // Signed chunk payloads (vl2::buildChunks), each sent in its own OK.
  std::vector<std::vector<uint8_t>> chunks;
};
using ConfigRequestHandler = std::function<ConfigReply(
    int64_t now, const Identity& member, uint64_t nwid, const std::vector<uint8_t>& metadata)>;

struct CoreOptions {
  Identity identity;  // with its private key
  World planet;
  // Lab mode: loopback addresses are usable paths (stock nodes refuse them).
  bool lab = false;
  // Root role: relay packets between peers, send RENDEZVOUS, answer WHOIS and attach the
  // planet to OK(HELLO). The identity must be one of the planet's roots.
  bool root = false;
  size_t physicalMtu = proto::kDefaultPhysicalMtu;
  // Controller role: answers config requests for networks whose id starts with our address.
  ConfigRequestHandler configRequestHandler;
};

// How full the core's tables are: each has a cap or an expiry, so a flood of strangers
// cannot grow them without bound (counters JSON, tests).
struct CoreTableSizes {
  size_t peers = 0;
  size_t pendingIdentities = 0;   // identity proofs being checked
  size_t rejectedIdentities = 0;  // remembered for a minute
  size_t queuedReceives = 0;      // packets from unknown peers, waiting on WHOIS
  size_t queuedSends = 0;
  size_t whois = 0;
  size_t expectedReplies = 0;
  size_t fragmentsInFlight = 0;  // reassembly slots in use
  size_t heldFrames = 0;         // frames waiting for their sender's credentials
};

class NodeCore {
 public:
  NodeCore(CoreOptions options, CoreHost& host);
  ~NodeCore();

  // Starts contacting the roots.
  void start(int64_t now);
  void processDatagram(int64_t now, int64_t localSocket, const InetAddress& from,
                       const uint8_t* data, size_t len);
  // Runs due timers; returns the time of the next deadline.
  int64_t processTimers(int64_t now);
  void identityChecked(int64_t now, const Identity& identity, bool valid);

  // Sends ECHO to a peer (looked up with WHOIS if unknown); its answer is a kEchoReply.
  void sendEcho(int64_t now, uint64_t address, const uint8_t* payload, size_t len);
  // Asks a peer that went silent whether it is there: an ECHO on each of its direct paths
  // and one relayed by a root (a peer that restarted may listen elsewhere now).
  void probePeer(int64_t now, uint64_t address);
  // A peer silent since `since` answered (perhaps a restarted process): forgets its direct
  // paths not heard from since then (they carried no answer; traffic goes by a root until
  // it is greeted at its new address), and our credentials go with the next frame (a
  // restarted peer has forgotten them).
  void peerReturned(uint64_t address, int64_t since);
  // Sends a packet of any verb to a peer, queueing it behind WHOIS when the peer is
  // unknown. Returns false when the packet cannot be queued.
  bool sendToPeer(int64_t now, uint64_t address, proto::Verb verb,
                  const std::vector<uint8_t>& payload, bool expectReply = false);

  // Joins a network (ad-hoc ones get their config made locally). A cached config from an
  // earlier run applies at once and a fresh one is requested. False if already joined.
  bool join(int64_t now, uint64_t nwid, const std::vector<uint8_t>* cachedConfig = nullptr);
  void leave(int64_t now, uint64_t nwid);
  // An Ethernet frame from our tap (lwIP) onto the network.
  void sendFrame(int64_t now, uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType,
                 const uint8_t* data, size_t len);
  const vl2::Network* network(uint64_t nwid) const;
  // A group our own sockets joined (IGMP/MLD): announced with MULTICAST_LIKE on every
  // network, beside the groups the network's config implies. Counted: each join needs its
  // leave. Announced at once on a first join; a leave lets the LIKE expire.
  void joinGroup(int64_t now, const vl2::MulticastGroup& group);
  void leaveGroup(const vl2::MulticastGroup& group);
  // Controller role: sends a member a new config (NETWORK_CONFIG pushes), or tells it that
  // it lost access, as soon as its membership changes.
  void pushConfig(int64_t now, uint64_t member, uint64_t nwid, const ConfigReply& reply);
  const std::unordered_map<uint64_t, std::unique_ptr<vl2::Network>>& networks() const {
    return networks_;
  }

  uint64_t address() const { return options_.identity.address(); }
  const Identity& identity() const { return options_.identity; }
  const World& planet() const { return options_.planet; }
  bool online() const { return online_; }
  const Counters& counters() const { return counters_; }
  CoreTableSizes tableSizes() const;
  Peer* peer(uint64_t address);
  const std::unordered_map<uint64_t, std::unique_ptr<Peer>>& peers() const { return peers_; }
  // What roots and peers report seeing us as (address of the reporter -> endpoint).
  const std::map<uint64_t, InetAddress>& externalAddresses() const { return external_; }

 private:
  struct QueuedSend {
    uint64_t dest;
    proto::Verb verb;
    std::vector<uint8_t> payload;
    bool expectReply;
    int64_t queuedAt;
  };
  struct QueuedReceive {
    int64_t localSocket;
    InetAddress from;
    std::vector<uint8_t> packet;
    int64_t receivedAt;
  };
  struct PendingIdentity {
    Identity identity;
    std::vector<QueuedReceive> hellos;  // HELLOs to answer once the identity checks out
  };
  struct Whois {
    int64_t lastSent = 0;
    int64_t firstAsked = 0;
  };
  // A FRAME, EXT_FRAME or MULTICAST_FRAME from a peer whose credentials we lack (see
  // handleFrameVerb).
  struct HeldFrame {
    uint64_t peer;
    proto::Verb verb;
    uint64_t packetId;
    std::vector<uint8_t> payload;
    int64_t heldAt;
  };

  // receive
  void countReassemblyDrops();
  void afterReassembly(Reassembler::Result result, int64_t now, int64_t localSocket,
                       const InetAddress& from, std::vector<uint8_t>& whole);
  void handlePacket(int64_t now, int64_t localSocket, const InetAddress& from,
                    std::vector<uint8_t>& packet);
  void handleHello(int64_t now, int64_t localSocket, const InetAddress& from,
                   std::vector<uint8_t>& packet);
  // Whether a new identity may be checked now (caps and budget); counts the refusal.
  bool admitNewIdentity(int64_t now);
  void answerHello(int64_t now, Peer& peer, int64_t localSocket, const InetAddress& from,
                   const std::vector<uint8_t>& packet);
  void handleAuthenticated(int64_t now, Peer& peer, int64_t localSocket, const InetAddress& from,
                           std::vector<uint8_t>& packet);
  void handleOk(int64_t now, Peer& peer, int64_t localSocket, const InetAddress& from,
                unsigned hops, util::Reader& r);
  void handleOkHello(int64_t now, Peer& peer, int64_t localSocket, const InetAddress& from,
                     unsigned hops, int64_t sentAt, util::Reader& r);
  void handleOkWhois(int64_t now, Peer& peer, util::Reader& r);
  void handleError(int64_t now, Peer& peer, util::Reader& r);
  void handleWhois(int64_t now, Peer& peer, util::Reader& r, uint64_t inRe);
  void handleRendezvous(int64_t now, Peer& peer, util::Reader& r);
  void handleEcho(int64_t now, Peer& peer, uint64_t inRe, util::Reader& r);
  void handlePushDirectPaths(int64_t now, Peer& peer, util::Reader& r);
  void relay(int64_t now, uint8_t* data, size_t len, bool fragment);

  // VL2 (../vl2/node_networks.cpp, ../vl2/node_multicast.cpp)
  bool handleVl2(int64_t now, Peer& peer, proto::Verb verb, uint64_t packetId, util::Reader& r);
  // The joined network `nwid`, or nullptr (counted as a drop).
  vl2::Network* joinedNetwork(uint64_t nwid);
  // The joined network whose frames `peer` may send us, or nullptr (counted; a peer whose
  // credentials we lack is asked for its certificate and marked refusedForCredentials_,
  // and handleFrameVerb holds the frame and counts it when it is dropped).
  vl2::Network* admittedNetwork(int64_t now, uint64_t nwid, Peer& peer);
  void handleConfigChunk(int64_t now, Peer& peer, util::Reader& r, bool pushed, uint64_t inRe);
  void handleConfigRequest(int64_t now, Peer& peer, uint64_t packetId, util::Reader& r);
  void handleNetworkError(int64_t now, Peer& peer, uint8_t inReVerb, uint8_t code, util::Reader& r);
  void handleCredentials(int64_t now, Peer& peer, util::Reader& r);
  void handleFrame(int64_t now, Peer& peer, util::Reader& r);
  void handleExtFrame(int64_t now, Peer& peer, uint64_t packetId, util::Reader& r);
  void deliverFrame(int64_t now, vl2::Network& net, Peer& peer, uint64_t dst, uint64_t src,
                    uint16_t etherType, const uint8_t* data, size_t len);
  bool admitFrom(int64_t now, vl2::Network& net, Peer& peer);
  // Frame verbs (../vl2/node_held_frames.cpp): a frame refused only for want of the sender's
  // credentials is held until they arrive (releaseHeldFrames) or kHeldFrameMs pass.
  void handleFrameVerb(int64_t now, Peer& peer, proto::Verb verb, uint64_t packetId,
                       util::Reader& r);
  void dispatchFrameVerb(int64_t now, Peer& peer, proto::Verb verb, uint64_t packetId,
                         util::Reader& r);
  void releaseHeldFrames(int64_t now, Peer& peer, uint64_t nwid);
  void expireHeldFrames(int64_t now);
  void requestConfig(int64_t now, vl2::Network& net);
  // askedFor: in answer to the peer's NEED_CERTIFICATE error.
  void pushCredentials(int64_t now, vl2::Network& net, Peer& peer, bool askedFor = false);
  // The peer may have lost what we pushed (a restart): the next frame to it pushes again.
  void forgetCredentialsPushed(uint64_t peerAddress);
  // Forgets the peer's direct paths last heard before `before` (each a kPathLost event).
  void dropPathsHeardBefore(Peer& peer, int64_t before);
  void setStatus(vl2::Network& net, vl2::NetworkStatus status);
  void adoptConfig(int64_t now, vl2::Network& net, vl2::NetworkConfig cfg,
                   const std::vector<uint8_t>& dict);
  void vl2Timers(int64_t now);
  void handleMulticastLike(int64_t now, Peer& peer, util::Reader& r);
  void handleMulticastGather(int64_t now, Peer& peer, uint64_t packetId, util::Reader& r);
  void handleGatherResults(int64_t now, util::Reader& r, bool fromMulticastFrameOk);
  void handleMulticastFrame(int64_t now, Peer& peer, util::Reader& r);
  void sendMulticast(int64_t now, vl2::Network& net, const vl2::MulticastGroup& group, uint64_t src,
                     uint16_t etherType, const uint8_t* data, size_t len);
  void announceMulticast(int64_t now, vl2::Network& net);
  void gather(int64_t now, vl2::Network& net, const vl2::MulticastGroup& group);

  // send
  void sendHello(int64_t now, Peer& peer, int64_t localSocket, const InetAddress& to);
  void echoOnPath(int64_t now, Peer& peer, Path& path);
  // Asks again for the members of groups that frames wait for (see gather()).
  void gatherForWaitingFrames(int64_t now);
  void sendArmored(int64_t now, Peer& peer, std::vector<uint8_t>& packet, bool expectReply,
                   unsigned cipher = proto::kCipherPoly1305Salsa2012);
  // Sends a whole armored packet on one path, fragmenting it as needed.
  // mtu 0: the physical MTU of the options.
  void transmit(int64_t localSocket, const InetAddress& to, const uint8_t* packet, size_t len,
                size_t mtu = 0);
  // The largest datagram for a path: whole packets on lab loopback paths.
  size_t mtuFor(const InetAddress& to) const;
  void sendOk(int64_t now, Peer& peer, proto::Verb inReVerb, uint64_t inRe,
              const std::vector<uint8_t>& body, int64_t localSocket = -1,
              const InetAddress* to = nullptr);
  void sendError(int64_t now, Peer& peer, proto::Verb inReVerb, uint64_t inRe,
                 proto::ErrorCode code, const std::vector<uint8_t>& body);
  void askWhois(int64_t now, uint64_t address);
  void pushDirectPaths(int64_t now, Peer& peer);
  Peer* bestRoot(int64_t now);

  // state
  Peer& learnPeer(int64_t now, const Identity& identity, const uint8_t key[kAgreedKeyLen]);
  void flushQueues(int64_t now, uint64_t address);
  void expectReply(uint64_t packetId, int64_t now);
  // Returns the send time of the request a reply quotes, or -1 when we sent no such id.
  int64_t takeExpectedReply(uint64_t packetId, int64_t now);
  void event(CoreEvent::Type type, uint64_t address, const InetAddress& path = {},
             int64_t value = 0, std::vector<uint8_t> data = {});
  void updateOnline(int64_t now);
  bool isRootAddress(uint64_t address) const;
  // Stock nodes reach a root only at the IPs its planet entry lists (any port).
  bool isRootEndpointIp(uint64_t root, const InetAddress& at) const;
  bool usablePath(const InetAddress& a) const { return a.isUsablePath(options_.lab); }
  void installPlanetRoots(int64_t now);

  CoreOptions options_;
  CoreHost& host_;
  Counters counters_;
  Reassembler reassembler_;
  std::unordered_map<uint64_t, std::unique_ptr<Peer>> peers_;
  std::unordered_map<uint64_t, PendingIdentity> pending_;
  std::unordered_map<uint64_t, Whois> whois_;
  std::unordered_map<uint64_t, int64_t> rejectedIdentities_;  // address -> when
  std::deque<QueuedSend> txQueue_;
  std::deque<QueuedReceive> rxQueue_;
  std::deque<HeldFrame> heldFrames_;
  // Set by admitFrom when it refuses a frame only for want of the sender's credentials.
  bool refusedForCredentials_ = false;
  // A reply is expected this long after its request (then an OK for it is unexpected).
  static constexpr int64_t kExpectedReplyTtlMs = 60000;
  std::unordered_map<uint64_t, int64_t> expectedReplies_;  // packet id -> sent at
  std::map<uint64_t, InetAddress> external_;
  struct Introduction {
    int64_t at = 0;
    std::pair<InetAddress, InetAddress> endpoints;  // of the pair's lower, then higher address
  };
  std::map<std::pair<uint64_t, uint64_t>, Introduction> rendezvousSent_;
  std::map<uint32_t, int64_t> helloValidationBySubnet_;
  std::vector<uint64_t> rootAddresses_;
  std::vector<uint8_t> planetBytes_;
  std::unordered_map<uint64_t, std::unique_ptr<vl2::Network>> networks_;
  // Root role: who LIKEs which group on which network (protocol.md §9 item 5).
  std::map<std::pair<uint64_t, vl2::MulticastGroup>, std::map<uint64_t, int64_t>> rootLikes_;
  // Groups joined by our sockets, with their join counts (joinGroup).
  std::map<vl2::MulticastGroup, int> localGroups_;
  // Bounds on what strangers can make us hold or compute (issue 11, item 5). A lab root
  // serving a few hundred nodes stays far below them.
  static constexpr size_t kMaxPeers = 10000;
  static constexpr size_t kMaxPendingIdentities = 64;
  RateBudget newIdentityBudget_{20.0, 64.0};       // identity proofs (2 MiB hash each)
  RateBudget unknownHelloBudget_{2000.0, 2000.0};  // X25519 agreements for unknown HELLOs
  bool online_ = false;
  bool started_ = false;
  int64_t startedAt_ = 0;
  int64_t lastHousekeeping_ = 0;
};

}  // namespace zts::vl1
