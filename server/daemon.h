/* What the running daemon is: set once at start-up, read by services. */
#ifndef SBX_SERVER_DAEMON_H
#define SBX_SERVER_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#define SBX_VERSION "0.1.0"

struct daemon_info {
	const char *event_address;
	const char *const *listen;
	size_t n_listen;
	char boot_id[40];
	int64_t started_at_ms;
	size_t max_message;
	const char *data_dir;
	volatile int serving; /* 0 once shutdown began */
};

extern struct daemon_info daemon_info;

/* The serialized FileDescriptorSet of proto/ (generated at build time). */
extern const unsigned char sbx_fds[];
extern const size_t sbx_fds_len;

#endif
