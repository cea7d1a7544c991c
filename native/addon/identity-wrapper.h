// JS handle over a vl1::Identity; the private key stays in native memory and is wiped
// when the handle is collected.
#pragma once

#include <napi.h>

#include "../engine/vl1/identity.h"

namespace zts::addon {

class IdentityWrapper : public Napi::ObjectWrap<IdentityWrapper> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, const vl1::Identity& identity);
  // The identity behind a JS value, or nullptr (with a pending TypeError) if it is not one.
  static const vl1::Identity* IdentityOf(Napi::Value value);

  explicit IdentityWrapper(const Napi::CallbackInfo& info);

  const vl1::Identity& identity() const { return identity_; }

 private:
  static Napi::Value Generate(const Napi::CallbackInfo& info);
  static Napi::Value Parse(const Napi::CallbackInfo& info);
  static Napi::Value FromBinary(const Napi::CallbackInfo& info);

  Napi::Value GetAddress(const Napi::CallbackInfo& info);
  Napi::Value GetPublicKey(const Napi::CallbackInfo& info);
  Napi::Value GetHasPrivate(const Napi::CallbackInfo& info);
  Napi::Value ToText(const Napi::CallbackInfo& info);
  Napi::Value ToBinary(const Napi::CallbackInfo& info);
  Napi::Value Validate(const Napi::CallbackInfo& info);
  Napi::Value ValidateSync(const Napi::CallbackInfo& info);
  Napi::Value Sign(const Napi::CallbackInfo& info);
  Napi::Value Verify(const Napi::CallbackInfo& info);
  Napi::Value Agree(const Napi::CallbackInfo& info);

  vl1::Identity identity_;
};

}  // namespace zts::addon
