/* A fixed pool of worker threads draining one FIFO of jobs. nng callbacks
 * push here and return at once; storage and provider work runs here. */
#ifndef SBX_SERVER_WORKQ_H
#define SBX_SERVER_WORKQ_H

#include "err.h"

typedef struct workq workq;
typedef void (*workq_fn)(void *arg);

/* Starts `threads` workers. `on_exit` (may be NULL) runs in each worker
 * as it stops, to release thread-local resources. */
sbx_status workq_start(workq **out, int threads, void (*on_exit)(void), err_t *e);

/* Queues a job; never blocks on the work itself. The job struct is the
 * caller's and must stay valid until fn runs. */
typedef struct workq_job {
	struct workq_job *next;
	workq_fn fn;
	void *arg;
} workq_job;
void workq_push(workq *q, workq_job *job);

/* Runs the jobs already queued, then joins the workers and frees `q`. */
void workq_stop(workq *q);

#endif
