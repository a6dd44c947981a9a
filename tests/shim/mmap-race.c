/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads and signal handlers against the shim's mmap paths, for
 * vm-mmap-tests.sh and test-fake-mmap.sh.  Run under the shim with
 * MSHARE_SHIM_ANON at most LEN.
 *
 *   mmap-race threads LEN ROUNDS
 *	two threads each map LEN bytes of anonymous MAP_SHARED memory, write
 *	and check it, and unmap it, ROUNDS times; a third thread meanwhile
 *	maps, fills, checks and unmaps small private mappings.  Prints
 *	"backed N" (how many of the shared mappings were backed by a region)
 *	and "failures N" (failed calls and wrong data).  A private mapping
 *	unmapped behind its thread's back ends the run with "SIGSEGV".
 *   mmap-race signal LEN ROUNDS
 *	one thread maps and unmaps LEN bytes of anonymous MAP_SHARED memory
 *	ROUNDS times while a 50 us interval timer's handler calls mprotect()
 *	and madvise() on a small private page of its own.  Prints "backed N",
 *	"handler calls some" and "failures N"; a deadlock is caught by the
 *	caller's timeout.
 *   mmap-race many LEN COUNT
 *	maps COUNT anonymous MAP_SHARED mappings of LEN bytes and keeps them
 *	(each backed one takes a whole alignment unit of address space),
 *	then asks for 1 TiB of private address space and 64 MiB of malloc:
 *	prints "backed N", "big mmap ok|failed" and "malloc ok|failed".
 *   mmap-race cancel LEN ROUNDS
 *	ROUNDS times, a thread maps and unmaps LEN bytes of anonymous
 *	MAP_SHARED memory in a loop and is cancelled (pthread_cancel) after
 *	a few microseconds, likely inside the shim; then a fork child and
 *	the main thread each map backed memory once.  Prints "cancelled N",
 *	"after fork child 0" and "backed N"; a lock left held by a cancelled
 *	thread hangs (the caller's timeout).
 */
#include <sys/wait.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#define SMALL (16 * 4096)

static size_t len;
static long rounds;
static long failures;
static long backed;
static volatile int stop;
static char *handler_page;
static volatile long handler_calls;

static void fail(void)
{
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
}

/* An attachment is a whole alignment unit: more than LEN is mapped there. */
static int is_backed(const char *p)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	int result = 0;

	while (maps && fgets(line, sizeof(line), maps)) {
		uintptr_t lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi) {
			result = hi - lo > len;
			break;
		}
	}
	if (maps)
		fclose(maps);
	return result;
}

static void *shared_mapper(void *arg)
{
	unsigned char mark = (unsigned char)(uintptr_t)arg;

	for (long i = 0; i < rounds; i++) {
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			fail();
			continue;
		}
		if (i == 0 && is_backed((char *)p))
			__atomic_add_fetch(&backed, 1, __ATOMIC_RELAXED);
		p[0] = mark;
		p[len - 1] = mark;
		if (p[0] != mark || p[len - 1] != mark)
			fail();
		if (munmap(p, len) != 0)
			fail();
	}
	return NULL;
}

static void *private_mapper(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned char *q = mmap(NULL, SMALL, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (q == MAP_FAILED) {
			fail();
			continue;
		}
		memset(q, 0x5a, SMALL);
		sched_yield();
		for (size_t i = 0; i < SMALL; i += 4096)
			if (q[i] != 0x5a)
				fail();
		if (munmap(q, SMALL) != 0)
			fail();
	}
	return NULL;
}

static void on_sigsegv(int sig)
{
	static const char msg[] = "SIGSEGV\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

static void run_threads(void)
{
	pthread_t a, b, c;

	pthread_create(&c, NULL, private_mapper, NULL);
	pthread_create(&a, NULL, shared_mapper, (void *)1);
	pthread_create(&b, NULL, shared_mapper, (void *)2);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(c, NULL);
}

/* Async-signal-safe: both are system calls, or the shim's lock-free path. */
static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	if (mprotect(handler_page, 4096, PROT_READ) != 0 ||
	    mprotect(handler_page, 4096, PROT_READ | PROT_WRITE) != 0 ||
	    madvise(handler_page, 4096, MADV_WILLNEED) != 0)
		fail();
	handler_calls++;
	errno = saved;
}

static void run_signal(void)
{
	struct itimerval every = { { 0, 50 }, { 0, 50 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	handler_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (handler_page == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &every, NULL);
	shared_mapper((void *)3);
	setitimer(ITIMER_REAL, &off, NULL);
	printf("handler calls %s\n", handler_calls > 0 ? "some" : "none");
}

static void run_many(void)
{
	for (long i = 0; i < rounds; i++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			fail();
		else
			backed += is_backed(p);
	}

	void *big = mmap(NULL, 1ULL << 40, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	void *heap = malloc(64 << 20);

	printf("big mmap %s\n", big == MAP_FAILED ? "failed" : "ok");
	printf("malloc %s\n", heap ? "ok" : "failed");
}

static void *cancelled_mapper(void *arg)
{
	(void)arg;
	for (;;) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			fail();
		else
			munmap(p, len);
		pthread_testcancel();
	}
	return NULL;
}

static void run_cancel(void)
{
	long cancelled = 0;

	for (long i = 0; i < rounds; i++) {
		pthread_t t;
		void *result;

		if (pthread_create(&t, NULL, cancelled_mapper, NULL) != 0) {
			fail();
			continue;
		}
		usleep((useconds_t)(i % 7) * 20);
		pthread_cancel(t);
		pthread_join(t, &result);
		cancelled += result == PTHREAD_CANCELED;
	}
	printf("cancelled %ld\n", cancelled);

	pid_t pid = fork();

	if (pid == 0) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		_exit(p == MAP_FAILED || munmap(p, len) != 0);
	}
	int status = -1;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		fail();
	printf("after fork child %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail();
	else
		backed += is_backed(p);
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "threads") != 0 &&
			  strcmp(argv[1], "signal") != 0 &&
			  strcmp(argv[1], "many") != 0 &&
			  strcmp(argv[1], "cancel") != 0)) {
		fprintf(stderr, "usage: mmap-race threads|signal|many|cancel LEN ROUNDS\n");
		return 2;
	}
	len = strtoull(argv[2], NULL, 0);
	rounds = strtol(argv[3], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGSEGV, on_sigsegv);
	if (strcmp(argv[1], "threads") == 0)
		run_threads();
	else if (strcmp(argv[1], "signal") == 0)
		run_signal();
	else if (strcmp(argv[1], "cancel") == 0)
		run_cancel();
	else
		run_many();
	printf("backed %ld\n", backed);
	printf("failures %ld\n", failures);
	return failures != 0;
}
