// NodeWrapper's socket methods: TCP and UDP sockets of the engine's socket table, by the id
// JS gave each one (lib/native.ts). Each checks its arguments cheaply (TS validated them)
// and posts the call to the engine thread. Split from node-wrapper.cpp.
#include <arpa/inet.h>

#include <functional>
#include <string>
#include <vector>

#include "../engine/vl2/network.h"
#include "node-wrapper.h"

namespace zts::addon {
namespace {

// "" or "0.0.0.0" / "::" with port -> an endpoint; len 0 for "any address, both families".
bool parseEndpoint(const Napi::Value& ipValue, const Napi::Value& portValue, tap::IpEndpoint& out) {
  if (!ipValue.IsString() || !portValue.IsNumber()) return false;
  const std::string ip = ipValue.As<Napi::String>().Utf8Value();
  const uint32_t port = portValue.As<Napi::Number>().Uint32Value();
  if (port > 65535) return false;
  out = {};
  out.port = static_cast<uint16_t>(port);
  if (ip.empty()) return true;
  uint8_t buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    out = tap::IpEndpoint::v4(buf, out.port);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    out = tap::IpEndpoint::v6(buf, out.port);
    return true;
  }
  return false;
}

uint32_t socketId(const Napi::Value& v) {
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

}  // namespace

Napi::Value NodeWrapper::TcpConnect(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  tap::IpEndpoint remote;
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !parseEndpoint(info[1], info[2], remote) || remote.len == 0) {
    throw Napi::TypeError::New(info.Env(), "tcpConnect(id, ip, port, timeoutMs[, localPort])");
  }
  const uint32_t timeoutMs = info[3].IsNumber() ? info[3].As<Napi::Number>().Uint32Value() : 0;
  const uint32_t localPort = info[4].IsNumber() ? info[4].As<Napi::Number>().Uint32Value() : 0;
  if (localPort > 65535) throw Napi::RangeError::New(info.Env(), "localPort above 65535");
  engine_->post([id, remote, timeoutMs, localPort](Engine& e) {
    e.sockets().connect(id, remote, timeoutMs, static_cast<uint16_t>(localPort));
  });
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::TcpListen(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  tap::IpEndpoint local;
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !parseEndpoint(info[1], info[2], local)) {
    throw Napi::TypeError::New(info.Env(), "tcpListen(id, ip, port)");
  }
  engine_->post([id, local](Engine& e) { e.sockets().listen(id, local); });
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::SocketWrite(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !info[1].IsTypedArray())
    throw Napi::TypeError::New(info.Env(), "socketWrite(id, data)");
  auto bytes = info[1].As<Napi::Uint8Array>();
  std::vector<uint8_t> data(bytes.Data(), bytes.Data() + bytes.ByteLength());
  engine_->post(
      [id, data = std::move(data)](Engine& e) mutable { e.sockets().write(id, std::move(data)); });
  return info.Env().Undefined();
}

// socketControl(id, op, arg): 'shutdown' | 'close' | 'abort' | 'consumed' (arg bytes) |
// 'nodelay' (arg 0/1) | 'keepalive' (arg idle ms, 0 off).
Napi::Value NodeWrapper::SocketControl(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !info[1].IsString())
    throw Napi::TypeError::New(info.Env(), "socketControl(id, op, arg)");
  const std::string op = info[1].As<Napi::String>().Utf8Value();
  auto number = [&](size_t i) -> uint32_t {
    return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Uint32Value() : 0;
  };
  const uint32_t arg = number(2);
  std::function<void(SocketBridge&)> run;
  if (op == "shutdown")
    run = [id](SocketBridge& s) { s.shutdown(id); };
  else if (op == "close")
    run = [id](SocketBridge& s) { s.close(id); };
  else if (op == "abort")
    run = [id](SocketBridge& s) { s.abort(id); };
  else if (op == "consumed")
    run = [id, arg](SocketBridge& s) { s.consumed(id, arg); };
  else if (op == "nodelay")
    run = [id, arg](SocketBridge& s) { s.setNoDelay(id, arg != 0); };
  else if (op == "keepalive")  // idle ms (0: off), interval ms, probe count
    run = [id, arg, interval = number(3), count = number(4)](SocketBridge& s) {
      s.setKeepAlive(id, arg != 0, arg, interval, count);
    };
  else if (op == "deadpeer")
    run = [id, arg](SocketBridge& s) { s.setDeadPeerTimeout(id, arg); };
  else
    throw Napi::TypeError::New(info.Env(), "socketControl: unknown op " + op);
  engine_->post([run = std::move(run)](Engine& e) { run(e.sockets()); });
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::UdpBind(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  tap::IpEndpoint local;
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !parseEndpoint(info[1], info[2], local)) {
    throw Napi::TypeError::New(info.Env(), "udpBind(id, ip, port)");
  }
  engine_->post([id, local](Engine& e) { e.sockets().udpBind(id, local); });
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::UdpSend(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  tap::IpEndpoint to;
  const uint32_t id = socketId(info[0]);
  if (id == 0 || !parseEndpoint(info[1], info[2], to) || to.len == 0 || !info[3].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "udpSend(id, ip, port, data)");
  }
  auto bytes = info[3].As<Napi::Uint8Array>();
  std::vector<uint8_t> data(bytes.Data(), bytes.Data() + bytes.ByteLength());
  engine_->post([id, to, data = std::move(data)](Engine& e) { e.sockets().udpSend(id, to, data); });
  return info.Env().Undefined();
}

// udpMembership(ip, join): an IP multicast group joined or left on every network, in lwIP
// (IGMP/MLD) and on the ZeroTier side (MULTICAST_LIKE for the group's Ethernet address).
Napi::Value NodeWrapper::UdpMembership(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  tap::IpEndpoint group;
  if (!parseEndpoint(info[0], Napi::Number::New(info.Env(), 0), group) || group.len == 0 ||
      !info[1].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), "udpMembership(ip, join)");
  }
  const bool join = info[1].As<Napi::Boolean>().Value();
  // The Ethernet address IP multicast maps to: 01:00:5e + the low 23 bits (IPv4), 33:33 +
  // the low 32 bits (IPv6).
  const uint8_t* ip = group.ip;
  const uint64_t mac =
      group.len == 4
          ? 0x01005e000000ULL | (uint64_t{ip[1] & 0x7fu} << 16) | (uint64_t{ip[2]} << 8) | ip[3]
          : 0x333300000000ULL | (uint64_t{ip[12]} << 24) | (uint64_t{ip[13]} << 16) |
                (uint64_t{ip[14]} << 8) | ip[15];
  engine_->post([group, join, mac](Engine& e) {
    e.sockets().udpMembership(group, join);
    const vl2::MulticastGroup g{mac, 0};
    if (join) {
      e.core().joinGroup(e.now(), g);
    } else {
      e.core().leaveGroup(g);
    }
  });
  return info.Env().Undefined();
}

}  // namespace zts::addon
