/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The point of msharefs: page tables do not grow with the number of
 * processes.  Four processes touch all of a 256 MiB region; none of them may
 * gain more than 16 KiB of VmPTE, the system's PageTables grows once by the
 * region's ~512 KiB, and everything comes back after unlink.  The same run
 * with a plain MAP_SHARED mapping inherited across fork is printed next to
 * it for comparison (each process pays ~512 KiB there).
 *
 * $MSHARE_PTFLAT_MIB overrides the 256 MiB.
 */
#include "selftest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mshare-ptmeasure.h"

#define PROCS 4			/* A writes, B, C, D read */
#define VMPTE_SLACK_KB 16	/* per attacher, from UAPI.md "Page tables" */
#define READER_FAULTS 16	/* "one fault per 512 GiB to link the entry" */
#define RSS_SLACK_KB 4096	/* region pages count in nobody's RSS */
#define PAGETABLES_BACK_KB 128
#define MEMFREE_BACK_KB (4 * 1024)	/* runs leave 0.1-0.6 MiB (slab, stacks) */
#define SHMEM_BACK_KB 1024

/*
 * memfree_kb counts free memory, including the pages on the per-CPU free
 * lists (the first region cycle moves 16-45 MiB there, out of MemFree, for
 * good), plus page cache the kernel can drop (Cached - Shmem): the first
 * run reads binaries over 9p into the cache, which is not a leak.  The
 * region's own pages are Shmem.
 */
struct phase_meminfo {
	long pagetables_kb, memfree_kb, shmem_kb;
};

struct run {
	const char *title;
	struct pt_sample samples[PROCS];
	int status[PROCS];
	int sample_failed[PROCS];
	struct phase_meminfo baseline, touched, after;
};

/*
 * /proc/meminfo sums per-CPU counters lazily: with several CPUs, PageTables
 * can lag by a few dozen pages.  Root can ask for a refresh first; as
 * another user the bounds below leave room for the lag.
 */
static void refresh_vmstat(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* not allowed: the counters stay a little behind */
		}
		close(fd);
	}
}

static struct phase_meminfo read_meminfo(void)
{
	long shmem;

	refresh_vmstat();
	shmem = meminfo_kb("Shmem");
	struct phase_meminfo m = {
		.pagetables_kb = meminfo_kb("PageTables"),
		.memfree_kb = meminfo_kb("MemFree") + percpu_free_kb() +
			      meminfo_kb("Cached") - shmem,
		.shmem_kb = shmem,
	};

	return m;
}

static size_t region_bytes(void)
{
	const char *env = getenv("MSHARE_PTFLAT_MIB");
	long mib = env ? strtol(env, NULL, 10) : 256;

	return (size_t)(mib > 0 ? mib : 256) << 20;
}

/*
 * Runs the workers one after another, A (the writer) first; then reads
 * /proc/meminfo while all four are still attached.
 */
static void run_workers(struct run *run, struct pt_job *job)
{
	struct pt_worker workers[PROCS];
	int i;

	for (i = 0; i < PROCS; i++) {
		job->write = (i == 0);
		job->verify = (i != 0);
		ck_assert_msg(pt_worker_start(&workers[i], job) == 0,
			      "start worker: %s", strerror(errno));
		/* The workers copied *job at fork: it may change now. */
		/* One at a time: B, C and D each find all pages present. */
		run->sample_failed[i] = pt_worker_sample(&workers[i],
							 &run->samples[i]);
	}
	run->touched = read_meminfo();
	for (i = 0; i < PROCS; i++)
		run->status[i] = pt_worker_release(&workers[i]);
}

/* Freed page tables and pages may reach the counters a little later. */
static struct phase_meminfo settle(const struct phase_meminfo *baseline)
{
	struct phase_meminfo m = read_meminfo();
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (m.pagetables_kb - baseline->pagetables_kb <= PAGETABLES_BACK_KB &&
		    baseline->memfree_kb - m.memfree_kb <= MEMFREE_BACK_KB &&
		    m.shmem_kb - baseline->shmem_kb <= SHMEM_BACK_KB)
			break;
		usleep(100 * 1000);
		m = read_meminfo();
	}
	return m;
}

