// The invariants tcp_input_fuzz.cpp checks beyond ASan/UBSan, on the connection's pcb after
// every record (checkPcb) and on every segment the stack sends (Conn::checkSegment); what
// the application gets is checked as it gets it (Conn::onData, in tcp_input_harness.h):
//  - unacked and unsent are each in sequence order without overlap, and together cover
//    exactly [first, snd_lbb) with the first at or below lastack; snd_queuelen counts
//    their pbufs; snd_buf + their bytes is TCP_SND_BUF;
//  - sacked_bytes is the bytes of the unacked segments marked SACKed (no unsent one is
//    marked), and so at most the bytes in the two queues;
//  - lastack <= snd_nxt <= snd_lbb (+1 once our FIN went); lastack, snd_nxt, rcv_nxt
//    never go backwards;
//  - the stack's data is the bytes the application wrote, at their sequence numbers, and
//    never more than the largest window the peer advertised (+ one MSS) beyond lastack;
//  - it never acknowledges a byte the peer did not send (but see checkSegment: lwIP may
//    move a FIN); the application gets exactly the peer's stream, in order.
//
// Included by tcp_input_fuzz.cpp alone (one translation unit), hence the unnamed namespace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "tcp_input_harness.h"

namespace {

// A segment the stack sends to the peer.
void Conn::checkSegment(const uint8_t* t, size_t n) {
  const uint32_t seq = get32(t + 4), ack = get32(t + 8);
  const uint8_t flags = t[13];
  const size_t hlen = (t[12] >> 4) * 4u;
  ZTS_FUZZ_CHECK(hlen >= 20 && hlen <= n);
  const size_t len = n - hlen;
  if (flags & TCP_RST) return;  // a reset's numbers answer whatever came in
  if ((flags & TCP_SYN) != 0) {
    ZTS_FUZZ_CHECK(seq == kIss && len == 0);
    sawSynAck = true;
  }
  if (flags & TCP_ACK) {
    // Never acknowledges what the peer did not send. One exception, lwIP's own (not our
    // patches): a FIN queued out of order that later in-order data covers is moved to the
    // end of that data (tcp_receive), so a peer that sends data beyond its FIN gets that
    // FIN acknowledged after the data.
    const int64_t acked = static_cast<int32_t>(ack - (kPeerIss + 1));
    ZTS_FUZZ_CHECK(acked <= peerSentEnd + (peerSentFin ? 1 : 0));
  }
  if (len == 0) return;
  // The application's bytes, at their place in the stream.
  const uint32_t k = seq - (kIss + 1);
  ZTS_FUZZ_CHECK(uint64_t{k} + len <= written);
  for (size_t i = 0; i < len; ++i) ZTS_FUZZ_CHECK(t[hlen + i] == stackByte(uint64_t{k} + i));
  // Within the peer's window (the largest it advertised: the window when a segment
  // first left may since have shrunk), plus a segment for probes.
  const tcp_pcb* p = findPcb();
  if (p != nullptr) {
    ZTS_FUZZ_CHECK(uint64_t{seq + static_cast<uint32_t>(len) - p->lastack} <= maxWindow + p->mss);
  }
}

// The invariants of the connection's pcb, after each record.
void checkPcb() {
  tcp_pcb* p = findPcb();
  if (p != gConn->pcb) {
    gConn->pcb = p;  // gone (or, before the handshake, new): nothing to compare with
    if (p != nullptr) {
      gConn->lastack = p->lastack;
      gConn->sndNxt = p->snd_nxt;
      gConn->rcvNxt = p->rcv_nxt;
    }
    return;
  }
  if (p == nullptr) return;
  ZTS_FUZZ_CHECK(TCP_SEQ_GEQ(p->lastack, gConn->lastack));
  ZTS_FUZZ_CHECK(TCP_SEQ_GEQ(p->snd_nxt, gConn->sndNxt));
  ZTS_FUZZ_CHECK(TCP_SEQ_GEQ(p->rcv_nxt, gConn->rcvNxt));
  ZTS_FUZZ_CHECK(TCP_SEQ_LEQ(p->lastack, p->snd_nxt));
  // Once our FIN has gone, snd_nxt counts it: one past snd_lbb (which counts data only).
  const bool finSent = p->state == FIN_WAIT_1 || p->state == FIN_WAIT_2 || p->state == CLOSING ||
                       p->state == LAST_ACK || p->state == TIME_WAIT;
  ZTS_FUZZ_CHECK(TCP_SEQ_LEQ(p->snd_nxt, p->snd_lbb + (finSent ? 1u : 0u)));
  gConn->lastack = p->lastack;
  gConn->sndNxt = p->snd_nxt;
  gConn->rcvNxt = p->rcv_nxt;

  struct Span {
    uint32_t seq, len;
    bool fin;
  };
  std::vector<Span> spans;
  uint64_t bytes = 0, pbufs = 0, sacked = 0;
  for (tcp_seg* q : {p->unacked, p->unsent}) {
    for (tcp_seg* s = q; s != nullptr; s = s->next) {
      // The scoreboard: SACKed segments of the unacked queue only, counted exactly.
      if ((s->flags & TF_SEG_SACKED) != 0) {
        ZTS_FUZZ_CHECK(q == p->unacked);
        sacked += s->len;
      }
      const uint32_t seq = lwip_ntohl(s->tcphdr->seqno);
      if (s->next != nullptr)
        ZTS_FUZZ_CHECK(TCP_SEQ_GEQ(lwip_ntohl(s->next->tcphdr->seqno), seq + TCP_TCPLEN(s)));
      spans.push_back(
          {seq, static_cast<uint32_t>(TCP_TCPLEN(s)), (TCPH_FLAGS(s->tcphdr) & TCP_FIN) != 0});
      bytes += s->len;
      pbufs += pbuf_clen(s->p);
    }
  }
  ZTS_FUZZ_CHECK(pbufs == p->snd_queuelen);
  ZTS_FUZZ_CHECK(bytes + p->snd_buf == TCP_SND_BUF);
  ZTS_FUZZ_CHECK(p->sacked_bytes <= bytes);
  ZTS_FUZZ_CHECK(p->sacked_bytes == sacked);
  if (spans.empty()) return;
  const uint32_t base = spans.front().seq - 0x40000000u;  // below all of them
  std::sort(spans.begin(), spans.end(),
            [base](const Span& a, const Span& b) { return a.seq - base < b.seq - base; });
  ZTS_FUZZ_CHECK(TCP_SEQ_LEQ(spans.front().seq, p->lastack));
  for (size_t i = 1; i < spans.size(); ++i)
    ZTS_FUZZ_CHECK(spans[i].seq == spans[i - 1].seq + spans[i - 1].len);
  // tcp_send_fin sets FIN on the last unsent segment, if it can, without counting it in
  // snd_lbb.
  const uint32_t end = spans.back().seq + spans.back().len;
  ZTS_FUZZ_CHECK(end == p->snd_lbb || (spans.back().fin && end == p->snd_lbb + 1));
}

}  // namespace
