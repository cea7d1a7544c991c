#include "node-wrapper.h"

#include <arpa/inet.h>

#include <atomic>
#include <cstring>

#include "../engine/util/hex.h"
#include "../engine/vl2/network.h"
#include "engine-queries.h"

namespace zts::addon {
namespace {

// lwIP and the engine are process-global (brief, decision 1).
std::atomic<bool> gEngineInUse{false};

const char* eventTypeName(vl1::CoreEvent::Type t) {
  using T = vl1::CoreEvent::Type;
  switch (t) {
    case T::kOnline:
      return "online";
    case T::kOffline:
      return "offline";
    case T::kPeerLearned:
      return "peer";
    case T::kDirectPath:
      return "path";
    case T::kPathLost:
      return "path-lost";
    case T::kEchoReply:
      return "echo";
    case T::kExternalAddress:
      return "external-address";
    case T::kPlanetUpdated:
      return "planet";
    case T::kError:
      return "error";
    case T::kUserMessage:
      return "user-message";
    case T::kNetworkStatus:
      return "network-status";
    case T::kNetworkConfig:
      return "network-config";
    case T::kNetworkLeft:
      return "network-left";
  }
  return "unknown";
}

Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  auto e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

const char* socketEventName(SocketEvent::Type t) {
  using S = SocketEvent::Type;
  switch (t) {
    case S::kConnect:
      return "connect";
    case S::kListening:
      return "listening";
    case S::kAccept:
      return "accept";
    case S::kData:
      return "data";
    case S::kEnd:
      return "end";
    case S::kWrote:
      return "wrote";
    case S::kClose:
      return "close";
    case S::kMessage:
      return "message";
    case S::kBound:
      return "bound";
  }
  return "unknown";
}

Napi::Value endpointToJs(Napi::Env env, const tap::IpEndpoint& ep) {
  char text[INET6_ADDRSTRLEN] = "0.0.0.0";  // bound to every address of both families
  if (ep.len != 0) inet_ntop(ep.len == 4 ? AF_INET : AF_INET6, ep.ip, text, sizeof text);
  auto o = Napi::Object::New(env);
  o.Set("address", text);
  o.Set("port", ep.port);
  o.Set("family", ep.len == 16 ? "IPv6" : "IPv4");
  return o;
}

Napi::Object socketEventToJs(Napi::Env env, SocketEvent& s) {
  auto o = Napi::Object::New(env);
  o.Set("type", "socket");
  o.Set("kind", socketEventName(s.type));
  o.Set("id", s.id);
  o.Set("value", Napi::Number::New(env, static_cast<double>(s.value)));
  if (s.err != 0) o.Set("err", s.err);
  if (s.accepted != 0) o.Set("accepted", s.accepted);
  if (s.local.len != 0 || s.local.port != 0) o.Set("local", endpointToJs(env, s.local));
  if (s.remote.len != 0) o.Set("remote", endpointToJs(env, s.remote));
  if (!s.data.empty()) {
    // Hand the bytes over without a second copy: the Buffer owns the vector's storage.
    auto* owned = new std::vector<uint8_t>(std::move(s.data));
    o.Set("data", Napi::Buffer<uint8_t>::New(
                      env, owned->data(), owned->size(),
                      [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned));
  }
  return o;
}

bool parseAddress(const std::string& text, uint64_t& out) {
  uint8_t b[5];
  if (!util::decodeHex(text, b, 5)) return false;
  out = util::readBigEndian(b, 5);
  return true;
}

}  // namespace

Napi::Function NodeWrapper::Define(Napi::Env env) {
  return DefineClass(env, "NativeNode",
                     {
                         InstanceAccessor<&NodeWrapper::GetAddress>("address"),
                         InstanceAccessor<&NodeWrapper::GetPort>("port"),
                         InstanceMethod<&NodeWrapper::Echo>("echo"),
                         InstanceMethod<&NodeWrapper::Query>("query"),
                         InstanceMethod<&NodeWrapper::Join>("join"),
                         InstanceMethod<&NodeWrapper::Leave>("leave"),
                         InstanceMethod<&NodeWrapper::TcpConnect>("tcpConnect"),
                         InstanceMethod<&NodeWrapper::TcpListen>("tcpListen"),
                         InstanceMethod<&NodeWrapper::SocketWrite>("socketWrite"),
                         InstanceMethod<&NodeWrapper::SocketControl>("socketControl"),
                         InstanceMethod<&NodeWrapper::UdpBind>("udpBind"),
                         InstanceMethod<&NodeWrapper::UdpSend>("udpSend"),
                         InstanceMethod<&NodeWrapper::UdpMembership>("udpMembership"),
                         InstanceMethod<&NodeWrapper::ControllerCall>("controllerCall"),
                         InstanceMethod<&NodeWrapper::Close>("close"),
                         InstanceMethod<&NodeWrapper::KeepAlive>("keepAlive"),
                     });
}

NodeWrapper::NodeWrapper(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NodeWrapper>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "NativeNode(options, onEvents)");
  }
  auto opts = info[0].As<Napi::Object>();
  EngineOptions options;

