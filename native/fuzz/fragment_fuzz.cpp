// Fragment reassembly (protocol.md §2.6). The input is a sequence of datagrams for one
// Reassembler on a fake clock, each encoded as
//   ctl(1) length(2, big-endian, clipped to what is left) bytes(length)
// where ctl & 0x3f advances the clock in 100 ms steps (the timeout is 5 s), ctl & 0x40 runs
// expire(), and ctl & 0x80 hands the datagram to the entry point for the other kind (head
// vs fragment) to test their guards. Then the whole input, as a packet, is split with
// forEachDatagram at an MTU taken from its first bytes and reassembled in reverse order:
// it must come back byte for byte.
#include <algorithm>
#include <vector>

#include "fuzz_support.h"
#include "vl1/fragment.h"

namespace {

using namespace zts;
namespace proto = vl1::proto;
using Result = vl1::Reassembler::Result;

void checkComplete(Result r, const std::vector<uint8_t>& out) {
  if (r != Result::kComplete) return;
  ZTS_FUZZ_CHECK(out.size() >= proto::kHeaderLen && out.size() <= proto::kMaxPacketLen);
  ZTS_FUZZ_CHECK(vl1::HeaderView{out.data()}.fragmented());
}

void replay(const uint8_t* data, size_t size) {
  vl1::Reassembler re;
  int64_t now = 1700000000000;
  std::vector<uint8_t> out;
  size_t pos = 0;
  while (size - pos >= 3) {
    const uint8_t ctl = data[pos];
    size_t len = (size_t{data[pos + 1]} << 8) | data[pos + 2];
    pos += 3;
    len = std::min(len, size - pos);
    const uint8_t* d = data + pos;
    pos += len;

    now += (ctl & 0x3f) * 100;
    if ((ctl & 0x40) != 0) re.expire(now);
    // The core routes on isFragment(); the 0x80 bit routes the other way.
    const bool asFragment = vl1::isFragment(d, len) != ((ctl & 0x80) != 0);
    const Result r = asFragment ? re.addFragment(d, len, now, out) : re.addHead(d, len, now, out);
    checkComplete(r, out);
    ZTS_FUZZ_CHECK(re.inFlight() <= vl1::Reassembler::kSlots);
  }
}

void splitAndJoin(const uint8_t* data, size_t size) {
  if (size < proto::kHeaderLen + 2) return;
  const size_t mtu = 64 + ((size_t{data[0]} << 8 | data[1]) % 1500);
  std::vector<uint8_t> packet(data, data + size);
  // Byte 13 is the first source address byte, never 0xff in a real packet (reserved),
  // which is what lets receivers tell a head from a fragment.
  if (packet[proto::kIdxFragmentIndicator] == proto::kFragmentIndicator) {
    packet[proto::kIdxFragmentIndicator] = 0;
  }
  const bool fragmented = packet.size() > mtu;
  if (fragmented) {
    packet[proto::kIdxFlags] |= proto::kFlagFragmented;
  } else {
    packet[proto::kIdxFlags] &= static_cast<uint8_t>(~proto::kFlagFragmented);
  }

  std::vector<std::vector<uint8_t>> pieces;
  const bool sent =
      vl1::forEachDatagram(packet.data(), packet.size(), mtu, [&](const uint8_t* d, size_t n) {
        ZTS_FUZZ_CHECK(n <= mtu);
        pieces.emplace_back(d, d + n);
      });
  const size_t count = vl1::datagramCount(packet.size(), mtu);
  ZTS_FUZZ_CHECK(sent == (count >= 1 && count <= proto::kMaxFragments));
  if (!sent) return;
  ZTS_FUZZ_CHECK(pieces.size() == count);
  if (!fragmented) return;

  vl1::Reassembler re;
  std::vector<uint8_t> out;
  const int64_t now = 1700000000000;
  for (size_t i = pieces.size(); i-- > 0;) {
    const auto& d = pieces[i];
    ZTS_FUZZ_CHECK(vl1::isFragment(d.data(), d.size()) == (i != 0));
    const Result r = i != 0 ? re.addFragment(d.data(), d.size(), now, out)
                            : re.addHead(d.data(), d.size(), now, out);
    ZTS_FUZZ_CHECK(r == (i == 0 ? Result::kComplete : Result::kIncomplete));
  }
  ZTS_FUZZ_CHECK(out == packet);
  ZTS_FUZZ_CHECK(re.inFlight() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  replay(data, size);
  splitAndJoin(data, size);
  return 0;
}
