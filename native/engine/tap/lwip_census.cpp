#include "tap/lwip_census.h"

extern "C" {
#include <lwip/priv/tcp_priv.h>
}

namespace zts::tap {
namespace {
template <typename Pcb>
size_t lengthOf(const Pcb* list) {
  size_t n = 0;
  for (const Pcb* p = list; p != nullptr; p = p->next) ++n;
  return n;
}
}  // namespace

TcpPcbCensus tcpPcbCensus() {
  TcpPcbCensus c;
  c.listening = lengthOf(tcp_listen_pcbs.listen_pcbs);
  c.active = lengthOf(tcp_active_pcbs);
  c.timeWait = lengthOf(tcp_tw_pcbs);
  return c;
}

}  // namespace zts::tap
