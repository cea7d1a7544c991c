// The network "rules" array of the controller JSON, both ways. The stock controller's field
// names ("type", "not", "or", "zt", "mac", "ip", "ipProtocol", "etherType", "start", "end")
// for the actions and matches a lab needs; any other rule is written as
// {"type": "RAW", "raw": "<hex of type ‖ length ‖ value>"} (our extension) and read back
// the same way, so a saved state always round-trips the exact `R` bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../util/json.h"

namespace zts::lab {

// `rules` must parse (vl2::parseRules); a malformed table yields an empty array.
util::json::Value rulesToJson(const std::vector<uint8_t>& rules);
// "" and the `R` bytes in `out`, or an error message (and `out` untouched).
std::string rulesFromJson(const util::json::Value& v, std::vector<uint8_t>& out);

}  // namespace zts::lab
