/* The Docker provider's pieces that are used (and tested) on their own:
 * the exec stream decoder, image pull progress, and the list of containers
 * labelled as ours. */
#ifndef SBX_PROVIDERS_DOCKER_H
#define SBX_PROVIDERS_DOCKER_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

extern const provider_ops docker_provider;

/* Docker's multiplexed stream: frames of an 8-byte header (byte 0: 1
 * stdout, 2 stderr; bytes 4-7: big-endian length) and a payload, split
 * anywhere by the transport. */
typedef struct docker_demux {
	uint8_t hdr[8];
	size_t hlen;
	size_t left;
	int stream;
} docker_demux;

void docker_demux_init(docker_demux *d);
/* Returns -1 when `fn` asked to stop. */
int docker_demux_feed(docker_demux *d, const uint8_t *p, size_t n, exec_output_fn fn, void *arg);

#define DOCKER_PULL_MAX_LAYERS 64
typedef struct docker_pull_progress {
	struct {
		char id[72];
		int64_t current;
		int64_t total;
	} layers[DOCKER_PULL_MAX_LAYERS];
	int n_layers;
	int64_t current;
	int64_t total;
	char error[512];
} docker_pull_progress;

void docker_pull_progress_init(docker_pull_progress *p);
/* Feeds one JSON line of POST /images/create output. */
void docker_pull_progress_line(docker_pull_progress *p, const char *line, size_t len);


#endif
