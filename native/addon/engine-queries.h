// Snapshots of the core's state as JSON, built on the engine thread for query replies.
#pragma once

#include <string>

#include "../engine/vl1/node_core.h"

namespace zts::addon {

std::string countersJson(const vl1::NodeCore& core);
std::string peersJson(vl1::NodeCore& core, int64_t now);
std::string statusJson(const vl1::NodeCore& core);
std::string networksJson(const vl1::NodeCore& core);

}  // namespace zts::addon