  const auto idText = opts.Get("identity");
  if (!idText.IsString()) throw Napi::TypeError::New(env, "options.identity must be a string");
  auto identity = vl1::Identity::fromString(idText.As<Napi::String>().Utf8Value());
  if (!identity || !identity->hasPrivate()) {
    throw codedError(env, "ERR_INVALID_ARG_VALUE", "options.identity is not a secret identity");
  }
  options.core.identity = *identity;

  const auto planet = opts.Get("planet");
  if (planet.IsTypedArray()) {
    auto bytes = planet.As<Napi::Uint8Array>();
    size_t used = 0;
    auto world = vl1::World::parse(bytes.Data(), bytes.ByteLength(), &used);
    if (!world || used != bytes.ByteLength()) {
      throw codedError(env, "ERR_INVALID_ARG_VALUE", "options.planet is not a valid planet");
    }
    options.core.planet = *world;
  } else {
    options.core.planet = vl1::World::earth();
  }
  if (opts.Get("port").IsNumber()) {
    options.port = static_cast<uint16_t>(opts.Get("port").As<Napi::Number>().Uint32Value());
  }
  options.core.lab = opts.Get("lab").ToBoolean();
  options.core.root = opts.Get("root").ToBoolean();
  if (opts.Get("bindV4").IsString()) options.bindV4 = opts.Get("bindV4").As<Napi::String>();
  if (opts.Get("bindV6").IsString()) options.bindV6 = opts.Get("bindV6").As<Napi::String>();
  options.controller = opts.Get("controller").ToBoolean();
  // Validated in TS (node-service.ts); absent: the table's default.
  if (opts.Get("deadPeerTimeoutMs").IsNumber()) {
    options.sockets.deadPeerTimeoutMs =
        opts.Get("deadPeerTimeoutMs").As<Napi::Number>().Uint32Value();
  }
  if (opts.Get("controllerState").IsString()) {
    options.controllerState = opts.Get("controllerState").As<Napi::String>();
  }

  bool expected = false;
  if (!gEngineInUse.compare_exchange_strong(expected, true)) {
    throw codedError(env, "ERR_ZT_NODE_RUNNING",
                     "a ZeroTier node is already running in this process (one per process)");
  }
  address_ = vl1::addressToString(identity->address());
  channel_ = std::make_shared<Channel>();
  channel_->onEvents = Napi::Persistent(info[1].As<Napi::Function>());
  channel_->tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(),
                                                 "zerotier-sockets:events", 0, 1);
  engine_ = std::make_unique<Engine>(std::move(options),
                                     [channel = channel_](std::vector<EngineEvent>&& b) {
                                       Channel::deliver(channel, std::move(b));
                                     });
  int error = 0;
  if (!engine_->start(error)) {
    engine_.reset();
    channel_->tsfn.Release();
    gEngineInUse = false;
    closed_ = true;
    auto e = codedError(env, "EADDRINUSE", std::string("bind ") + std::strerror(-error));
    if (error != -EADDRINUSE) e.Set("code", Napi::String::New(env, "ESOCKET"));
    e.Set("errno", Napi::Number::New(env, error));
    e.Set("syscall", Napi::String::New(env, "bind"));
    throw e;
  }
  port_ = engine_->port();
  // Worker threads and process exit tear the engine down even if JS never closed it.
  cleanupHook_ = env.AddCleanupHook(std::function<void()>([this] {
    hookSet_ = false;  // it has run: the destructor must not remove it again
    shutdown();
  }));
  hookSet_ = true;
}

