// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory cgroups: a process whose cgroup is at memory.max must not fault
 * more memory into a region than into a plain shared memory segment.  The
 * kernel is the reference: the same process populating the same amount of
 * plain MAP_SHARED anonymous memory in the same kind of cgroup is OOM-killed,
 * so populating the region must end the same way.
 */
#include "selftest.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIMIT (32UL << 20)
#define POPULATE (256UL << 20)

static bool write_file(const char *dir, const char *name, const char *text)
{
	char path[ST_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_text_file(path, text);
}

/* The value of KEY in a flat-keyed cgroup file (memory.events), or -1. */
static long keyed_value(const char *dir, const char *name, const char *key)
{
	char path[ST_PATH_MAX], line[256];
	size_t key_len = strlen(key);
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ' ')
			value = strtol(line + key_len + 1, NULL, 10);
	fclose(f);
	return value;
}

/*
 * A cgroup of its own with memory.max = LIMIT and no swap, in DIR.  False
 * after st_skip when this kernel or user has no memory controller
 * (MSHARE_EXPECT_MEMCG=1, set by the VM suite, makes that a failure).
 */
static bool make_cgroup(const char *test, char *dir, size_t len)
{
	const char *want = getenv("MSHARE_EXPECT_MEMCG");
	const char *why = geteuid() != 0 ? "needs root" : cgroup_memory_setup();
	char limit[32];

	if (why) {
		ck_assert_msg(!want || strcmp(want, "1") != 0 || geteuid() != 0,
			      "booted to test memory cgroups, but: %s", why);
		st_skip(test, "%s", why);
		return false;
	}
	snprintf(dir, len, "%s/st-%ld-%ld", CGROUP_ROOT, (long)st_runner_pid,
		 (long)getpid());
	ck_assert_msg(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir,
		      strerror(errno));
	snprintf(limit, sizeof(limit), "%lu", LIMIT);
	ck_assert(write_file(dir, "memory.max", limit));
	(void)write_file(dir, "memory.swap.max", "0");
	return true;
}

/*
 * Runs a child in cgroup DIR that maps POPULATE bytes (of the region open
 * at REGION_FD, or plain shared anonymous memory if it is -1) and writes
 * every page.  Returns its wait status.
 */
static int populate_in_cgroup(const char *dir, int region_fd, size_t align)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		unsigned char *p;

		if (!cgroup_join(dir))
			_exit(3);
		if (region_fd >= 0)
			p = mmap(NULL, align, PROT_READ | PROT_WRITE,
				 MAP_SHARED, region_fd, 0);
		else
			p = mmap(NULL, POPULATE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(4);
		for (size_t off = 0; off < POPULATE; off += ST_PAGE)
			p[off] = 1;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_oom_killed(const char *what, const char *dir, int status)
{
	long kills = keyed_value(dir, "memory.events", "oom_kill");

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "%s: populating %lu MiB under memory.max=%lu MiB ended with %s %d, not the OOM killer's SIGKILL",
		      what, POPULATE >> 20, LIMIT >> 20,
		      WIFSIGNALED(status) ? "signal" : "exit status",
		      WIFSIGNALED(status) ? WTERMSIG(status) :
					    WEXITSTATUS(status));
	ck_assert_msg(kills >= 1, "%s: memory.events oom_kill %ld", what,
		      kills);
}

START_TEST(cgroup_memory_max_holds_for_region_memory)
{
	const char *test = "cgroup_memory_max_holds_for_region_memory";
	char plain_dir[ST_PATH_MAX], region_dir[ST_PATH_MAX];
	char path[ST_PATH_MAX];
	size_t align = st_align();
	int fd;

	if (!make_cgroup(test, plain_dir, sizeof(plain_dir)))
		return;
	/* The kernel's reference: plain shared anonymous memory. */
	expect_oom_killed("plain MAP_SHARED memory", plain_dir,
			  populate_in_cgroup(plain_dir, -1, align));
	ck_assert_int_eq(rmdir(plain_dir), 0);

	ck_assert(make_cgroup(test, region_dir, sizeof(region_dir)));
	fd = st_region_anon(path, "memcg", POPULATE);
	expect_oom_killed("region memory", region_dir,
			  populate_in_cgroup(region_dir, fd, align));
	ck_assert_int_le(keyed_value(region_dir, "memory.stat", "shmem"),
			 (long)LIMIT);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	ck_assert_int_eq(rmdir(region_dir), 0);
}
END_TEST

