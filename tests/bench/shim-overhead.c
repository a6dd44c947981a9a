/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shim-overhead: the cost of calls the shim does not back.
 *
 *   shim-overhead [--iters N] [--batches B] [--file PATH] [--tsc-hz HZ]
 *                 [--threads T] [--hold SIZE]
 *   shim-overhead --calibrate      (prints the TSC rate for --tsc-hz)
 *
 * Times, in this process with clock_gettime(CLOCK_MONOTONIC) (or the TSC
 * where that clock is coarse, see bench-clock.h), loops of calls
 * that no shim setting matches:
 *   mmap-anon   mmap(64 KiB, MAP_PRIVATE|MAP_ANONYMOUS) + munmap
 *   mmap-file   mmap(64 KiB of a small file, MAP_SHARED) + munmap
 *   sysv        shmget(IPC_PRIVATE, 64 KiB) + shmctl(IPC_STAT) +
 *               shmctl(IPC_RMID)
 *   shmat       shmat + shmdt of one small segment (64 KiB); with
 *               mshare_generation the shim knows it is unbacked after
 *               the first lookup
 *   mmap-mt     mmap-anon in T threads at once (default 2), per thread:
 *               calls on different ranges must not wait for each other
 * --hold SIZE keeps one anonymous MAP_SHARED mapping of SIZE bytes for the
 * whole run: with MSHARE_SHIM_ANON at most SIZE (and msharefs) it is
 * backed, so every munmap() looks at a table that is in use.
 * Each operation runs B batches of N iterations; the batches of the
 * operations are interleaved so that a disturbance hits all of them alike.
 * Per operation it prints the fastest batch and the median batch, in ns per
 * iteration, and who provides the entry point (the shim or libc), found with
 * dladdr(dlsym(RTLD_DEFAULT, name)), so a run under LD_PRELOAD can show that
 * the shim really was in the path.
 *
 * CSV on stdout: op,provider,iters,batches,min_ns,median_ns
 * Run it with and without LD_PRELOAD (run-shim-overhead.sh does, A/B).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

#define SMALL (64u * 1024u)

enum op { OP_MMAP_ANON, OP_MMAP_FILE, OP_SYSV, OP_SHMAT, OP_MMAP_MT,
	  OP_COUNT };
static const char *const op_names[OP_COUNT] = { "mmap-anon", "mmap-file",
						 "sysv", "shmat", "mmap-mt" };
/* The symbol whose provider decides whether the shim sees the op. */
static const char *const op_symbols[OP_COUNT] = { "mmap", "mmap", "shmget",
						   "shmat", "munmap" };

static int file_fd = -1;
static int shmat_id = -1;

static double now_ns(void)
{
	return bench_now_seconds() * 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "shim-overhead: %s: %s\n", what, strerror(errno));
	if (shmat_id >= 0)
		shmctl(shmat_id, IPC_RMID, NULL);
	exit(1);
}

static void one(enum op op)
{
	struct shmid_ds ds;
	void *p;
	int id;

	switch (op) {
	case OP_MMAP_ANON:
		p = mmap(NULL, SMALL, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap(anonymous)");
		if (munmap(p, SMALL) != 0)
			die("munmap");
		break;
	case OP_MMAP_FILE:
		p = mmap(NULL, SMALL, PROT_READ, MAP_SHARED, file_fd, 0);
		if (p == MAP_FAILED)
			die("mmap(file)");
		if (munmap(p, SMALL) != 0)
			die("munmap");
		break;
	case OP_SYSV:
		id = shmget(IPC_PRIVATE, SMALL, IPC_CREAT | 0600);
		if (id < 0)
			die("shmget");
		if (shmctl(id, IPC_STAT, &ds) != 0)
			die("shmctl(IPC_STAT)");
		if (shmctl(id, IPC_RMID, NULL) != 0)
			die("shmctl(IPC_RMID)");
		break;
	case OP_SHMAT:
		p = shmat(shmat_id, NULL, 0);
		if (p == (void *)-1)
			die("shmat");
		if (shmdt(p) != 0)
			die("shmdt");
		break;
	case OP_MMAP_MT:
	case OP_COUNT:
		break;
	}
}

/*
 * mmap-mt: the main thread and T-1 workers each run a batch of mmap-anon
 * between two barriers, so the main thread's clock covers them all.
 */
static long threads = 2;
static long batch_iters;
static pthread_barrier_t batch_start, batch_end;

static void *mt_worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_barrier_wait(&batch_start);
		for (long i = 0; i < batch_iters; i++)
			one(OP_MMAP_ANON);
		pthread_barrier_wait(&batch_end);
	}
	return NULL;
}

