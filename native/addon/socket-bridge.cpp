#include "socket-bridge.h"

extern "C" {
#include <lwip/err.h>
}

namespace zts::addon {

using T = SocketEvent::Type;

SocketBridge::SocketBridge(Emit emit, tap::SocketTableOptions options)
    : emit_(std::move(emit)), table_(std::make_unique<tap::SocketTable>(*this, options)) {}

SocketBridge::~SocketBridge() = default;

uint32_t SocketBridge::idOf(tap::SocketHandle h) const {
  auto it = idByHandle_.find(h);
  return it == idByHandle_.end() ? 0 : it->second;
}

void SocketBridge::forget(uint32_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  emitReceived(id, it->second);
  idByHandle_.erase(it->second.handle);
  byId_.erase(it);
}

void SocketBridge::emitSimple(SocketEvent::Type type, uint32_t id, int err) {
  SocketEvent e{type};
  e.id = id;
  e.err = err;
  emit_(std::move(e));
}

void SocketBridge::connect(uint32_t id, const tap::IpEndpoint& remote, uint32_t timeoutMs,
                           uint16_t localPort) {
  tap::SocketHandle h = 0;
  tap::ConnectOptions options;
  options.timeoutMs = timeoutMs;
  options.localPort = localPort;
  const int err = table_->tcpConnect(remote, options, &h);
  if (err != ERR_OK) {
    emitSimple(T::kConnect, id, err);
    return;
  }
  track(id, h);
}

void SocketBridge::track(uint32_t id, tap::SocketHandle h) {
  byId_[id].handle = h;
  idByHandle_[h] = id;
}

void SocketBridge::reportOpened(SocketEvent::Type type, uint32_t id, int err, tap::SocketHandle h) {
  SocketEvent e{type};
  e.id = id;
  e.err = err;
  if (err == ERR_OK) {
    track(id, h);
    table_->localAddress(h, &e.local);
  }
  emit_(std::move(e));
}

void SocketBridge::listen(uint32_t id, const tap::IpEndpoint& local) {
  tap::SocketHandle h = 0;
  const int err = table_->tcpListen(local, 511, &h);
  reportOpened(T::kListening, id, err, h);
}

void SocketBridge::pushPending(uint32_t id, Entry& e, bool draining) {
  uint64_t taken = 0;
  while (!e.pending.empty()) {
    auto& front = e.pending.front();
    const size_t left = front.size() - e.pendingOffset;
    const int64_t n = table_->write(e.handle, front.data() + e.pendingOffset, left);
    if (n < 0) {
      e.pending.clear();
      e.pendingOffset = 0;
      break;  // the connection is gone; onClose tells JS
    }
    taken += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < left) {
      e.pendingOffset += static_cast<size_t>(n);
      break;  // onWritable resumes
    }
    e.pending.pop_front();
    e.pendingOffset = 0;
  }
  e.unreported += taken;
  if (e.unreported > 0 && (draining || !e.pending.empty() || e.unreported >= kReportBytes)) {
    SocketEvent ev{T::kWrote};
    ev.id = id;
    ev.value = e.unreported;
    e.unreported = 0;
    emit_(std::move(ev));
  }
  if (e.pending.empty()) afterDrained(id, e);
}

void SocketBridge::write(uint32_t id, std::vector<uint8_t>&& data) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  it->second.pending.push_back(std::move(data));
  if (it->second.pending.size() == 1) pushPending(id, it->second, false);
}

// JS may end or close a socket whose earlier writes still wait here (their callbacks ran
// once the engine held them, as Node's run once the kernel does): those bytes go first, as
// the kernel sends what it holds before the FIN.
void SocketBridge::shutdown(uint32_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  if (it->second.pending.empty())
    table_->shutdownWrite(it->second.handle);
  else
    it->second.shutdownWhenDrained = true;
}

void SocketBridge::close(uint32_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  if (!it->second.pending.empty()) {
    it->second.closeWhenDrained = true;  // JS let go: only the table's events reach it now
    return;
  }
  table_->close(it->second.handle);
  forget(id);
}

void SocketBridge::afterDrained(uint32_t id, Entry& e) {
  if (e.shutdownWhenDrained) {
    e.shutdownWhenDrained = false;
    table_->shutdownWrite(e.handle);
  }
  if (e.closeWhenDrained) {
    table_->close(e.handle);
    forget(id);  // last: `e` is gone after this
  }
}

void SocketBridge::abort(uint32_t id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return;
  table_->abort(it->second.handle);
  forget(id);
}

