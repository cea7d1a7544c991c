// Snapshots of the core's state as JSON, built on the engine thread for query replies.
#pragma once

#include <string>

#include "../engine/vl1/node_core.h"
#include "socket-bridge.h"

namespace zts::addon {

// The core's counters, and a census of the sockets: ids the bridge maps, sockets the
// table holds, and lwIP's TCP control blocks by list.
std::string countersJson(const vl1::NodeCore& core, const SocketBridge& sockets);
std::string peersJson(vl1::NodeCore& core, int64_t now);
std::string statusJson(const vl1::NodeCore& core);
std::string networksJson(const vl1::NodeCore& core);

}  // namespace zts::addon