NodeWrapper::~NodeWrapper() {
  if (hookSet_) cleanupHook_.Remove(Env());
  shutdown();
}

void NodeWrapper::shutdown() {
  if (engine_) {
    engine_->stop();
    engine_.reset();
    channel_->tsfn.Release();
    gEngineInUse = false;
  }
  closed_ = true;
}

void NodeWrapper::requireOpen(Napi::Env env) const {
  if (closed_) throw codedError(env, "ERR_ZT_NODE_CLOSED", "the node is closed");
}

void NodeWrapper::Channel::deliver(const std::shared_ptr<Channel>& self,
                                   std::vector<EngineEvent>&& batch) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> guard(self->lock);
    for (auto& e : batch) self->events.push_back(std::move(e));
    if (!self->drainScheduled) self->drainScheduled = schedule = true;
  }
  if (schedule) {
    self->tsfn.NonBlockingCall([self](Napi::Env env, Napi::Function) {
      try {
        self->drain(env);
      } catch (const Napi::Error&) {
        // JS never throws back into here (the JS side hands its listeners' exceptions to
        // the microtask queue), so this is N-API failing: a process exiting with its node
        // unref()d tears the environment down with a batch queued, when JS can no longer
        // run. The batch goes with the process.
      }
    });
  }
}

void NodeWrapper::Channel::drain(Napi::Env env) {
  std::vector<EngineEvent> batch;
  {
    std::lock_guard<std::mutex> guard(lock);
    batch.swap(events);
    drainScheduled = false;
  }
  Napi::HandleScope scope(env);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (auto& e : batch) {
    if (e.kind == EngineEvent::Kind::kSocket) {
      out.Set(n++, socketEventToJs(env, e.socket));
      continue;
    }
    if (e.kind == EngineEvent::Kind::kReply) {
      auto it = queries.find(e.requestId);
      if (it == queries.end()) continue;
      it->second.Resolve(Napi::String::New(env, e.reply));
      queries.erase(it);
      continue;
    }
    auto o = Napi::Object::New(env);
    o.Set("type", eventTypeName(e.core.type));
    if (e.core.address != 0) o.Set("address", vl1::addressToString(e.core.address));
    if (!e.core.path.isNil()) o.Set("path", e.core.path.toString());
    if (e.core.network != 0) {
      uint8_t id[8];
      util::writeBigEndian(id, e.core.network, 8);
      std::string hex;
      util::appendHex(hex, id, 8);
      o.Set("network", hex);
    }
    if (e.core.type == vl1::CoreEvent::Type::kNetworkStatus) {
      o.Set("status", vl2::statusName(static_cast<vl2::NetworkStatus>(e.core.value)));
    }
    o.Set("value", Napi::Number::New(env, static_cast<double>(e.core.value)));
    if (!e.core.data.empty()) {
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, e.core.data.data(), e.core.data.size()));
    }
    out.Set(n++, o);
  }
  if (n > 0 && !onEvents.IsEmpty()) onEvents.Call({out});
}

Napi::Value NodeWrapper::GetAddress(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), address_);
}

Napi::Value NodeWrapper::GetPort(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), port_);
}

Napi::Value NodeWrapper::Echo(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  uint64_t dest;
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsTypedArray() ||
      !parseAddress(info[0].As<Napi::String>().Utf8Value(), dest)) {
    throw Napi::TypeError::New(info.Env(), "echo(address, payload)");
  }
  auto bytes = info[1].As<Napi::Uint8Array>();
  std::vector<uint8_t> payload(bytes.Data(), bytes.Data() + bytes.ByteLength());
  engine_->post([dest, payload = std::move(payload)](Engine& e) {
    e.core().sendEcho(e.now(), dest, payload.data(), payload.size());
  });
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::Query(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  const std::string kind = info.Length() > 0 && info[0].IsString()
                               ? info[0].As<Napi::String>().Utf8Value()
                               : std::string();
  if (kind != "counters" && kind != "peers" && kind != "status" && kind != "networks") {
    throw Napi::TypeError::New(info.Env(), "query('counters' | 'peers' | 'status' | 'networks')");
  }
  const uint32_t id = nextQuery_++;
  auto deferred = Napi::Promise::Deferred::New(info.Env());
  channel_->queries.emplace(id, deferred);
  engine_->post([id, kind](Engine& e) {
    EngineEvent reply;
    reply.kind = EngineEvent::Kind::kReply;
    reply.requestId = id;
    if (kind == "counters") reply.reply = countersJson(e.core(), e.sockets());
    if (kind == "peers") reply.reply = peersJson(e.core(), e.now());
    if (kind == "status") reply.reply = statusJson(e.core());
    if (kind == "networks") reply.reply = networksJson(e.core());
    e.emit(std::move(reply));
  });
  return deferred.Promise();
}