static void mt_start(void)
{
	pthread_t t;

	pthread_barrier_init(&batch_start, NULL, (unsigned)threads);
	pthread_barrier_init(&batch_end, NULL, (unsigned)threads);
	for (long i = 1; i < threads; i++)
		if (pthread_create(&t, NULL, mt_worker, NULL) != 0)
			die("pthread_create");
}

/* Runs iters calls of op: for mmap-mt, in every thread at once. */
static void run_batch(enum op op, long iters)
{
	if (op != OP_MMAP_MT) {
		for (long i = 0; i < iters; i++)
			one(op);
		return;
	}
	batch_iters = iters;
	pthread_barrier_wait(&batch_start);
	for (long i = 0; i < iters; i++)
		one(OP_MMAP_ANON);
	pthread_barrier_wait(&batch_end);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "shim", "libc" or the basename of whatever object provides SYMBOL. */
static const char *provider(const char *symbol)
{
	void *addr = dlsym(RTLD_DEFAULT, symbol);
	const char *base;
	Dl_info info;

	if (!addr || !dladdr(addr, &info) || !info.dli_fname)
		return "unknown";
	if (strstr(info.dli_fname, "libmshare-shim"))
		return "shim";
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	return strncmp(base, "libc.so", 7) == 0 ? "libc" : base;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: shim-overhead [--iters N] [--batches B] [--file PATH] [--tsc-hz HZ]\n"
		"                     [--threads T] [--hold SIZE]\n"
		"       shim-overhead --calibrate\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "iters", required_argument, NULL, 'i' },
		{ "batches", required_argument, NULL, 'b' },
		{ "file", required_argument, NULL, 'f' },
		{ "tsc-hz", required_argument, NULL, 'z' },
		{ "calibrate", no_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "hold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long iters = 2000, batches = 15, b;
	double tsc_given = 0;
	const char *file = NULL;
	unsigned long long hold = 0;
	char tmpl[] = "/tmp/shim-overhead.XXXXXX";
	double *ns[OP_COUNT];
	int opt, op;

	while ((opt = getopt_long(argc, argv, "i:b:f:t:H:h", options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			iters = strtol(optarg, NULL, 10);
			break;
		case 'b':
			batches = strtol(optarg, NULL, 10);
			break;
		case 'f':
			file = optarg;
			break;
		case 'z':
			tsc_given = strtod(optarg, NULL);
			break;
		case 't':
			threads = strtol(optarg, NULL, 10);
			break;
		case 'H':
			hold = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			/* The TSC rate for --tsc-hz (0: not needed). */
			printf("%.0f\n", bench_clock_choose(0, 2.0));
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || iters < 1 || iters > 100000000 || batches < 1 ||
	    batches > 10000 || threads < 1 || threads > 64) {
		usage(stderr);
		return 2;
	}

	if (bench_clock_choose(tsc_given, 0.5) > 0)
		fflush(stdout);
	/* A small file nobody would configure: a fresh temporary one. */
	if (file) {
		file_fd = open(file, O_RDWR | O_CLOEXEC);
	} else {
		file_fd = mkostemp(tmpl, O_CLOEXEC);
		if (file_fd >= 0)
			unlink(tmpl);
	}
	if (file_fd < 0)
		die(file ? file : "mkostemp");
	if (ftruncate(file_fd, SMALL) != 0)
		die("ftruncate");
	shmat_id = shmget(IPC_PRIVATE, SMALL, IPC_CREAT | 0600);
	if (shmat_id < 0)
		die("shmget");

	if (hold && mmap(NULL, hold, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) == MAP_FAILED)
		die("mmap(--hold)");
	mt_start();
	for (op = 0; op < OP_COUNT; op++) {
		ns[op] = calloc((size_t)batches, sizeof(double));
		if (!ns[op])
			die("calloc");
		run_batch((enum op)op, iters / 10 + 1);	/* warm up */
	}
	for (b = 0; b < batches; b++) {
		for (op = 0; op < OP_COUNT; op++) {
			double start = now_ns();

			run_batch((enum op)op, iters);
			ns[op][b] = (now_ns() - start) / (double)iters;
		}
	}
	shmctl(shmat_id, IPC_RMID, NULL);

	printf("op,provider,iters,batches,min_ns,median_ns\n");
	for (op = 0; op < OP_COUNT; op++) {
		qsort(ns[op], (size_t)batches, sizeof(double), cmp_double);
		printf("%s,%s,%ld,%ld,%.1f,%.1f\n", op_names[op],
		       provider(op_symbols[op]), iters, batches, ns[op][0],
		       ns[op][batches / 2]);
		free(ns[op]);
	}
	return 0;
}