/* Shared by the test and its writer */
struct stale_writer {
	volatile uint64_t last;
	volatile int stop;
};

/*
 * Writes a counter into the region's first page from CPU 1, and the same
 * value after it into STATE, until told to stop.  It never sleeps, so no
 * context switch flushes its CPU's TLB: only the unmap's own flush does.
 */
static void stale_writer_run(volatile uint64_t *page,
			     struct stale_writer *state)
{
	uint64_t v = 0;

	if (pin_to_cpu(1) != 0)
		_exit(3);
	while (!state->stop) {
		*page = ++v;
		state->last = v;
	}
	_exit(0);
}

/*
 * Reclaim swaps out a region page while an attached process on another
 * CPU keeps writing it.  The unmap must reach that CPU's TLB before the
 * page is written out and freed (mm/rmap.c batches that flush for a
 * region's attached processes): the writer then faults, the page comes
 * back from swap, and its last write is in it.  An attached mm left out of
 * the flush keeps a TLB entry for the freed page, and the writes after the
 * unmap are lost.
 */
START_TEST(cgroup_reclaim_flushes_running_attacher)
{
	const char *test = "cgroup_reclaim_flushes_running_attacher";
	const char *want_swap = getenv("MSHARE_VM_SWAP");
	char dir[ST_PATH_MAX], path[ST_PATH_MAX];
	long swapouts = 0, pswpout;
	struct stale_writer *state;
	volatile uint64_t *page;
	pid_t populate, writer;
	int fd, status, round, err;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		st_skip(test, "needs two CPUs");
		return;
	}
	if (meminfo_kb("SwapTotal") <= 0) {
		ck_assert_msg(!want_swap || atoi(want_swap) == 0,
			      "booted with MSHARE_VM_SWAP=%s, but no swap",
			      want_swap);
		st_skip(test, "needs swap");
		return;
	}
	if (!make_cgroup(test, dir, sizeof(dir)))
		return;
	/* Swap, and reclaim only when asked to */
	ck_assert(write_file(dir, "memory.max", "max"));
	ck_assert(write_file(dir, "memory.swap.max", "max"));

	state = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(state != MAP_FAILED);
	fd = st_region_anon(path, "stale", 16 * ST_PAGE);
	page = st_attach(fd, PROT_READ | PROT_WRITE);

	/* The page is charged to the cgroup whose memory.reclaim takes it */
	populate = fork();
	ck_assert_int_ge(populate, 0);
	if (populate == 0) {
		if (!cgroup_join(dir))
			_exit(3);
		*page = 0;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(populate, &status, 0), populate);
	ck_assert_int_eq(status, 0);

	err = pin_to_cpu(0);
	ck_assert_msg(err == 0, "sched_setaffinity(CPU 0): %s",
		      strerror(-err));
	writer = fork();
	ck_assert_int_ge(writer, 0);
	if (writer == 0)
		stale_writer_run(page, state);
	while (state->last < 100000)
		sched_yield();

	pswpout = vmstat_count("pswpout");
	for (round = 0; round < 40 && swapouts < 5; round++) {
		(void)write_file(dir, "memory.reclaim", "1M");
		usleep(20000);
		swapouts = vmstat_count("pswpout") - pswpout;
	}
	state->stop = 1;
	ck_assert_int_eq(waitpid(writer, &status, 0), writer);
	ck_assert_int_eq(status, 0);

	ck_assert_msg(swapouts > 0,
		      "memory.reclaim never swapped the page out in %d rounds",
		      round);
	ck_assert_msg(*page == state->last,
		      "the writer's last value is %llu, the page holds %llu after %ld swap-outs: writes after the unmap went through a stale TLB entry",
		      (unsigned long long)state->last,
		      (unsigned long long)*page, swapouts);
	munmap((void *)page, st_align());
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

void register_cgroup_tests(void)
{
	static const struct selftest_group group = { "cgroup", 300 };

	selftest_add(&group, cgroup_memory_max_holds_for_region_memory);
	selftest_add(&group, cgroup_reclaim_flushes_running_attacher);
}
