// The network "rules" JSON (lab/rules_json), both ways: byte 0 picks the direction.
//   0 JSON text -> rules bytes: what is accepted must be a valid rules table that writes
//     back to JSON reading to the same bytes
//   1 rules bytes (the `R` blob of a config) -> JSON: a table that parses must come back
//     from its JSON byte for byte (the saved state's promise, RAW rules included)
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "lab/rules_json.h"
#include "util/json.h"
#include "vl2/rules.h"

using namespace zts;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t* in = data + 1;
  const size_t n = size - 1;
  if (data[0] % 2 == 0) {
    const auto v = util::json::parse(std::string_view(reinterpret_cast<const char*>(in), n));
    if (!v) return 0;
    std::vector<uint8_t> rules = {0xaa};  // untouched on refusal
    const std::string err = lab::rulesFromJson(*v, rules);
    if (!err.empty()) {
      ZTS_FUZZ_CHECK(rules == std::vector<uint8_t>{0xaa});
      return 0;
    }
    ZTS_FUZZ_CHECK(vl2::parseRules(rules.data(), rules.size()).has_value());
    std::vector<uint8_t> again;
    ZTS_FUZZ_CHECK(lab::rulesFromJson(lab::rulesToJson(rules), again).empty());
    ZTS_FUZZ_CHECK(again == rules);
    return 0;
  }
  const std::vector<uint8_t> rules(in, in + n);
  if (!vl2::parseRules(rules.data(), rules.size())) return 0;
  const util::json::Value json = lab::rulesToJson(rules);
  // Through text too, as the state file stores it.
  const auto text = util::json::parse(util::json::write(json, 2));
  ZTS_FUZZ_CHECK(text.has_value());
  std::vector<uint8_t> back;
  const std::string err = lab::rulesFromJson(*text, back);
  if (json.size() > 1024) {
    ZTS_FUZZ_CHECK(!err.empty());
    return 0;
  }
  ZTS_FUZZ_CHECK(err.empty());
  ZTS_FUZZ_CHECK(back == rules);
  return 0;
}
