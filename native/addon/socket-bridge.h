// Sockets between JS and the engine's SocketTable. JS names every socket it opens with its
// own id; sockets that listeners accept get ids from the engine (high bit set). Events go
// to JS in the engine's batches; data is copied once, out of lwIP's buffers, and what a
// socket receives during one batch reaches JS as one 'data' event (flush()), not one per
// TCP segment.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../engine/tap/socket_table.h"

namespace zts::addon {

struct SocketEvent {
  enum class Type : uint8_t {
    kConnect,    // err (0 ok), local/remote endpoints when ok
    kListening,  // err, local endpoint (the port a listener got)
    kAccept,     // id = listener, accepted = new id, remote
    kData,       // data
    kEnd,        // the peer finished sending
    kWrote,      // value = bytes of earlier writes now handed to lwIP
    kClose,      // err (0: after our own close)
    kMessage,    // UDP datagram: remote, data
    kBound,      // UDP bind result: err, local endpoint
  };
  explicit SocketEvent(Type t) : type(t) {}
  Type type;
  uint32_t id = 0;
  uint32_t accepted = 0;
  int err = 0;
  uint64_t value = 0;
  tap::IpEndpoint local, remote;
  std::vector<uint8_t> data;
};

class SocketBridge : public tap::SocketEvents {
 public:
  using Emit = std::function<void(SocketEvent&&)>;
  explicit SocketBridge(Emit emit, tap::SocketTableOptions options = {});
  ~SocketBridge() override;

  // Commands from JS (engine thread).
  // localPort 0: an ephemeral port.
  void connect(uint32_t id, const tap::IpEndpoint& remote, uint32_t timeoutMs,
               uint16_t localPort = 0);
  void listen(uint32_t id, const tap::IpEndpoint& local);
  void write(uint32_t id, std::vector<uint8_t>&& data);
  void shutdown(uint32_t id);
  void close(uint32_t id);
  void abort(uint32_t id);
  void consumed(uint32_t id, size_t n);
  void setNoDelay(uint32_t id, bool on);
  // idle, interval and count as SocketTable::setKeepAlive takes them (0: lwIP's default).
  void setKeepAlive(uint32_t id, bool on, uint32_t idleMs, uint32_t intervalMs, uint32_t count);
  void setDeadPeerTimeout(uint32_t id, uint32_t ms);
  void udpBind(uint32_t id, const tap::IpEndpoint& local);
  void udpSend(uint32_t id, const tap::IpEndpoint& to, const std::vector<uint8_t>& data);
  void udpMembership(const tap::IpEndpoint& group, bool join) {
    table_->udpMembership(group, join);
  }

  // Hands JS the bytes received since the last flush, then has lwIP send what writes
  // queued. The engine calls it after every batch of frames and commands.
  void flush();
  void tick(uint64_t nowMs) { table_->tick(nowMs); }
  // For the engine's dead-peer work (silentPeers, retransmitNow).
  tap::SocketTable& table() { return *table_; }

  // Sockets JS holds ids for, and sockets the table still holds (a closed one stays while
  // its queue drains): both return to their baseline once every socket is closed.
  size_t openIds() const { return byId_.size(); }
  size_t tableSockets() const { return table_->size(); }

  // tap::SocketEvents
  void onConnect(tap::SocketHandle h, int err) override;
  void onAccept(tap::SocketHandle listener, tap::SocketHandle h,
                const tap::IpEndpoint& remote) override;
  void onData(tap::SocketHandle h, const uint8_t* data, size_t len) override;
  void onEnd(tap::SocketHandle h) override;
  void onWritable(tap::SocketHandle h) override;
  void onClose(tap::SocketHandle h, int err) override;
  void onDatagram(tap::SocketHandle h, const tap::IpEndpoint& from, const uint8_t* data,
                  size_t len) override;

 private:
  struct Entry {
    tap::SocketHandle handle = 0;
    // Bytes JS wrote that the table could not take yet, oldest first.
    std::deque<std::vector<uint8_t>> pending;
    size_t pendingOffset = 0;
    // Received during this batch, not yet given to JS.
    std::vector<uint8_t> received;
    // Taken by the table, not yet reported to JS ('wrote').
    uint64_t unreported = 0;
    // JS ended or closed the socket while bytes were pending: done once they are taken.
    bool shutdownWhenDrained = false;
    bool closeWhenDrained = false;
  };
  uint32_t idOf(tap::SocketHandle h) const;
  void track(uint32_t id, tap::SocketHandle h);
  // Tracks a listener or UDP socket that opened, and tells JS the outcome.
  void reportOpened(SocketEvent::Type type, uint32_t id, int err, tap::SocketHandle h);
  void forget(uint32_t id);
  // Hands pending bytes to the table. What it took is reported to JS ('wrote') while the
  // socket is backed up (bytes still pending, or `draining` them after backpressure) or
  // once kReportBytes add up: JS lets write callbacks run ahead of these reports up to a
  // limit above kReportBytes (lib/sockets/tcp.ts), so small writes cost no report each.
  void pushPending(uint32_t id, Entry& e, bool draining);
  static constexpr uint64_t kReportBytes = 256 * 1024;
  // The end or close JS asked for while bytes were pending; may forget the entry.
  void afterDrained(uint32_t id, Entry& e);
  void emitSimple(SocketEvent::Type type, uint32_t id, int err = 0);
  // Emits what the socket received so far (before its 'end' or 'close').
  void emitReceived(uint32_t id, Entry& e);

  Emit emit_;
  std::unique_ptr<tap::SocketTable> table_;
  std::unordered_map<uint32_t, Entry> byId_;
  std::unordered_map<tap::SocketHandle, uint32_t> idByHandle_;
  uint32_t nextAcceptedId_ = 0x80000000u;
  std::vector<uint32_t> receivedIds_;  // entries with bytes in `received`
};

}  // namespace zts::addon
