#include "identity-wrapper.h"

#include "../engine/crypto/primitives.h"
#include "addon.h"

namespace zts::addon {
namespace {

// Buffers and typed arrays both arrive as Uint8Array views.
bool asBytes(Napi::Value v, const uint8_t*& data, size_t& len) {
  if (!v.IsTypedArray()) return false;
  auto arr = v.As<Napi::TypedArray>();
  if (arr.TypedArrayType() != napi_uint8_array) return false;
  auto u8 = v.As<Napi::Uint8Array>();
  data = u8.Data();
  len = u8.ByteLength();
  return true;
}

class GenerateWorker : public Napi::AsyncWorker {
 public:
  explicit GenerateWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "zerotier-sockets:identity-generate"),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { result_ = vl1::Identity::generate(); }
  void OnOK() override { deferred_.Resolve(IdentityWrapper::NewInstance(Env(), result_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  vl1::Identity result_;
};

class ValidateWorker : public Napi::AsyncWorker {
 public:
  ValidateWorker(Napi::Env env, const vl1::Identity& identity)
      : Napi::AsyncWorker(env, "zerotier-sockets:identity-validate"),
        deferred_(Napi::Promise::Deferred::New(env)),
        identity_(identity) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { valid_ = identity_.locallyValidate(); }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), valid_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  vl1::Identity identity_;
  bool valid_ = false;
};

}  // namespace

Napi::Function IdentityWrapper::Define(Napi::Env env) {
  return DefineClass(env, "NativeIdentity",
                     {
                         StaticMethod<&IdentityWrapper::Generate>("generate"),
                         StaticMethod<&IdentityWrapper::Parse>("parse"),
                         StaticMethod<&IdentityWrapper::FromBinary>("fromBinary"),
                         InstanceAccessor<&IdentityWrapper::GetAddress>("address"),
                         InstanceAccessor<&IdentityWrapper::GetPublicKey>("publicKey"),
                         InstanceAccessor<&IdentityWrapper::GetHasPrivate>("hasPrivate"),
                         InstanceMethod<&IdentityWrapper::ToText>("toText"),
                         InstanceMethod<&IdentityWrapper::ToBinary>("toBinary"),
                         InstanceMethod<&IdentityWrapper::Validate>("validate"),
                         InstanceMethod<&IdentityWrapper::ValidateSync>("validateSync"),
                         InstanceMethod<&IdentityWrapper::Sign>("sign"),
                         InstanceMethod<&IdentityWrapper::Verify>("verify"),
                         InstanceMethod<&IdentityWrapper::Agree>("agree"),
                     });
}

Napi::Object IdentityWrapper::NewInstance(Napi::Env env, const vl1::Identity& identity) {
  auto* addon = env.GetInstanceData<ZtsAddon>();
  // The constructor copies the identity out of the External before this frame returns.
  auto external = Napi::External<vl1::Identity>::New(env, const_cast<vl1::Identity*>(&identity));
  return addon->identityConstructor.New({external});
}

const vl1::Identity* IdentityWrapper::IdentityOf(Napi::Value value) {
  Napi::Env env = value.Env();
  auto* addon = env.GetInstanceData<ZtsAddon>();
  if (!value.IsObject() ||
      !value.As<Napi::Object>().InstanceOf(addon->identityConstructor.Value())) {
    Napi::TypeError::New(env, "expected a NativeIdentity").ThrowAsJavaScriptException();
    return nullptr;
  }
  return &ObjectWrap::Unwrap(value.As<Napi::Object>())->identity_;
}

IdentityWrapper::IdentityWrapper(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<IdentityWrapper>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(),
                               "NativeIdentity is made by generate(), parse() or fromBinary()");
  }
  identity_ = *info[0].As<Napi::External<vl1::Identity>>().Data();
}

