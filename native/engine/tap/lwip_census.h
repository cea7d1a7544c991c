// How many TCP control blocks lwIP holds, by list: a cheap count (a walk of three linked
// lists) for metrics and for tests that check closed sockets leave nothing behind, and
// that TIME_WAIT empties as it should. Engine thread only, like every lwIP call.
#pragma once

#include <cstddef>

namespace zts::tap {

struct TcpPcbCensus {
  size_t listening = 0;
  size_t active = 0;  // SYN_SENT to LAST_ACK (bound pcbs not yet connected are not counted)
  size_t timeWait = 0;
};

TcpPcbCensus tcpPcbCensus();

}  // namespace zts::tap