namespace {
bool parseNetworkId(const Napi::Value& v, uint64_t& out) {
  if (!v.IsString()) return false;
  uint8_t b[8];
  if (!util::decodeHex(v.As<Napi::String>().Utf8Value(), b, 8)) return false;
  out = util::readBigEndian(b, 8);
  return true;
}
}  // namespace

Napi::Value NodeWrapper::Join(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  uint64_t nwid;
  if (info.Length() < 1 || !parseNetworkId(info[0], nwid)) {
    throw Napi::TypeError::New(info.Env(), "join(networkId, cachedConfig?)");
  }
  std::vector<uint8_t> cached;
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    auto b = info[1].As<Napi::Uint8Array>();
    cached.assign(b.Data(), b.Data() + b.ByteLength());
    // A cached config that is not one (truncated, damaged, another network's or node's):
    // false, nothing joined, so the caller can say so and leave the file as it is.
    const auto cfg = vl2::NetworkConfig::parse(cached.data(), cached.size());
    if (!cfg || !cfg->isFor(nwid, std::stoull(address_, nullptr, 16))) {
      return Napi::Boolean::New(info.Env(), false);
    }
  }
  engine_->post([nwid, cached = std::move(cached)](Engine& e) {
    e.core().join(e.now(), nwid, cached.empty() ? nullptr : &cached);
  });
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value NodeWrapper::Leave(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  uint64_t nwid;
  if (info.Length() < 1 || !parseNetworkId(info[0], nwid)) {
    throw Napi::TypeError::New(info.Env(), "leave(networkId)");
  }
  engine_->post([nwid](Engine& e) { e.core().leave(e.now(), nwid); });
  return info.Env().Undefined();
}

// controllerCall(op, nwid, member, body) -> Promise<string> ({"status":N,"body":...}).
Napi::Value NodeWrapper::ControllerCall(const Napi::CallbackInfo& info) {
  requireOpen(info.Env());
  auto str = [&](size_t i) {
    return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value()
                                                   : std::string();
  };
  const std::string op = str(0), nwid = str(1), member = str(2), body = str(3);
  const uint32_t id = nextQuery_++;
  auto deferred = Napi::Promise::Deferred::New(info.Env());
  channel_->queries.emplace(id, deferred);
  engine_->post([id, op, nwid, member, body](Engine& e) {
    EngineEvent reply;
    reply.kind = EngineEvent::Kind::kReply;
    reply.requestId = id;
    reply.reply = e.controller() == nullptr
                      ? std::string("{\"status\":404,\"body\":{\"error\":\"not a controller\"}}")
                      : e.controller()->call(e.core(), e.now(), op, nwid, member, body);
    e.emit(std::move(reply));
  });
  return deferred.Promise();
}

Napi::Value NodeWrapper::Close(const Napi::CallbackInfo& info) {
  if (!closed_) {
    shutdown();
    // Flush what the engine said before it stopped, then refuse what is still asked.
    channel_->drain(info.Env());
    for (auto& [id, d] : channel_->queries) {
      d.Reject(codedError(info.Env(), "ERR_ZT_NODE_CLOSED", "the node is closed").Value());
    }
    channel_->queries.clear();
  }
  return info.Env().Undefined();
}

Napi::Value NodeWrapper::KeepAlive(const Napi::CallbackInfo& info) {
  const bool on = info[0].ToBoolean();
  // Only while the engine runs: shutdown() released the thread-safe function.
  if (engine_ && on != keepsAlive_) {
    if (on)
      channel_->tsfn.Ref(info.Env());
    else
      channel_->tsfn.Unref(info.Env());
    keepsAlive_ = on;
  }
  return info.Env().Undefined();
}

}  // namespace zts::addon
