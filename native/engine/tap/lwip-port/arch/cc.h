/* lwIP's platform header for the addon: Linux/glibc, one thread (NO_SYS), C and C++. */
#ifndef ZTS_LWIP_ARCH_CC_H
#define ZTS_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* glibc has struct timeval and the errno values. */
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    printf x;                 \
  } while (0)
/* An lwIP assertion is a bug of ours: stop loudly rather than corrupt the stack. */
#define LWIP_PLATFORM_ASSERT(x)                                                               \
  do {                                                                                        \
    fprintf(stderr, "zerotier-sockets: lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, \
            __LINE__);                                                                        \
    abort();                                                                                  \
  } while (0)

#ifdef __cplusplus
extern "C" {
#endif
/* Random numbers for lwIP (initial ports, IPv6 and IGMP timers): libsodium's generator. */
unsigned int zts_lwip_random(void);
#ifdef __cplusplus
}
#endif
#define LWIP_RAND() ((u32_t)zts_lwip_random())

#endif