static void print_run(const struct run *run, size_t bytes)
{
	static const char *const names[PROCS] = { "A", "B", "C", "D" };
	int i;

	fprintf(stderr, "#\n# %s, %zu MiB anonymous shared memory "
		"(1/512 of it is %ld kB of PTEs)\n", run->title, bytes >> 20,
		pte_kb_for(bytes));
	fprintf(stderr, "#   proc touch  VmPTE-before  VmPTE-after  VmPTE-growth"
		"  VmRSS-growth  touch-ms  faults\n");
	for (i = 0; i < PROCS; i++) {
		const struct pt_sample *s = &run->samples[i];

		fprintf(stderr, "#   %-4s %-5s  %9ld kB  %8ld kB  %9ld kB"
			"  %9ld kB  %8.1f  %6ld\n", names[i], i ? "read" : "write",
			s->vmpte_before_kb, s->vmpte_after_kb,
			s->vmpte_after_kb - s->vmpte_before_kb,
			s->rss_after_kb - s->rss_before_kb,
			s->touch_seconds * 1e3, s->minor_faults);
	}
	fprintf(stderr, "#   /proc/meminfo   baseline     touched       after"
		"   touched-baseline  after-baseline\n");
	fprintf(stderr, "#   PageTables  %9ld kB %9ld kB %9ld kB  %11ld kB  %11ld kB\n",
		run->baseline.pagetables_kb, run->touched.pagetables_kb,
		run->after.pagetables_kb,
		run->touched.pagetables_kb - run->baseline.pagetables_kb,
		run->after.pagetables_kb - run->baseline.pagetables_kb);
	fprintf(stderr, "#   Shmem       %9ld kB %9ld kB %9ld kB  %11ld kB  %11ld kB\n",
		run->baseline.shmem_kb, run->touched.shmem_kb,
		run->after.shmem_kb,
		run->touched.shmem_kb - run->baseline.shmem_kb,
		run->after.shmem_kb - run->baseline.shmem_kb);
	fprintf(stderr, "#   Free+clean  %9ld kB %9ld kB %9ld kB  %11ld kB  %11ld kB\n",
		run->baseline.memfree_kb, run->touched.memfree_kb,
		run->after.memfree_kb,
		run->touched.memfree_kb - run->baseline.memfree_kb,
		run->after.memfree_kb - run->baseline.memfree_kb);
}

/*
 * Page tables of processes that just exited are freed after an RCU grace
 * period: wait until the counters stop moving before taking a baseline.
 */
static struct phase_meminfo quiet_meminfo(void)
{
	struct phase_meminfo prev = read_meminfo(), m;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		usleep(200 * 1000);
		m = read_meminfo();
		if (m.pagetables_kb == prev.pagetables_kb &&
		    m.shmem_kb == prev.shmem_kb)
			break;
		prev = m;
	}
	return m;
}

static void measure_mshare(struct run *run, size_t bytes)
{
	char path[ST_PATH_MAX];
	struct pt_job job = { .touch_bytes = bytes, .seed = 0x5eed };
	int fd;

	run->title = "msharefs region, attached by name in 4 processes";
	(void)st_align();
	run->baseline = quiet_meminfo();
	fd = st_region_anon(path, "ptflat", bytes);
	job.region_path = path;
	run_workers(run, &job);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	run->after = settle(&run->baseline);
}

static void measure_plain(struct run *run, size_t bytes)
{
	struct pt_job job = { .touch_bytes = bytes, .seed = 0x9a1e };

	run->title = "plain MAP_SHARED|MAP_ANONYMOUS, inherited by 4 processes";
	run->baseline = quiet_meminfo();
	job.inherited = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(job.inherited, MAP_FAILED);
	run_workers(run, &job);
	ck_assert_int_eq(munmap(job.inherited, bytes), 0);
	run->after = settle(&run->baseline);
}

