#include "addon.h"

#include <lwip/init.h>
#include <lz4.h>
#include <sodium.h>

#include "../engine/crypto/primitives.h"
#include "controller-api.h"
#include "identity-wrapper.h"
#include "inspect-binding.h"
#include "node-wrapper.h"
#include "storage-lock.h"
#include "world-functions.h"

namespace zts::addon {

ZtsAddon::ZtsAddon(Napi::Env env, Napi::Object exports) {
  if (!crypto::initialize()) {
    Napi::Error::New(env, "libsodium could not initialize (no usable random source)")
        .ThrowAsJavaScriptException();
    return;
  }
  identityConstructor = Napi::Persistent(IdentityWrapper::Define(env));
  exports.Set("NativeIdentity", identityConstructor.Value());
  RegisterInspect(env, exports);
  exports.Set("NativeNode", NodeWrapper::Define(env));
  RegisterWorld(env, exports);
  RegisterStorageLock(env, exports);
  RegisterControllerFunctions(env, exports);
  DefineAddon(exports, {InstanceMethod("versions", &ZtsAddon::Versions, napi_enumerable)});
}

Napi::Value ZtsAddon::Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object v = Napi::Object::New(env);
  v.Set("sodium", sodium_version_string());
  v.Set("lz4", LZ4_versionString());
  v.Set("lwip", LWIP_VERSION_STRING);
  v.Set("napi", NAPI_VERSION);
  return v;
}

}  // namespace zts::addon

using zts::addon::ZtsAddon;
NODE_API_ADDON(ZtsAddon)
