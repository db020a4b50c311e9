/* What every benchmark shares: a clock, percentiles and the one line
 * format the figures are read from:
 *   bench: NAME ours=V UNIT baseline=V UNIT ratio=R */
#ifndef SBX_BENCH_H
#define SBX_BENCH_H

/* Monotonic time in microseconds. */
double bench_now_us(void);

/* The p-th percentile (0..1) of v[0..n); sorts v in place. */
double bench_percentile(double *v, int n, double p);

/* Prints one figure beside its baseline and their ratio (ours / base). */
void bench_report(const char *name, double ours, double base, const char *unit);

#endif
