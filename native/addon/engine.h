// The engine thread (brief, decision 3): it owns the UDP sockets, the timers and the
// protocol core, and runs its own libuv loop. JS reaches it only through post() (a queue
// woken by uv_async); it reports back only through the batched EventSink.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../engine/tap/network_taps.h"
#include "../engine/tap/peer_return_watch.h"
#include "../engine/vl1/node_core.h"
#include "controller-api.h"
#include "socket-bridge.h"

namespace zts::addon {

struct EngineOptions {
  vl1::CoreOptions core;
  uint16_t port = 0;  // 0: a random free port (the same number for IPv4 and IPv6)
  std::string bindV4 = "0.0.0.0";
  std::string bindV6 = "::";  // empty: no IPv6 socket
  // Controller role (the lab): answer config requests from this saved state ("" = empty).
  bool controller = false;
  std::string controllerState;
  tap::SocketTableOptions sockets;
};

// Something the engine tells JS. `reply` carries JSON for request/response commands.
struct EngineEvent {
  enum class Kind : uint8_t { kCore, kReply, kSocket };
  Kind kind = Kind::kCore;
  vl1::CoreEvent core;
  SocketEvent socket{SocketEvent::Type::kClose};
  uint32_t requestId = 0;
  std::string reply;
};

// Called on the engine thread with a batch of events; must not block.
using EventSink = std::function<void(std::vector<EngineEvent>&&)>;

class Engine {
 public:
  Engine(EngineOptions options, EventSink sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Opens the sockets on the calling thread, so bind errors surface there (negative errno
  // in `error`), then starts the thread.
  bool start(int& error);
  // Runs `command` on the engine thread with the core. Safe from any thread.
  void post(std::function<void(Engine&)> command);
  // Stops the thread and closes everything; idempotent.
  void stop();

  // Engine-thread only.
  vl1::NodeCore& core() { return *core_; }
  int64_t now() const;
  void emit(EngineEvent&& event) { pending_.push_back(std::move(event)); }
  uint16_t port() const { return port_; }
  tap::NetworkTaps& taps() { return *taps_; }
  SocketBridge& sockets() { return *sockets_; }
  ControllerApi* controller() { return controller_.get(); }

 private:
  class Host;
  struct Outgoing {
    int socket;
    sockaddr_storage to;
    unsigned toLen;
    size_t offset;
    size_t len;
  };

  void run();
  void onWake();
  void onReadable(int socketIndex);
  void onTimer();
  void afterActivity();
  void flushOutbox();
  void queueSend(int64_t localSocket, const vl1::InetAddress& to, const uint8_t* data, size_t len);
  void sendWithTtl(const vl1::InetAddress& to, const uint8_t* data, size_t len, unsigned ttl);
  void checkIdentityOffThread(const vl1::Identity& identity);
  // Keeps the netifs in step with what the core says about networks.
  void onNetworkEvent(const vl1::CoreEvent& event);
  // Connections whose peer went silent, and nodes that came back (peer_return_watch.h).
  void watchPeerReturns();

  EngineOptions options_;
  EventSink sink_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<vl1::NodeCore> core_;
  std::unique_ptr<tap::NetworkTaps> taps_;
  std::unique_ptr<SocketBridge> sockets_;
  std::unique_ptr<tap::PeerReturnWatch> returns_;
  int64_t lastReturnsTick_ = 0;
  std::unique_ptr<ControllerApi> controller_;
  int fds_[2] = {-1, -1};  // IPv4, IPv6
  uint16_t port_ = 0;

  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t timer_{};
  uv_poll_t polls_[2]{};
  std::thread thread_;
  std::mutex commandsLock_;
  std::vector<std::function<void(Engine&)>> commands_;
  bool stopping_ = false;
  std::atomic<bool> running_{false};

  std::vector<EngineEvent> pending_;
  std::vector<Outgoing> outbox_;
  std::vector<uint8_t> outBytes_;
  std::vector<uint8_t> inBytes_;
};

}  // namespace zts::addon
