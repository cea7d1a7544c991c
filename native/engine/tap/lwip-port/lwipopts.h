/* lwIP's options for the addon (brief, decision 6): the raw API on the engine thread only,
 * and a TCP tuned for virtual Ethernet frames of ZeroTier's MTU on fast paths. Compiled
 * into the addon with lwIP's sources (scripts/third-party.js); nothing else sees it. */
#ifndef ZTS_LWIPOPTS_H
#define ZTS_LWIPOPTS_H

/* No OS layer, no tcpip thread, no locks: the engine thread owns lwIP (decision 3) and
 * drives its timers with sys_check_timeouts(). */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

/* Memory comes from malloc: pools sized by use, so a thousand connections (or ten) cost
 * what they hold, with no compile-time limit. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* Protocols: Ethernet with ARP, IPv4 and IPv6 with ND and MLD, ICMP, IGMP, UDP, TCP. */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ICMP 1
#define LWIP_ICMP6 1
#define LWIP_IGMP 1
#define LWIP_IPV6_MLD 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_NUM_ADDRESSES 6
#define MEMP_NUM_MLD6_GROUP 16
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 32
#define LWIP_ND6_QUEUEING 1
#define MEMP_NUM_ND6_QUEUE 32
/* Frames up to ZeroTier's largest MTU arrive whole: no IP fragments on a virtual LAN. */
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
/* On 64-bit the reassembly helper does not fit in the fragment header it overlays. */
#define IPV6_FRAG_COPYHEADER 1

/* Traffic to our own addresses loops inside lwIP (netif_poll(), called by the engine after
 * each batch), so a process reaches its own ZeroTier addresses. 127.0.0.1 stays the host's. */
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 0
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 0

#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
#define SO_REUSE 1
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_MULTICAST_TX_OPTIONS 1
#define LWIP_STATS 0
#define LWIP_NOASSERT_ON_ERROR 1

/* TCP. One segment fills one virtual frame: ZeroTier's default MTU is 2800, so an IPv4
 * segment carries 2760 bytes (lwIP lowers it per connection to the netif's MTU and the
 * peer's MSS; IPv6 gets 2740). Larger MTUs (up to 10000) are clamped to this MSS. */
#define TCP_MSS 2760
#define TCP_CALCULATE_EFF_SEND_MSS 1
/* Windows of 2 MiB with scaling: one connection is never window-bound on a lab network,
 * nor on a path of 40 ms at 40 MB/s. They are limits, not allocations: memory is used
 * only by bytes in flight or unread. */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 6
#define TCP_WND (2 * 1024 * 1024)
#define TCP_SND_BUF (2 * 1024 * 1024)
#define TCP_SND_QUEUELEN 0xfffe
/* The low-water marks serve only the netconn API, which is not built. */
#define TCP_SNDLOWAT (16 * 1024)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
/* Reopen the window in large steps: fewer pure window updates. */
#define TCP_WND_UPDATE_THRESHOLD (TCP_WND / 8)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_MAX_SACK_NUM 4
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_TIMESTAMPS 0
/* A finer TCP clock than lwIP's 250 ms: delayed ACKs go out within 50 ms and the
 * retransmission timer counts in 100 ms ticks, which matters on paths of a few ms. */
#define TCP_TMR_INTERVAL 50
/* Closed connections hold their port in TIME_WAIT for 2 x TCP_MSL. lwIP's defaults (16,384
 * ephemeral ports, 2 minutes) run out after 16,384 connections in a row to one peer; a
 * virtual LAN needs nothing near a 60 s segment lifetime; the range is about Linux's. */
#define TCP_MSL 5000UL
#define TCP_LOCAL_PORT_RANGE_START 0x8000
#define TCP_LOCAL_PORT_RANGE_END 0xffff
/* The random first port, into that range (lwIP asks for this with a range of one's own). */
#define TCP_ENSURE_LOCAL_PORT_RANGE(port) ((u16_t)((port) | 0x8000u))
#define TCP_LISTEN_BACKLOG 0
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff

/* Checksums are made for every packet we send (stock peers check them), but not checked
 * on receipt: every frame arrived inside a ZeroTier packet whose Poly1305 MAC was checked,
 * which a corrupted byte cannot pass. */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define CHECKSUM_CHECK_IP 0
#define CHECKSUM_CHECK_UDP 0
#define CHECKSUM_CHECK_TCP 0
#define CHECKSUM_CHECK_ICMP 1
#define CHECKSUM_CHECK_ICMP6 1
#define LWIP_CHECKSUM_ON_COPY 1

/* A pbuf pool is not used for received frames (the tap allocates PBUF_RAM of the frame's
 * size); keep the pool's buffers able to hold a full frame anyway. */
#define PBUF_POOL_BUFSIZE 10240

#endif
