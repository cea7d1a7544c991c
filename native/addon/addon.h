// Per-environment state of the addon, so that worker threads each get their own.
#pragma once

#include <napi.h>

namespace zts::addon {

class ZtsAddon : public Napi::Addon<ZtsAddon> {
 public:
  ZtsAddon(Napi::Env env, Napi::Object exports);

  Napi::FunctionReference identityConstructor;

 private:
  Napi::Value Versions(const Napi::CallbackInfo& info);
};

}  // namespace zts::addon
