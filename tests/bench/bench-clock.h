/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The benchmarks' clock.  In the test VM (tinyconfig under QEMU TCG) the
 * kernel may run on the jiffies clocksource: CLOCK_MONOTONIC then moves in
 * steps of several milliseconds, too coarse for what the benchmarks time.
 * On x86 they then count TSC cycles, converted with a rate measured against
 * CLOCK_MONOTONIC between two of its steps.  Several runs can share one
 * calibration (bench_clock_choose's GIVEN_HZ), so that their times compare
 * exactly even where the calibration itself is a few percent off.
 */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

/* CLOCK_MONOTONIC in seconds. */
double bench_monotonic_seconds(void);

/*
 * GIVEN_HZ > 0: use the TSC at that rate.  Otherwise, if CLOCK_MONOTONIC
 * is coarser than 1 us, measure the TSC rate over CALIBRATE_S seconds and
 * use the TSC.  Prints a '#' line saying what it chose when it chose the
 * TSC.  Returns the TSC rate in use, or 0 for CLOCK_MONOTONIC.
 */
double bench_clock_choose(double given_hz, double calibrate_s);

/* The chosen clock, in seconds. */
double bench_now_seconds(void);

#endif /* BENCH_CLOCK_H */
