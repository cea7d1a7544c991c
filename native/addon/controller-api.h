// The lab controller inside the engine: answers config requests through the core, and
// serves the stock controller's JSON API operations (routed by the TS HTTP server).
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "../engine/lab/controller.h"
#include "../engine/vl1/node_core.h"

namespace zts::addon {

class ControllerApi {
 public:
  ControllerApi(const vl1::Identity& identity, const std::string& state, std::string* error);

  // For CoreOptions::configRequestHandler.
  vl1::ConfigReply answer(int64_t now, const vl1::Identity& member, uint64_t nwid,
                          const std::vector<uint8_t>& metadata);

  // One API operation; returns {"status":N,"body":...} as JSON text. Operations that
  // change membership push new configs (or loss of access) to the members concerned.
  // op: controller | networks | network-get | network-post | network-create |
  // network-delete | members | member-get | member-post | member-delete | state
  std::string call(vl1::NodeCore& core, int64_t now, const std::string& op, const std::string& nwid,
                   const std::string& member, const std::string& body);

 private:
  void pushRefreshes(vl1::NodeCore& core, int64_t now, uint64_t nwid);
  lab::Controller controller_;
};

// exports.checkControllerState(controllerIdentity, stateText) -> "" when the lab's saved
// state loads, else why not: the lab refuses to start on a state it would otherwise drop.
void RegisterControllerFunctions(Napi::Env env, Napi::Object exports);

}  // namespace zts::addon
