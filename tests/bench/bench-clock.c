/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The benchmarks' clock; see bench-clock.h. */
#include "bench-clock.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double tsc_hz;	/* 0: CLOCK_MONOTONIC */

double bench_monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>

/* Spins until CLOCK_MONOTONIC passes AFTER; the TSC at that step. */
static double wait_for_step(double after, uint64_t *tsc)
{
	double t;

	do {
		t = bench_monotonic_seconds();
		*tsc = __rdtsc();
	} while (t <= after);
	return t;
}

double bench_clock_choose(double given_hz, double calibrate_s)
{
	struct timespec res;
	uint64_t tsc0, tsc1;
	double t0, t1;

	if (given_hz > 0) {
		tsc_hz = given_hz;
		printf("# timing with the TSC at the given %.1f MHz\n",
		       tsc_hz / 1e6);
		return tsc_hz;
	}
	if (clock_getres(CLOCK_MONOTONIC, &res) != 0 ||
	    (res.tv_sec == 0 && res.tv_nsec <= 1000))
		return 0;
	t0 = wait_for_step(bench_monotonic_seconds(), &tsc0);
	t1 = wait_for_step(t0 + calibrate_s, &tsc1);
	if (tsc1 > tsc0)
		tsc_hz = (double)(tsc1 - tsc0) / (t1 - t0);
	printf("# CLOCK_MONOTONIC resolution is %ld ns: timing with the TSC, "
	       "%.1f MHz measured against it over %.2f s\n",
	       (long)res.tv_nsec, tsc_hz / 1e6, t1 - t0);
	return tsc_hz;
}

double bench_now_seconds(void)
{
	return tsc_hz > 0 ? (double)__rdtsc() / tsc_hz :
			    bench_monotonic_seconds();
}
#else
double bench_clock_choose(double given_hz, double calibrate_s)
{
	(void)given_hz;
	(void)calibrate_s;
	return 0;
}

double bench_now_seconds(void)
{
	return bench_monotonic_seconds();
}
#endif