Napi::Value IdentityWrapper::Generate(const Napi::CallbackInfo& info) {
  auto* worker = new GenerateWorker(info.Env());
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value IdentityWrapper::Parse(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "text must be a string");
  }
  auto parsed = vl1::Identity::fromString(info[0].As<Napi::String>().Utf8Value());
  if (!parsed) return info.Env().Null();
  return NewInstance(info.Env(), *parsed);
}

Napi::Value IdentityWrapper::FromBinary(const Napi::CallbackInfo& info) {
  const uint8_t* data;
  size_t len;
  if (info.Length() < 1 || !asBytes(info[0], data, len)) {
    throw Napi::TypeError::New(info.Env(), "data must be a Uint8Array");
  }
  size_t consumed = 0;
  auto parsed = vl1::Identity::fromBinary(data, len, consumed);
  if (!parsed || consumed != len) return info.Env().Null();
  return NewInstance(info.Env(), *parsed);
}

Napi::Value IdentityWrapper::GetAddress(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), vl1::addressToString(identity_.address()));
}

Napi::Value IdentityWrapper::GetPublicKey(const Napi::CallbackInfo& info) {
  const auto& pub = identity_.publicKey();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), pub.data(), pub.size());
}

Napi::Value IdentityWrapper::GetHasPrivate(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), identity_.hasPrivate());
}

Napi::Value IdentityWrapper::ToText(const Napi::CallbackInfo& info) {
  const bool includePrivate = info.Length() > 0 && info[0].ToBoolean();
  return Napi::String::New(info.Env(), identity_.toString(includePrivate));
}

Napi::Value IdentityWrapper::ToBinary(const Napi::CallbackInfo& info) {
  const bool includePrivate = info.Length() > 0 && info[0].ToBoolean();
  uint8_t out[vl1::kIdentityBinarySecretLen];
  const size_t n = identity_.toBinary(out, sizeof out, includePrivate);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), out, n);
}

Napi::Value IdentityWrapper::Validate(const Napi::CallbackInfo& info) {
  auto* worker = new ValidateWorker(info.Env(), identity_);
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value IdentityWrapper::ValidateSync(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), identity_.locallyValidate());
}

Napi::Value IdentityWrapper::Sign(const Napi::CallbackInfo& info) {
  const uint8_t* msg;
  size_t len;
  if (info.Length() < 1 || !asBytes(info[0], msg, len)) {
    throw Napi::TypeError::New(info.Env(), "message must be a Uint8Array");
  }
  if (!identity_.hasPrivate()) {
    throw Napi::Error::New(info.Env(), "this identity has no private key");
  }
  uint8_t sig[vl1::kSignatureLen];
  identity_.sign(msg, len, sig);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), sig, sizeof sig);
}

Napi::Value IdentityWrapper::Verify(const Napi::CallbackInfo& info) {
  const uint8_t *msg, *sig;
  size_t len, sigLen;
  if (info.Length() < 2 || !asBytes(info[0], msg, len) || !asBytes(info[1], sig, sigLen)) {
    throw Napi::TypeError::New(info.Env(), "message and signature must be Uint8Arrays");
  }
  return Napi::Boolean::New(info.Env(), identity_.verify(msg, len, sig, sigLen));
}

Napi::Value IdentityWrapper::Agree(const Napi::CallbackInfo& info) {
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "expected a NativeIdentity");
  const vl1::Identity* other = IdentityOf(info[0]);
  if (other == nullptr) return info.Env().Undefined();
  if (!identity_.hasPrivate()) {
    throw Napi::Error::New(info.Env(), "this identity has no private key");
  }
  uint8_t key[vl1::kAgreedKeyLen];
  if (!identity_.agree(*other, key)) {
    throw Napi::Error::New(info.Env(), "key agreement failed (low-order public key)");
  }
  auto out = Napi::Buffer<uint8_t>::Copy(info.Env(), key, sizeof key);
  crypto::wipe(key, sizeof key);
  return out;
}

}  // namespace zts::addon
