/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-torture: data integrity of a region while the kernel moves and
 * frees its pages under the attached processes.
 *
 *   mshare-torture [--seconds N] [--workers K] [--size MiB] [--dir DIR]
 *                  [--limit MiB] [--thp]
 *
 * A region maps SIZE MiB (default 32) of a file in DIR (default: a
 * memfd, i.e. shmem); K worker processes (default 4) attach it and run on
 * all CPUs.  The region is an array of 64-byte records; worker w owns the
 * records r with r % K == w.  Each worker, over and over, writes one of its
 * records with the next sequence number and a checksum, reads it back, and
 * reads records of the others: every record read must carry a valid
 * checksum, and a record's sequence number must never go backwards for a
 * reader (a stale TLB entry or a page freed under a mapping shows as an
 * older or torn record).  Meanwhile a pressure process, in a memory cgroup
 * of its own with the workers, repeatedly writes memory.reclaim (the
 * region's pages are swapped out, or written back and dropped, then
 * faulted in again) and /proc/sys/vm/compact_memory (pages migrate), and
 * with two NUMA nodes moves the region's pages between them with
 * move_pages() (torture-pressure.c).  NUMA balancing and KSM run (the
 * workers ask KSM to merge all their memory, and have duplicate pages of
 * their own for it), where the kernel has them.  At the end the file is
 * read with pread(), outside any mapping: every record must hold its
 * writer's last sequence number.  --limit sets memory.high of the cgroup
 * (default: none), so that the region does not fit and pages keep going
 * out to swap (or back to their file) and coming in again: above
 * memory.high the kernel reclaims and throttles, where memory.max would
 * also OOM-kill a worker when reclaim falls behind the faults.  --thp sets
 * transparent huge pages to "always", shmem's too, for the run: the region
 * then holds PMD-mapped huge pages that reclaim splits and compaction and
 * migration move.
 *
 * Exit status: 0 all checks passed, 1 a check failed (the first failure is
 * printed), 77 no msharefs here (skipped), 2 usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mshare-procfs.h"
#include "mshare-region.h"
#include "torture-pressure.h"

#define EXIT_SKIP 77
#define RECORD_SIZE 64
#define MAX_WORKERS 16
#define KSM_RUN "/sys/kernel/mm/ksm/run"
#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define THP_SHMEM "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
/* Private memory of each worker made of identical pages, for KSM */
#define DUPLICATE_PAGES 256
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

struct record {
	uint64_t seq;
	uint64_t writer;
	uint64_t index;
	uint64_t payload[4];
	uint64_t checksum;
};

_Static_assert(sizeof(struct record) == RECORD_SIZE, "record size");

/* Shared with the parent, outside the region: each worker's progress. */
struct worker_state {
	uint64_t writes;
	uint64_t reads;
	int failed;
	char failure[200];
};

