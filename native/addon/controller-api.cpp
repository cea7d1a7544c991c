#include "controller-api.h"

#include "../engine/util/json.h"
#include "../engine/vl2/dictionary.h"

namespace zts::addon {
namespace {

vl1::ConfigReply convert(const lab::ConfigReply& r) {
  vl1::ConfigReply out;
  switch (r.status) {
    case lab::ConfigReply::Status::kConfig:
      out.kind = vl1::ConfigReply::Kind::kConfig;
      out.chunks = r.chunks;
      break;
    case lab::ConfigReply::Status::kAccessDenied:
      out.kind = vl1::ConfigReply::Kind::kAccessDenied;
      break;
    case lab::ConfigReply::Status::kNotFound:
      out.kind = vl1::ConfigReply::Kind::kNotFound;
      break;
  }
  return out;
}

// The body is already JSON text (ours), so it is embedded as it is rather than re-parsed.
std::string reply(int status, const std::string& body) {
  return "{\"status\":" + std::to_string(status) + ",\"body\":" + (body.empty() ? "null" : body) +
         "}";
}

std::string errorBody(const std::string& message) {
  return util::json::write(util::json::Value{{"error", message}});
}

}  // namespace

ControllerApi::ControllerApi(const vl1::Identity& identity, const std::string& state,
                             std::string* error)
    : controller_(identity) {
  if (!state.empty()) controller_.loadState(state, error);
}

vl1::ConfigReply ControllerApi::answer(int64_t now, const vl1::Identity& member, uint64_t nwid,
                                       const std::vector<uint8_t>& metadata) {
  const auto md = vl2::Dictionary::parse(metadata.data(), metadata.size());
  return convert(controller_.handleConfigRequest(now, member, nwid, md));
}

void ControllerApi::pushRefreshes(vl1::NodeCore& core, int64_t now, uint64_t nwid) {
  for (uint64_t member : controller_.membersToRefresh(nwid))
    core.pushConfig(now, member, nwid, convert(controller_.configFor(now, nwid, member)));
}

std::string ControllerApi::call(vl1::NodeCore& core, int64_t now, const std::string& op,
                                const std::string& nwidText, const std::string& memberText,
                                const std::string& body) {
  if (op == "state") return reply(200, controller_.saveState());
  if (op == "controller") {
    return reply(200,
                 "{\"controller\":true,\"apiVersion\":4,\"clock\":" + std::to_string(now) + "}");
  }
  if (op == "networks") return reply(200, controller_.networksJson());
  if (op == "network-create") {
    uint64_t nwid = 0;
    const std::string err = controller_.createNetworkJson(body, now, &nwid);
    if (!err.empty()) return reply(400, errorBody(err));
    return reply(200, controller_.networkJson(nwid));
  }
  const auto nwid = lab::parseNwid(nwidText);
  if (!nwid) return reply(400, errorBody("bad network id"));
  if (op == "network-get") {
    const auto json = controller_.networkJson(*nwid);
    return json.empty() ? reply(404, errorBody("network not found")) : reply(200, json);
  }
  if (op == "network-post") {
    const std::string err = controller_.applyNetworkJson(*nwid, body, now);
    if (!err.empty()) return reply(400, errorBody(err));
    pushRefreshes(core, now, *nwid);
    return reply(200, controller_.networkJson(*nwid));
  }
  if (op == "network-delete") {
    const auto json = controller_.networkJson(*nwid);
    if (json.empty()) return reply(404, errorBody("network not found"));
    const auto members = controller_.members(*nwid);
    controller_.deleteNetwork(*nwid);
    for (uint64_t m : members) core.pushConfig(now, m, *nwid, vl1::ConfigReply{});
    return reply(200, json);
  }
  if (op == "members") {
    if (controller_.networkJson(*nwid).empty()) return reply(404, errorBody("network not found"));
    return reply(200, controller_.membersJson(*nwid));
  }
  const auto member = lab::parseMemberAddress(memberText);
  if (!member) return reply(400, errorBody("bad member id"));
  if (op == "member-get") {
    const auto json = controller_.memberJson(*nwid, *member);
    return json.empty() ? reply(404, errorBody("member not found")) : reply(200, json);
  }
  if (op == "member-post") {
    if (controller_.networkJson(*nwid).empty()) return reply(404, errorBody("network not found"));
    const std::string err = controller_.applyMemberJson(*nwid, *member, body, now);
    if (!err.empty()) return reply(400, errorBody(err));
    pushRefreshes(core, now, *nwid);
    return reply(200, controller_.memberJson(*nwid, *member));
  }
  if (op == "member-delete") {
    const auto json = controller_.memberJson(*nwid, *member);
    if (json.empty()) return reply(404, errorBody("member not found"));
    controller_.deleteMember(*nwid, *member);
    pushRefreshes(core, now, *nwid);
    return reply(200, json);
  }
  return reply(400, errorBody("unknown operation"));
}

namespace {

Napi::Value CheckControllerState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "checkControllerState(identity, state)");
  }
  const auto identity = vl1::Identity::fromString(info[0].As<Napi::String>().Utf8Value());
  if (!identity) throw Napi::TypeError::New(env, "checkControllerState: not an identity");
  // loadState needs only the controller's address: the public half will do.
  lab::Controller controller(vl1::Identity(identity->address(), identity->publicKey()));
  std::string error;
  if (controller.loadState(info[1].As<Napi::String>().Utf8Value(), &error))
    error.clear();
  else if (error.empty())
    error = "does not load";
  return Napi::String::New(env, error);
}

}  // namespace

void RegisterControllerFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("checkControllerState",
              Napi::Function::New<CheckControllerState>(env, "checkControllerState"));
}

}  // namespace zts::addon
