// JS handle over the process's one Engine. States: running -> closed; every call after
// close() throws ERR_ZT_NODE_CLOSED.
#pragma once

#include <napi.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine.h"

namespace zts::addon {

class NodeWrapper : public Napi::ObjectWrap<NodeWrapper> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NodeWrapper(const Napi::CallbackInfo& info);
  ~NodeWrapper() override;

 private:
  Napi::Value GetAddress(const Napi::CallbackInfo& info);
  Napi::Value GetPort(const Napi::CallbackInfo& info);
  Napi::Value Echo(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value Leave(const Napi::CallbackInfo& info);
  Napi::Value TcpConnect(const Napi::CallbackInfo& info);
  Napi::Value TcpListen(const Napi::CallbackInfo& info);
  Napi::Value SocketWrite(const Napi::CallbackInfo& info);
  Napi::Value SocketControl(const Napi::CallbackInfo& info);
  Napi::Value UdpBind(const Napi::CallbackInfo& info);
  Napi::Value UdpSend(const Napi::CallbackInfo& info);
  Napi::Value UdpMembership(const Napi::CallbackInfo& info);
  Napi::Value ControllerCall(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // keepAlive(bool): whether the node's event channel keeps the process alive (ref/unref).
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);

  // What the engine thread and the JS thread share. Owned jointly, so a batch queued to
  // the thread-safe function stays valid even if the JS handle is collected first.
  struct Channel {
    std::mutex lock;
    std::vector<EngineEvent> events;
    bool drainScheduled = false;
    Napi::ThreadSafeFunction tsfn;
    Napi::FunctionReference onEvents;
    std::map<uint32_t, Napi::Promise::Deferred> queries;
    // Engine thread: queue a batch and wake JS once per batch.
    static void deliver(const std::shared_ptr<Channel>& self, std::vector<EngineEvent>&& batch);
    // JS thread: turn the queued batches into one onEvents call.
    void drain(Napi::Env env);
  };

  void requireOpen(Napi::Env env) const;
  void shutdown();

  std::shared_ptr<Channel> channel_;
  std::unique_ptr<Engine> engine_;
  Napi::Env::CleanupHook<std::function<void()>> cleanupHook_;
  bool hookSet_ = false;
  uint32_t nextQuery_ = 1;
  std::string address_;
  uint16_t port_ = 0;
  bool closed_ = false;
  bool keepsAlive_ = true;  // a new thread-safe function is referenced
};

}  // namespace zts::addon