static void assert_workers_ok(const struct run *run)
{
	char buf[64];
	int i;

	for (i = 0; i < PROCS; i++) {
		ck_assert_msg(run->sample_failed[i] == 0,
			      "%s: worker %d died before reporting (%s)",
			      run->title, i,
			      describe_status(run->status[i], buf, sizeof(buf)));
		ck_assert_msg(run->samples[i].error == 0,
			      "%s: worker %d could not attach: %s", run->title,
			      i, strerror(run->samples[i].error));
		ck_assert_msg(exited_ok(run->status[i]),
			      "%s: worker %d ended with %s", run->title, i,
			      describe_status(run->status[i], buf, sizeof(buf)));
		ck_assert_msg(run->samples[i].bad_pages == 0,
			      "%s: worker %d saw %ld pages without A's data",
			      run->title, i, run->samples[i].bad_pages);
	}
}

START_TEST(ptflat_vmpte_does_not_grow)
{
	size_t bytes = region_bytes();
	long region_pt_kb = pte_kb_for(bytes), own_pt_kb = 0, growth;
	struct run mshare, plain;
	int i;

	memset(&mshare, 0, sizeof(mshare));
	memset(&plain, 0, sizeof(plain));
	/*
	 * A small cycle first: the first use of a code path can allocate
	 * memory for good (a debug kernel's stack depot grows by ~16 MiB),
	 * which is no leak.  A leak of the measured cycle still shows.
	 */
	measure_mshare(&mshare, 4 << 20);
	memset(&mshare, 0, sizeof(mshare));
	measure_mshare(&mshare, bytes);
	measure_plain(&plain, bytes);
	print_run(&mshare, bytes);
	print_run(&plain, bytes);
	fprintf(stderr, "#\n");

	assert_workers_ok(&mshare);
	assert_workers_ok(&plain);
	for (i = 0; i < PROCS; i++) {
		const struct pt_sample *s = &mshare.samples[i];

		growth = s->vmpte_after_kb - s->vmpte_before_kb;
		ck_assert_msg(growth <= VMPTE_SLACK_KB,
			      "worker %d: VmPTE grew by %ld kB (limit %d kB)",
			      i, growth, VMPTE_SLACK_KB);
		growth = s->rss_after_kb - s->rss_before_kb;
		ck_assert_msg(growth <= RSS_SLACK_KB,
			      "worker %d: VmRSS grew by %ld kB: region pages "
			      "count in no process's RSS", i, growth);
		own_pt_kb += s->vmpte_after_kb;
		/* B, C and D find A's pages already in the shared tables. */
		ck_assert_msg(i == 0 || s->minor_faults <= READER_FAULTS,
			      "worker %d took %ld page faults reading pages "
			      "another process faulted in (limit %d)", i,
			      s->minor_faults, READER_FAULTS);
	}
	/*
	 * PageTables holds the workers' own tables plus the region's, once:
	 * ~1/512 of the memory (a little more for the upper levels).  Four
	 * unshared copies would be four times that: 3/4 leaves room for
	 * per-CPU counter lag and still tells one copy from four.
	 */
	growth = mshare.touched.pagetables_kb - mshare.baseline.pagetables_kb -
		 own_pt_kb;
	ck_assert_msg(growth >= region_pt_kb * 3 / 4 &&
		      growth <= region_pt_kb + 256,
		      "PageTables beyond the workers' own tables grew by %ld kB,"
		      " want about %ld kB", growth, region_pt_kb);
	ck_assert_msg(mshare.after.pagetables_kb - mshare.baseline.pagetables_kb
		      <= PAGETABLES_BACK_KB,
		      "PageTables %ld kB above baseline after unlink",
		      mshare.after.pagetables_kb - mshare.baseline.pagetables_kb);
	ck_assert_msg(mshare.after.shmem_kb - mshare.baseline.shmem_kb
		      <= SHMEM_BACK_KB,
		      "Shmem %ld kB above baseline after unlink: region pages "
		      "not freed", mshare.after.shmem_kb - mshare.baseline.shmem_kb);
	ck_assert_msg(mshare.baseline.memfree_kb - mshare.after.memfree_kb
		      <= MEMFREE_BACK_KB,
		      "MemFree+per-CPU free+clean cache %ld kB below baseline after unlink",
		      mshare.baseline.memfree_kb - mshare.after.memfree_kb);
}
END_TEST

void register_ptflat_tests(void)
{
	/* ~2 s per 256 MiB of first touches under TCG, times 5 touch passes. */
	static const struct selftest_group group = { "ptflat", 900 };

	selftest_add(&group, ptflat_vmpte_does_not_grow);
}