void SocketBridge::consumed(uint32_t id, size_t n) {
  auto it = byId_.find(id);
  if (it != byId_.end()) table_->consumed(it->second.handle, n);
}

void SocketBridge::setNoDelay(uint32_t id, bool on) {
  auto it = byId_.find(id);
  if (it != byId_.end()) table_->setNoDelay(it->second.handle, on);
}

void SocketBridge::setKeepAlive(uint32_t id, bool on, uint32_t idleMs, uint32_t intervalMs,
                                uint32_t count) {
  auto it = byId_.find(id);
  if (it != byId_.end()) table_->setKeepAlive(it->second.handle, on, idleMs, intervalMs, count);
}

void SocketBridge::setDeadPeerTimeout(uint32_t id, uint32_t ms) {
  auto it = byId_.find(id);
  if (it != byId_.end()) table_->setDeadPeerTimeout(it->second.handle, ms);
}

void SocketBridge::udpBind(uint32_t id, const tap::IpEndpoint& local) {
  tap::SocketHandle h = 0;
  const int err = table_->udpBind(local, &h);
  reportOpened(T::kBound, id, err, h);
}

void SocketBridge::udpSend(uint32_t id, const tap::IpEndpoint& to,
                           const std::vector<uint8_t>& data) {
  auto it = byId_.find(id);
  if (it != byId_.end()) table_->udpSendTo(it->second.handle, to, data.data(), data.size());
}

void SocketBridge::onConnect(tap::SocketHandle h, int err) {
  const uint32_t id = idOf(h);
  if (id == 0) return;
  SocketEvent e{T::kConnect};
  e.id = id;
  e.err = err;
  if (err == ERR_OK) {
    table_->localAddress(h, &e.local);
    table_->remoteAddress(h, &e.remote);
    emit_(std::move(e));
    auto it = byId_.find(id);
    if (it != byId_.end() && !it->second.pending.empty()) pushPending(id, it->second, false);
    return;
  }
  forget(id);  // a failed connect leaves no handle behind
  emit_(std::move(e));
}

void SocketBridge::onAccept(tap::SocketHandle listener, tap::SocketHandle h,
                            const tap::IpEndpoint& remote) {
  const uint32_t lid = idOf(listener);
  if (lid == 0) {
    table_->abort(h);
    return;
  }
  const uint32_t id = nextAcceptedId_++;
  if (nextAcceptedId_ == 0) nextAcceptedId_ = 0x80000000u;
  track(id, h);
  SocketEvent e{T::kAccept};
  e.id = lid;
  e.accepted = id;
  e.remote = remote;
  table_->localAddress(h, &e.local);
  emit_(std::move(e));
}

void SocketBridge::onData(tap::SocketHandle h, const uint8_t* data, size_t len) {
  const uint32_t id = idOf(h);
  auto it = byId_.find(id);
  if (id == 0 || it == byId_.end()) return;
  auto& received = it->second.received;
  if (received.empty()) receivedIds_.push_back(id);
  received.insert(received.end(), data, data + len);
}

void SocketBridge::emitReceived(uint32_t id, Entry& entry) {
  if (entry.received.empty()) return;
  SocketEvent e{T::kData};
  e.id = id;
  e.data.swap(entry.received);
  emit_(std::move(e));
}

void SocketBridge::flush() {
  for (const uint32_t id : receivedIds_) {
    auto it = byId_.find(id);
    if (it != byId_.end()) emitReceived(id, it->second);
  }
  receivedIds_.clear();
  table_->flush();
}

void SocketBridge::onEnd(tap::SocketHandle h) {
  const uint32_t id = idOf(h);
  auto it = byId_.find(id);
  if (id == 0 || it == byId_.end()) return;
  emitReceived(id, it->second);
  emitSimple(T::kEnd, id);
}

void SocketBridge::onWritable(tap::SocketHandle h) {
  const uint32_t id = idOf(h);
  auto it = byId_.find(id);
  if (it != byId_.end()) pushPending(id, it->second, true);
}

void SocketBridge::onClose(tap::SocketHandle h, int err) {
  const uint32_t id = idOf(h);
  if (id == 0) return;
  forget(id);
  emitSimple(T::kClose, id, err);
}

void SocketBridge::onDatagram(tap::SocketHandle h, const tap::IpEndpoint& from, const uint8_t* data,
                              size_t len) {
  const uint32_t id = idOf(h);
  if (id == 0) return;
  SocketEvent e{T::kMessage};
  e.id = id;
  e.remote = from;
  e.data.assign(data, data + len);
  emit_(std::move(e));
}

}  // namespace zts::addon
