#ifndef SBX_COMMON_CLOCK_H
#define SBX_COMMON_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds / microseconds, for deadlines and timings. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);

/* Wall clock, Unix milliseconds. */
int64_t clock_wall_ms(void);

/* Current UTC time as "2026-11-25T04:30:00Z" (buf of at least 32). */
void clock_rfc3339(char *buf, size_t cap);
/* The same with milliseconds: "2026-11-25T04:30:00.123Z". */
void clock_rfc3339_ms(char *buf, size_t cap);

#endif
