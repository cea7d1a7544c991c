#include "world-functions.h"

#include "../engine/vl1/world.h"

namespace zts::addon {
namespace {

Napi::Value describe(Napi::Env env, const vl1::World& w) {
  auto o = Napi::Object::New(env);
  o.Set("type", w.type() == vl1::World::Type::kPlanet ? "planet" : "moon");
  o.Set("id", Napi::BigInt::New(env, w.id()));
  o.Set("timestamp", Napi::Number::New(env, static_cast<double>(w.timestamp())));
  o.Set("updatesMustBeSignedBy",
        Napi::Buffer<uint8_t>::Copy(env, w.updatesMustBeSignedBy().data(), 64));
  o.Set("signatureValid", w.verifySignature(w.updatesMustBeSignedBy().data()));
  auto roots = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& r : w.roots()) {
    auto ro = Napi::Object::New(env);
    ro.Set("identity", r.identity.toString(false));
    auto eps = Napi::Array::New(env);
    uint32_t j = 0;
    for (const auto& ep : r.stableEndpoints) eps.Set(j++, ep.toString());
    ro.Set("endpoints", eps);
    roots.Set(i++, ro);
  }
  o.Set("roots", roots);
  return o;
}

Napi::Value ParsePlanet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "data must be a Uint8Array");
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  size_t used = 0;
  auto w = vl1::World::parse(bytes.Data(), bytes.ByteLength(), &used);
  if (!w || used != bytes.ByteLength()) return env.Null();
  return describe(env, *w);
}

Napi::Value EarthPlanet(const Napi::CallbackInfo& info) {
  auto bytes = vl1::World::earth().serialize();
  return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
}

// makePlanet({ id: bigint, timestamp, roots: [{ identity, endpoints: string[] }],
//              signingKey: Uint8Array(128) }) -> Buffer | null
Napi::Value MakePlanet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "spec");
  auto spec = info[0].As<Napi::Object>();
  bool lossless = false;
  const uint64_t id = spec.Get("id").As<Napi::BigInt>().Uint64Value(&lossless);
  const auto timestamp =
      static_cast<uint64_t>(spec.Get("timestamp").As<Napi::Number>().Int64Value());
  auto key = spec.Get("signingKey").As<Napi::Uint8Array>();
  if (key.ByteLength() != 128) throw Napi::RangeError::New(env, "signingKey must be 128 bytes");
  std::vector<vl1::WorldRoot> roots;
  auto list = spec.Get("roots").As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    auto r = list.Get(i).As<Napi::Object>();
    auto identity = vl1::Identity::fromString(r.Get("identity").As<Napi::String>().Utf8Value());
    if (!identity) throw Napi::TypeError::New(env, "roots[].identity is not an identity");
    vl1::WorldRoot root{vl1::Identity(identity->address(), identity->publicKey()), {}};
    auto eps = r.Get("endpoints").As<Napi::Array>();
    for (uint32_t j = 0; j < eps.Length(); ++j) {
      auto ep = vl1::InetAddress::parse(eps.Get(j).As<Napi::String>().Utf8Value());
      if (!ep) throw Napi::TypeError::New(env, "roots[].endpoints has a malformed endpoint");
      root.stableEndpoints.push_back(*ep);
    }
    roots.push_back(std::move(root));
  }
  auto w = vl1::World::make(vl1::World::Type::kPlanet, id, timestamp, roots, key.Data());
  if (!w) return env.Null();
  auto bytes = w->serialize();
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

}  // namespace

void RegisterWorld(Napi::Env env, Napi::Object exports) {
  exports.Set("parsePlanet", Napi::Function::New<ParsePlanet>(env, "parsePlanet"));
  exports.Set("makePlanet", Napi::Function::New<MakePlanet>(env, "makePlanet"));
  exports.Set("earthPlanet", Napi::Function::New<EarthPlanet>(env, "earthPlanet"));
}

}  // namespace zts::addon
