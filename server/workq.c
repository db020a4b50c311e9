#include <pthread.h>
#include <stdlib.h>

#include "workq.h"

struct workq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	workq_job *head;
	workq_job *tail;
	int stopping;
	int nthreads;
	void (*on_exit)(void);
	pthread_t threads[];
};

static void *worker(void *arg)
{
	workq *q = arg;
	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->head == NULL && !q->stopping) {
			pthread_cond_wait(&q->cv, &q->mu);
		}
		workq_job *j = q->head;
		if (j == NULL) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		q->head = j->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		pthread_mutex_unlock(&q->mu);
		j->fn(j->arg);
	}
	if (q->on_exit != NULL) {
		q->on_exit();
	}
	return NULL;
}

sbx_status workq_start(workq **out, int threads, void (*on_exit)(void), err_t *e)
{
	workq *q = calloc(1, sizeof(*q) + (size_t)threads * sizeof(pthread_t));
	if (q == NULL) {
		return err_set(e, SBX_RESOURCE_EXHAUSTED, "out of memory");
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->on_exit = on_exit;
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0) {
			workq_stop(q);
			return err_set(e, SBX_RESOURCE_EXHAUSTED, "cannot start worker thread");
		}
		q->nthreads++;
	}
	*out = q;
	return SBX_OK;
}

void workq_push(workq *q, workq_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL) {
		q->tail->next = job;
	} else {
		q->head = job;
	}
	q->tail = job;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void workq_stop(workq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nthreads; i++) {
		pthread_join(q->threads[i], NULL);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}
