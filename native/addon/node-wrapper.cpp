#include "node-wrapper.h"

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
  }
  return "unknown";
}

Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  auto e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
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
                         InstanceMethod<&NodeWrapper::Close>("close"),
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
    self->tsfn.NonBlockingCall([self](Napi::Env env, Napi::Function) { self->drain(env); });
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
    if (kind == "counters") reply.reply = countersJson(e.core());
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
  }
  engine_->post([nwid, cached = std::move(cached)](Engine& e) {
    e.core().join(e.now(), nwid, cached.empty() ? nullptr : &cached);
  });
  return info.Env().Undefined();
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

}  // namespace zts::addon
