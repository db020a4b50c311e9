#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

double bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_percentile(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[(int)(p * (n - 1))];
}

void bench_report(const char *name, double ours, double base, const char *unit)
{
	printf("bench: %s ours=%.1f %s baseline=%.1f %s ratio=%.2f\n", name, ours, unit, base, unit,
	       ours / base);
	fflush(stdout);
}
