#include "inspect-binding.h"

#include <vector>

#include "../engine/vl1/identity.h"
#include "../engine/vl1/packet.h"

namespace zts::addon {
namespace {

namespace proto = vl1::proto;

bool isUint8Array(Napi::Value v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

void setVerb(Napi::Object& result, uint8_t verbByte) {
  result.Set("verb", proto::verbName(verbByte));
  result.Set("verbCode", verbByte & proto::kMaskVerb);
}

// inspectPacket(packet, key): works on a copy, so the caller's bytes stay as captured.
Napi::Value InspectPacket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !isUint8Array(info[0]) || !isUint8Array(info[1])) {
    throw Napi::TypeError::New(env, "packet and key must be Uint8Arrays");
  }
  auto packet = info[0].As<Napi::Uint8Array>();
  auto key = info[1].As<Napi::Uint8Array>();
  if (key.ByteLength() != vl1::kAgreedKeyLen) {
    throw Napi::TypeError::New(env, "key must be the 48-byte key two identities agree on");
  }

  Napi::Object result = Napi::Object::New(env);
  const size_t len = packet.ByteLength();
  // No receiver accepts a packet shorter than its header or longer than 7 datagrams.
  if (len < proto::kHeaderLen || len > proto::kMaxPacketLen) {
    result.Set("mac", "bad");
    return result;
  }
  std::vector<uint8_t> copy(packet.Data(), packet.Data() + len);
  const unsigned cipher = vl1::HeaderView{copy.data()}.cipher();
  const uint8_t clearVerb = copy[proto::kIdxVerb];  // in clear only under cipher 0

  switch (vl1::dearmor(copy.data(), copy.size(), key.Data())) {
    case vl1::DearmorResult::kUnsupportedCipher:
      result.Set("mac", "unsupported-cipher");
      return result;
    case vl1::DearmorResult::kTooShort:
    case vl1::DearmorResult::kBadMac:
      result.Set("mac", "bad");
      if (cipher == proto::kCipherPoly1305None) setVerb(result, clearVerb);
      return result;
    case vl1::DearmorResult::kOk:
      break;
  }
  result.Set("mac", "ok");
  const uint8_t verbByte = copy[proto::kIdxVerb];
  setVerb(result, verbByte);
  const bool compressed = (verbByte & proto::kVerbFlagCompressed) != 0;
  result.Set("compressed", compressed);
  if (compressed && !vl1::uncompressPayload(copy)) result.Set("inflateFailed", true);
  return result;
}

}  // namespace

void RegisterInspect(Napi::Env env, Napi::Object exports) {
  exports.Set("inspectPacket", Napi::Function::New<InspectPacket>(env, "inspectPacket"));
}

}  // namespace zts::addon
