// The lab controller's JSON input (the HTTP API's bodies and the saved state file), through
// nlohmann-json and our readers on top of it: byte 0 picks the entry point, the rest is the
// text.
//   0 loadState (controller.json as read at start)
//   1 POST /controller/network/<nwid> (update, or create when absent)
//   2 POST /controller/network/<nwid>/member/<address>
//   3 POST /controller/network/<controller>______ (create)
// Whatever is accepted must leave a state that saves, loads back and saves the same bytes;
// whatever is refused must change nothing.
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "lab/controller.h"

namespace {

using namespace zts;

constexpr int64_t kNow = 1795254852081;

// A controller with one network and one member, so that updates have something to update.
lab::Controller fresh(uint64_t& nwid) {
  lab::Controller c(fuzz::pair().a);
  lab::NetworkSettings s;
  s.name = "fuzz";
  ZTS_FUZZ_CHECK(c.createNetwork(1, s, kNow, &nwid).empty());
  lab::MemberSettings m;
  m.authorized = true;
  ZTS_FUZZ_CHECK(c.setMember(nwid, fuzz::pair().b.address(), m, kNow).empty());
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  uint64_t nwid = 0;
  lab::Controller c = fresh(nwid);
  const std::string before = c.saveState();
  std::string err;
  switch (data[0] % 4) {
    case 0: {
      std::string why;
      const bool ok = c.loadState(text, &why);
      ZTS_FUZZ_CHECK(ok || !why.empty());
      if (!ok) ZTS_FUZZ_CHECK(c.saveState() == before);
      return 0;
    }
    case 1:
      err = c.applyNetworkJson(nwid, text, kNow);
      break;
    case 2:
      err = c.applyMemberJson(nwid, fuzz::pair().b.address(), text, kNow);
      break;
    case 3: {
      uint64_t created = 0;
      err = c.createNetworkJson(text, kNow, &created);
      if (err.empty()) ZTS_FUZZ_CHECK(!c.networkJson(created).empty());
      break;
    }
  }
  const std::string after = c.saveState();
  if (!err.empty()) {
    ZTS_FUZZ_CHECK(after == before);  // a refused body changes nothing
    return 0;
  }
  // An accepted change round-trips through the state file.
  lab::Controller reloaded(fuzz::pair().a);
  std::string why;
  ZTS_FUZZ_CHECK(reloaded.loadState(after, &why));
  ZTS_FUZZ_CHECK(reloaded.saveState() == after);
  return 0;
}