static uint64_t record_checksum(const struct record *r)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	const uint64_t *w = (const uint64_t *)r;

	for (size_t i = 0; i < offsetof(struct record, checksum) / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * Writes generation N of record INDEX like a seqlock: seq is odd while the
 * record changes and 2 * N once it is complete, so that readers can take a
 * consistent copy without a lock.
 */
static void record_write(struct record *r, uint64_t index, uint64_t writer,
			 uint64_t n)
{
	struct record next;

	next.seq = 2 * n;
	next.writer = writer;
	next.index = index;
	for (int i = 0; i < 4; i++)
		next.payload[i] = n * 0x5851f42d4c957f2dULL + index + (uint64_t)i;
	next.checksum = record_checksum(&next);

	__atomic_store_n(&r->seq, 2 * n - 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->writer = next.writer;
	r->index = next.index;
	memcpy(r->payload, next.payload, sizeof(next.payload));
	r->checksum = next.checksum;
	__atomic_store_n(&r->seq, next.seq, __ATOMIC_RELEASE);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A consistent copy of *R, retrying while its writer is in the middle (it
 * may be preempted there for a while: the workers outnumber the CPUs).
 * False if the record stayed in the middle of a write for 10 seconds.
 */
static bool record_read(const struct record *r, struct record *copy)
{
	double deadline = 0;

	for (unsigned long tries = 0;; tries++) {
		uint64_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE), s2;

		if (tries && tries % 64 == 0) {
			if (!deadline)
				deadline = now_s() + 10;
			else if (now_s() > deadline)
				return false;
			sched_yield();
		}
		if (s1 & 1)
			continue;
		memcpy(copy, (const void *)r, sizeof(*copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&r->seq, __ATOMIC_RELAXED);
		if (s1 == s2) {
			copy->seq = s1;
			return true;
		}
	}
}

/* An all-zero record is one nobody wrote yet. */
static bool record_valid(const struct record *r, uint64_t index)
{
	if (r->seq == 0 && r->checksum == 0)
		return true;
	return r->index == index && r->checksum == record_checksum(r);
}

static volatile sig_atomic_t stop;

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

/* Records the first failure of a worker (printf format, unsigned long longs). */
#define FAIL(st, ...)							\
	do {								\
		if (!(st)->failed)					\
			snprintf((st)->failure, sizeof((st)->failure),	\
				 __VA_ARGS__);				\
		(st)->failed = 1;					\
	} while (0)
#define ULL(x) ((unsigned long long)(x))

static void worker(int fd, size_t align, uint64_t records, int w, int k,
		   struct worker_state *st, uint64_t *last_seq_out)
{
	struct record *base = mmap(NULL, align, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);
	uint64_t *seen = calloc(records, sizeof(*seen));
	uint64_t rng = 0x2545f4914f6cdd1dULL * (uint64_t)(w + 1);
	uint64_t mine = (records - (uint64_t)w + (uint64_t)k - 1) / (uint64_t)k;

	unsigned char *duplicates = mmap(NULL, DUPLICATE_PAGES * 4096,
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED || !seen || duplicates == MAP_FAILED) {
		FAIL(st, "worker setup failed");
		_exit(1);
	}
	/* KSM scans this process; it must leave the attachment alone */
	(void)prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0);
	memset(duplicates, 0x6b, DUPLICATE_PAGES * 4096);
	while (!stop && !st->failed) {
		uint64_t r = (uint64_t)w + (rng % mine) * (uint64_t)k;
		uint64_t seq = last_seq_out[r] + 1;

		struct record back;

		record_write(&base[r], r, (uint64_t)w, seq);
		last_seq_out[r] = seq;
		back = base[r];
		if (back.seq != 2 * seq || !record_valid(&back, r))
			FAIL(st, "record %llu read back seq %llu after writing %llu",
			     ULL(r), ULL(back.seq / 2), ULL(seq));
		st->writes++;
		for (int i = 0; i < 4; i++) {
			uint64_t o;
			struct record copy;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			o = rng % records;
			if (!record_read(&base[o], &copy))
				FAIL(st, "record %llu never stopped changing",
				     ULL(o));
			else if (!record_valid(&copy, o))
				FAIL(st, "record %llu torn or foreign (seq %llu, index %llu)",
				     ULL(o), ULL(copy.seq / 2), ULL(copy.index));
			else if (copy.seq < seen[o])
				FAIL(st, "record %llu went back from seq %llu to %llu",
				     ULL(o), ULL(seen[o] / 2), ULL(copy.seq / 2));
			else
				seen[o] = copy.seq;
			st->reads++;
		}
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
	}
	_exit(st->failed ? 1 : 0);
}

/* A memory cgroup for this run, or "" when there is none. */
static void make_cgroup(char *dir, size_t len)
{
	snprintf(dir, len, "%s/mshare-torture-%ld", CGROUP_ROOT,
		 (long)getpid());
	if (geteuid() != 0 || !cgroup_memory_create(dir))
		dir[0] = '\0';
}

static void join_cgroup(const char *dir)
{
	if (dir[0])
		(void)cgroup_join(dir);
}

/* Writes TEXT to a kernel knob, keeping its old value in OLD; false if absent. */
static bool set_knob(const char *path, const char *text, char *old, size_t len)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	if (!fgets(old, (int)len, f))
		old[0] = '\0';
	fclose(f);
	old[strcspn(old, "\n")] = '\0';
	/* Choice knobs read as "always [madvise] never": keep the choice */
	if (strchr(old, '[')) {
		size_t start = strcspn(old, "[") + 1;

		memmove(old, old + start, strlen(old + start) + 1);
		old[strcspn(old, "]")] = '\0';
	}
	return write_text_file(path, text);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mshare-torture [--seconds N] [--workers K] [--size MiB] [--dir DIR] [--limit MiB] [--thp]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "thp", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long seconds = 30, size_mib = 32, reclaims_ok = 0, limit_mib = 0;
	int workers = 4, opt, file_fd, fd, status, bad = 0;
	char why[256], region[512], file[512], cgroup[256];
	char old_ksm[16] = "", old_balancing[16] = "";
	char old_thp[80] = "", old_thp_shmem[80] = "";
	bool ksm, balancing, thp = false;
	long shmem_pmd_kb = 0;
	long pswpout, pswpin, ksm_shared;
	struct pressure_counts *counters;
	uint64_t align, records, *last_seq;
	struct worker_state *states;
	const char *dir = NULL;
	pid_t pids[MAX_WORKERS], presser;
	struct record rec;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = strtoul(optarg, NULL, 10); break;
		case 'w': workers = atoi(optarg); break;
		case 'm': size_mib = strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'l': limit_mib = strtoul(optarg, NULL, 10); break;
		case 't': thp = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || workers < 1 || workers > MAX_WORKERS ||
	    !seconds || !size_mib) {
		usage(stderr);
		return 2;
	}
	if (mshare_check_mount(mshare_mount(), why, sizeof(why)) != 0) {
		printf("%s\n", why);
		return EXIT_SKIP;
	}
	if (mshare_read_alignment(mshare_mount(), &align) != 0) {
		fprintf(stderr, "mshare-torture: cannot read the alignment\n");
		return 2;
	}

	if (dir) {
		snprintf(file, sizeof(file), "%s/mshare-torture-%ld", dir,
			 (long)getpid());
		file_fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	} else {
		snprintf(file, sizeof(file), "memfd");
		file_fd = memfd_create("mshare-torture", MFD_CLOEXEC);
	}
	if (file_fd < 0 || ftruncate(file_fd, (off_t)(size_mib << 20)) != 0) {
		fprintf(stderr, "mshare-torture: %s: %s\n", file, strerror(errno));
		return 2;
	}
	snprintf(region, sizeof(region), "%s/mshare-torture-%ld", mshare_mount(),
		 (long)getpid());
	fd = mshare_create(region, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)align) != 0 ||
	    mshare_map_file(fd, 0, size_mib << 20, PROT_READ | PROT_WRITE,
			    file_fd, 0) != 0) {
		fprintf(stderr, "mshare-torture: region %s: setup failed\n", region);
		return 2;
	}
	unlink(region);
	records = (size_mib << 20) / RECORD_SIZE;

	states = mmap(NULL, sizeof(*states) * MAX_WORKERS + sizeof(*counters),
		      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	last_seq = mmap(NULL, records * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (states == MAP_FAILED || last_seq == MAP_FAILED) {
		fprintf(stderr, "mshare-torture: out of memory\n");
		return 2;
	}
	counters = (struct pressure_counts *)(states + MAX_WORKERS);
	make_cgroup(cgroup, sizeof(cgroup));
	if (limit_mib) {
		char knob[300], value[32];

		snprintf(knob, sizeof(knob), "%s/memory.high", cgroup);
		snprintf(value, sizeof(value), "%luM", limit_mib);
		if (!cgroup[0] || !write_text_file(knob, value)) {
			fprintf(stderr, "mshare-torture: --limit needs a memory cgroup (root, cgroup2)\n");
			return 2;
		}
	}
	/* Before the file's pages exist: shmem decides their size at fault */
	if (thp && (!set_knob(THP_ENABLED, "always", old_thp, sizeof(old_thp)) ||
		    !set_knob(THP_SHMEM, "always", old_thp_shmem,
			      sizeof(old_thp_shmem)))) {
		fprintf(stderr, "mshare-torture: --thp: cannot set %s and %s\n",
			THP_ENABLED, THP_SHMEM);
		return 2;
	}
	ksm = set_knob(KSM_RUN, "1", old_ksm, sizeof(old_ksm));
	balancing = set_knob(NUMA_BALANCING, "1", old_balancing,
			     sizeof(old_balancing));
	pswpout = vmstat_count("pswpout");
	pswpin = vmstat_count("pswpin");

	/* Inherited by the children: SIGALRM tells each of them to stop. */
	signal(SIGALRM, on_alarm);
	for (int w = 0; w < workers; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			join_cgroup(cgroup);
			worker(fd, align, records, w, workers, &states[w],
			       last_seq);
		}
	}
	presser = fork();
	if (presser == 0) {
		join_cgroup(cgroup);
		pressure_run(cgroup, file_fd, size_mib << 20, &stop, counters);
		_exit(0);
	}
	sleep((unsigned int)seconds);
	/* Before the workers go: their duplicate pages are what KSM shares */
	ksm_shared = ksm ? file_number("/sys/kernel/mm/ksm/pages_sharing") : 0;
	shmem_pmd_kb = meminfo_kb("ShmemPmdMapped");
	for (int w = 0; w < workers; w++)
		kill(pids[w], SIGALRM);
	for (int w = 0; w < workers; w++) {
		waitpid(pids[w], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    states[w].failed) {
			printf("worker %d: %s\n", w, states[w].failed ?
			       states[w].failure : "died");
			bad = 1;
		}
	}
	kill(presser, SIGALRM);
	waitpid(presser, &status, 0);
	reclaims_ok = counters->reclaims;
	pswpout = vmstat_count("pswpout") - pswpout;
	pswpin = vmstat_count("pswpin") - pswpin;

	/* Every record, read from the file itself, holds its last write. */
	fsync(file_fd);
	for (uint64_t r = 0; r < records && !bad; r++) {
		if (pread(file_fd, &rec, sizeof(rec), (off_t)(r * RECORD_SIZE)) !=
		    (ssize_t)sizeof(rec)) {
			printf("pread record %llu: %s\n", (unsigned long long)r,
			       strerror(errno));
			bad = 1;
		} else if (rec.seq != 2 * last_seq[r] || !record_valid(&rec, r)) {
			printf("record %llu holds seq %llu, its writer's last is %llu\n",
			       (unsigned long long)r, (unsigned long long)rec.seq / 2,
			       (unsigned long long)last_seq[r]);
			bad = 1;
		}
	}

	for (int w = 0; w < workers; w++)
		printf("# worker %d: %llu writes, %llu reads of others' records\n", w,
		       (unsigned long long)states[w].writes,
		       (unsigned long long)states[w].reads);
	printf("# %lu s, %d workers, %lu MiB of %s, memory.high %lu MiB (0: none), %lu memory.reclaim rounds%s, %lu compactions\n",
	       seconds, workers, size_mib, dir ? dir : "shmem (memfd)",
	       limit_mib, reclaims_ok,
	       cgroup[0] ? "" : " (no memory cgroup)", counters->compactions);
	printf("# %ld pages swapped out, %ld in; %d NUMA nodes, %lu move_pages rounds moved %lu pages; NUMA balancing %s, KSM %s (%ld pages shared)\n",
	       pswpout, pswpin, pressure_numa_nodes(), counters->migrate_rounds,
	       counters->pages_migrated, balancing ? "on" : "absent",
	       ksm ? "on" : "absent", ksm_shared);
	if (thp) {
		printf("# THP always: %ld kB of shmem PMD-mapped at the end\n",
		       shmem_pmd_kb);
		(void)write_text_file(THP_ENABLED, old_thp);
		(void)write_text_file(THP_SHMEM, old_thp_shmem);
	}
	if (ksm)
		(void)write_text_file(KSM_RUN, old_ksm);
	if (balancing)
		(void)write_text_file(NUMA_BALANCING, old_balancing);
	if (cgroup[0])
		rmdir(cgroup);
	if (dir)
		unlink(file);
	printf("%s\n", bad ? "FAIL" : "ok: no lost, stale or torn record");
	return bad;
}
