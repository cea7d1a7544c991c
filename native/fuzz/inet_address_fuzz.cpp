// InetAddress::read, the endpoint encoding in HELLO, OK(HELLO) and Worlds (protocol.md §4).
// The input is read as consecutive addresses; each must write back to serializedSize()
// bytes that read back equal, and convert to and from text and sockaddr losslessly. The
// input is also parsed as endpoint text ("1.2.3.4/9993", "[::1]:9993").
#include <sys/socket.h>

#include <string>
#include <vector>

#include "fuzz_support.h"
#include "vl1/inet_address.h"

namespace {

using namespace zts;
using vl1::InetAddress;

volatile size_t gSink;

void checkAddress(const InetAddress& a) {
  std::vector<uint8_t> bytes;
  util::Writer w(bytes);
  a.write(w);
  ZTS_FUZZ_CHECK(bytes.size() == a.serializedSize());
  util::Reader r(bytes.data(), bytes.size());
  ZTS_FUZZ_CHECK(InetAddress::read(r) == a && r.ok() && r.remaining() == 0);

  gSink = a.isUsablePath(false) + a.isUsablePath(true) + a.isLoopback();
  if (a.isNil()) {
    ZTS_FUZZ_CHECK(a.toString().empty());
    return;
  }
  const auto parsed = InetAddress::parse(a.toString());
  ZTS_FUZZ_CHECK(parsed.has_value() && *parsed == a);
  sockaddr_storage ss;
  ZTS_FUZZ_CHECK(a.toSockaddr(&ss) != 0);
  const auto back = InetAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
  ZTS_FUZZ_CHECK(back.has_value() && *back == a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  util::Reader r(data, size);
  while (r.remaining() > 0) {
    const InetAddress a = InetAddress::read(r);
    if (!r.ok()) {
      ZTS_FUZZ_CHECK(a.isNil());  // a half-read address must not escape
      break;
    }
    checkAddress(a);
  }

  const auto text = InetAddress::parse(std::string(reinterpret_cast<const char*>(data), size));
  if (text) checkAddress(*text);
  return 0;
}
