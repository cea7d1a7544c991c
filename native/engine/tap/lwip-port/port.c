/* What lwIP asks of its platform when built with NO_SYS=1 (lwipopts.h beside this file): a
 * millisecond clock for its timers, and random numbers. Both are called on the engine
 * thread only. Compiled with lwIP's sources (CMakeLists.txt, scripts/third-party.js). */
#include <sodium.h>
#include <time.h>

#include "lwip/arch.h"
#include "lwip/sys.h"

u32_t sys_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  /* Wraps every 49 days; lwIP compares times by difference, which survives the wrap. */
  return (u32_t)((u64_t)ts.tv_sec * 1000u + (u64_t)ts.tv_nsec / 1000000u);
}

unsigned int zts_lwip_random(void) {
  return randombytes_random();
}
