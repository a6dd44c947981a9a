/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pt-scaling: page-table memory and attach+first-touch time of a SysV
 * shared memory segment versus the number of processes attached to it.
 *
 *   pt-scaling --mode stock|hugetlb|shim [--size MiB] [--procs 1,2,4,...]
 *              [--touch write|read|sparse] [--tsc-hz HZ]
 *   pt-scaling --calibrate
 *   pt-scaling --warmup MiB
 *
 * For every N in --procs the program creates a fresh segment of SIZE MiB
 * (SHM_HUGETLB in hugetlb mode), then starts N processes one after another.
 * Each of them looks the segment up by key (shmget) and attaches it (shmat)
 * itself -- nothing is inherited, so every process pays for its own page
 * tables and faults -- and touches every 4 KiB page.  The first process
 * writes every page; the later ones write the same word again (so each takes
 * a write fault, without read fault-around) and then check, untimed, a
 * second word the first process wrote, which proves they see its memory.
 * With --touch sparse every process touches one page per 2 MiB only (the
 * first writes two words there, the later ones write one and check the
 * other): a PTE page is allocated whole for the first entry it holds, so
 * that costs a stock process the same page tables as touching every page
 * (4 KiB per 2 MiB of segment) without faulting every page, which is how
 * thousands of processes can be measured in a small VM.
 * They stay attached until all N are done, when the program reads the
 * system's PageTables from /proc/meminfo; then they detach and the segment
 * is removed.
 *
 * "shim" mode is stock SysV code run under LD_PRELOAD=libmshare-shim.so; the
 * program checks in /proc/self/smaps of every process that the attachment
 * really shares page tables (VmFlags "st": an msharefs region of the shim's,
 * or the segment itself through the kernel's SHM_SHARE_MMU, the shim's way
 * on a kernel that has it), and fails if it does not.  It makes no other
 * difference between the modes: the shim decides.
 *
 * Output: '#' comment lines and one CSV line per N (header first), on
 * stdout.  Columns:
 *   mode,procs,size_mib,pages,vmpte_growth_sum_kb,pagetables_delta_kb,
 *   own_tables_kb,segment_pt_kb,first_ms,later_median_ms,first_faults,
 *   later_median_faults,mapping,later_attach_ms,later_retouch_ms
 * segment_pt_kb = pagetables_delta_kb - own_tables_kb: the page-table memory
 * the segment costs the system (own_tables_kb is the sum of the processes'
 * VmPTE before they attached: their own tables, not the segment's).
 * first_ms/later_median_ms: shmget+shmat+touch of every page, first process
 * and median of the others.  mapping: what /proc/PID/maps showed.
 * later_attach_ms: the shmget+shmat part of later_median_ms (median);
 * later_retouch_ms: the same touch loop run again at once, with every page
 * mapped (median) -- the floor no sharing of page tables can go below.
 *
 * Timing: CLOCK_MONOTONIC, or the TSC where that clock is coarse (see
 * bench-clock.h); --calibrate prints the TSC rate measured over 2 s (a
 * '#' line, then the rate in Hz, 0 when not needed) for --tsc-hz.
 * --warmup touches and frees MiB of private memory, so that a VM's host
 * has backed the guest's memory before anything is timed.
 *
 * Exit status: 0; 1 on a failed measurement; 2 usage; 77 (skip) when the
 * mode cannot run here (no huge pages reserved, no msharefs), with a
 * "# SKIP reason" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"
#include "mshare-child.h"
#include "mshare-held-child.h"
#include "mshare-procfs.h"

#define EXIT_SKIP 77
#define PAGE 4096u
#define MAX_PROCS 4096
/* --touch sparse: one page touched per PTE page's reach (2 MiB) */
#define SPARSE_STRIDE_PAGES 512u
#define MAX_CONFIGS 64

enum mode { MODE_STOCK, MODE_HUGETLB, MODE_SHIM };
enum touch { TOUCH_WRITE, TOUCH_READ, TOUCH_SPARSE };
static const char *const touch_names[] = { "write", "read", "sparse" };
static const char *const mode_names[] = { "stock", "hugetlb", "shim" };

enum mapping { MAP_UNKNOWN, MAP_SYSV, MAP_MSHAREFS, MAP_OTHER,
	       MAP_SYSV_SHARED };
static const char *const mapping_names[] = { "unknown", "sysv", "msharefs",
					     "other", "sysv-shared-tables" };

struct sample {
	long vmpte_before_kb, vmpte_after_kb;
	double attach_touch_s;
	double attach_s;	/* shmget + shmat alone */
	double retouch_s;	/* touching it all again, everything mapped */
	long faults;
	long bad_pages;
	int error;		/* errno of a failed shmget/shmat */
	int failed_step;	/* 1 shmget, 2 shmat */
	int mapping;		/* enum mapping */
	char path[200];		/* maps path column of the attachment */
};

struct job {
	key_t key;
	size_t bytes;
	bool first;
	enum touch touch;
	const char *mshare_prefix;	/* "<mount>/" */
};

/* Pages a process touches: every one, or one per 2 MiB. */
static size_t touch_stride(const struct job *job)
{
	return job->touch == TOUCH_SPARSE ? SPARSE_STRIDE_PAGES : 1;
}

static uint64_t page_word(size_t page, uint32_t salt)
{
	return ((uint64_t)salt << 32) | (uint64_t)(page + 1);
}

static int classify(const void *addr, const char *path,
		    const char *mshare_prefix)
{
	if (strncmp(path, mshare_prefix, strlen(mshare_prefix)) == 0)
		return MAP_MSHAREFS;
	if (strncmp(path, "/SYSV", 5) == 0)
		return smaps_shares_tables(addr) == 1 ? MAP_SYSV_SHARED : MAP_SYSV;
	return MAP_OTHER;
}

static void attach_and_touch(const struct job *job, struct sample *s,
			     unsigned char **basep)
{
	size_t page, stride, pages = job->bytes / PAGE;
	struct rusage before, after;
	unsigned char *base;
	double start;
	int id;

	getrusage(RUSAGE_SELF, &before);
	start = bench_now_seconds();
	id = shmget(job->key, 0, 0);
	if (id < 0) {
		s->error = errno;
		s->failed_step = 1;
		return;
	}
	base = shmat(id, NULL, 0);
	if (base == (void *)-1) {
		s->error = errno;
		s->failed_step = 2;
		return;
	}
	s->attach_s = bench_now_seconds() - start;
	stride = touch_stride(job);
	for (page = 0; page < pages; page += stride) {
		volatile uint64_t *w = (uint64_t *)(base + page * PAGE);

		if (job->first) {
			w[0] = page_word(page, 0x5e9);
			w[1] = page_word(page, 0xf1f);
		} else if (job->touch == TOUCH_READ) {
			(void)w[1];
		} else {
			w[0] = page_word(page, 0x5e9);
		}
	}
	s->attach_touch_s = bench_now_seconds() - start;
	getrusage(RUSAGE_SELF, &after);
	s->faults = after.ru_minflt - before.ru_minflt +
		    after.ru_majflt - before.ru_majflt;
	*basep = base;

	/*
	 * The floor: the same loop again, now that every page is mapped.
	 * What the first pass took beyond this went to faults (and attach).
	 */
	start = bench_now_seconds();
	for (page = 0; page < pages; page += stride) {
		volatile uint64_t *w = (uint64_t *)(base + page * PAGE);

		if (job->touch == TOUCH_READ)
			(void)w[1];
		else
			w[0] = page_word(page, 0x5e9);
	}
	s->retouch_s = bench_now_seconds() - start;
}

static int worker_main(void *arg, const struct held_child_io *io)
{
	const struct job *job = arg;
	unsigned char *base = NULL;
	struct sample s;
	unsigned long end;
	size_t page;

	memset(&s, 0, sizeof(s));
	s.vmpte_before_kb = proc_self_status_kb("VmPTE");
	attach_and_touch(job, &s, &base);
	if (!s.error) {
		s.vmpte_after_kb = proc_self_status_kb("VmPTE");
		if (!job->first) {
			for (page = 0; page < job->bytes / PAGE;
			     page += touch_stride(job)) {
				const uint64_t *w =
					(const uint64_t *)(base + page * PAGE);

				if (w[1] != page_word(page, 0xf1f))
					s.bad_pages++;
			}
		}
		if (maps_lookup(base, &end, s.path, sizeof(s.path)) == 0)
			s.mapping = classify(base, s.path, job->mshare_prefix);
	}
	if (held_child_send(io, &s, sizeof(s)) != 0)
		return 2;
	held_child_wait(io);
	if (base && shmdt(base) != 0)
		return 3;
	return s.error ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The system's PageTables in kB.  The kernel keeps per-CPU deltas of this
 * counter (up to its vmstat threshold, hundreds of kB on a small machine)
 * and /proc/meminfo does not add them; writing /proc/sys/vm/stat_refresh
 * (root) folds them in first.  Without root the number is less exact.
 */
static long pagetables_kb(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1\n", 2) < 0) {
			/* not root, or no such file: use what meminfo says */
		}
		close(fd);
	}
	return meminfo_kb("PageTables");
}

/* Removes a segment left behind under KEY by an earlier, killed run. */
static void remove_stale(key_t key)
{
	int id = shmget(key, 0, 0);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
}

struct config_result {
	long vmpte_growth_sum_kb, pagetables_delta_kb, own_tables_kb;
	double first_ms, later_median_ms, first_faults, later_median_faults;
	double later_attach_ms, later_retouch_ms;
	int mapping;
};

static bool run_config(enum mode mode, int procs, size_t bytes,
		       enum touch touch, key_t key, const char *mshare_prefix,
		       struct config_result *r)
{
	struct job job = { .key = key, .bytes = bytes, .touch = touch,
			   .mshare_prefix = mshare_prefix };
	struct held_child *workers = calloc((size_t)procs, sizeof(*workers));
	struct sample *samples = calloc((size_t)procs, sizeof(*samples));
	double *later_ms = calloc((size_t)procs, sizeof(double));
	double *later_faults = calloc((size_t)procs, sizeof(double));
	double *later_attach = calloc((size_t)procs, sizeof(double));
	double *later_retouch = calloc((size_t)procs, sizeof(double));
	long pagetables_base;
	int i, id, started = 0, flags = IPC_CREAT | IPC_EXCL | 0600;
	bool ok = workers && samples && later_ms && later_faults &&
		  later_attach && later_retouch;
	char buf[64];

	memset(r, 0, sizeof(*r));
	if (!ok) {
		perror("pt-scaling");
		goto out;
	}
	if (mode == MODE_HUGETLB)
		flags |= SHM_HUGETLB;
	remove_stale(key);
	pagetables_base = pagetables_kb();
	id = shmget(key, bytes, flags);
	if (id < 0) {
		fprintf(stderr, "pt-scaling: %s: shmget(%#x, %zu MiB): %s\n",
			mode_names[mode], (unsigned)key, bytes >> 20,
			strerror(errno));
		ok = false;
		goto out;
	}
	for (i = 0; ok && i < procs; i++) {
		const struct sample *s = &samples[i];

		job.first = (i == 0);
		/* Each child reads the job from its own copy of our memory. */
		if (held_child_start(&workers[i], worker_main, &job) != 0) {
			perror("pt-scaling: fork");
			ok = false;
			break;
		}
		started++;
		if (held_child_result(&workers[i], &samples[i],
				      sizeof(samples[i])) != 0) {
			fprintf(stderr, "pt-scaling: %s N=%d: process %d died\n",
				mode_names[mode], procs, i + 1);
			ok = false;
		} else if (s->error) {
			fprintf(stderr, "pt-scaling: %s N=%d: process %d: %s: %s\n",
				mode_names[mode], procs, i + 1,
				s->failed_step == 1 ? "shmget" : "shmat",
				strerror(s->error));
			ok = false;
		} else if (s->bad_pages) {
			fprintf(stderr, "pt-scaling: %s N=%d: process %d saw %ld pages without the first process's data\n",
				mode_names[mode], procs, i + 1, s->bad_pages);
			ok = false;
		} else if (mode == MODE_SHIM && s->mapping != MAP_MSHAREFS &&
			   s->mapping != MAP_SYSV_SHARED) {
			fprintf(stderr, "pt-scaling: shim N=%d: process %d: the attachment is '%s', neither an msharefs region under %s nor the segment with shared tables (is the shim preloaded and configured?)\n",
				procs, i + 1, s->path, mshare_prefix);
			ok = false;
		} else if (mode != MODE_SHIM && s->mapping != MAP_SYSV) {
			fprintf(stderr, "pt-scaling: %s N=%d: process %d: the attachment is '%s', not a SysV segment\n",
				mode_names[mode], procs, i + 1, s->path);
			ok = false;
		}
	}
	/* Everyone is attached and done touching: measure now. */
	r->pagetables_delta_kb = pagetables_kb() - pagetables_base;
	for (i = 0; i < started; i++) {
		int status = held_child_release(&workers[i]);

		if (!exited_ok(status) && ok) {
			fprintf(stderr, "pt-scaling: %s N=%d: process %d: %s\n",
				mode_names[mode], procs, i + 1,
				describe_status(status, buf, sizeof(buf)));
			ok = false;
		}
	}
	if (shmctl(id, IPC_RMID, NULL) != 0) {
		fprintf(stderr, "pt-scaling: shmctl(IPC_RMID): %s\n",
			strerror(errno));
		ok = false;
	}
	if (!ok)
		goto out;
	for (i = 0; i < procs; i++) {
		const struct sample *s = &samples[i];

		r->vmpte_growth_sum_kb += s->vmpte_after_kb - s->vmpte_before_kb;
		r->own_tables_kb += s->vmpte_before_kb;
		if (i == 0) {
			r->first_ms = s->attach_touch_s * 1e3;
			r->first_faults = (double)s->faults;
		} else {
			later_ms[i - 1] = s->attach_touch_s * 1e3;
			later_faults[i - 1] = (double)s->faults;
			later_attach[i - 1] = s->attach_s * 1e3;
			later_retouch[i - 1] = s->retouch_s * 1e3;
		}
	}
	r->later_median_ms = median(later_ms, procs - 1);
	r->later_median_faults = median(later_faults, procs - 1);
	r->later_attach_ms = median(later_attach, procs - 1);
	r->later_retouch_ms = median(later_retouch, procs - 1);
	r->mapping = samples[0].mapping;
	printf("# %s N=%d: first process attached %s\n", mode_names[mode],
	       procs, samples[0].path);
out:
	free(workers);
	free(samples);
	free(later_ms);
	free(later_faults);
	free(later_attach);
	free(later_retouch);
	return ok;
}

/*
 * Touches and frees MIB of memory.  Under QEMU the first use of a guest
 * page also costs the host a fault in QEMU's own memory; doing that once
 * here keeps it out of the first configuration measured.
 */
static int warm_up(long mib)
{
	size_t bytes = (size_t)mib << 20, off;
	unsigned char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double start = bench_monotonic_seconds();

	if (p == MAP_FAILED) {
		perror("pt-scaling: warm-up mmap");
		return 1;
	}
	for (off = 0; off < bytes; off += PAGE)
		p[off] = 1;
	munmap(p, bytes);
	printf("# warmed up %ld MiB of memory in %.1f s\n", mib,
	       bench_monotonic_seconds() - start);
	return 0;
}

/* "1,2,4" into LIST; returns the count or -1. */
static int parse_procs(const char *text, int *list, int max)
{
	int n = 0;
	const char *p = text;

	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v < 1 || v > MAX_PROCS || n == max)
			return -1;
		list[n++] = (int)v;
		if (*end == ',' && end[1])
			p = end + 1;
		else if (*end == '\0')
			p = end;
		else
			return -1;
	}
	return n ? n : -1;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: pt-scaling --mode stock|hugetlb|shim [--size MiB] "
		"[--procs N[,N...]] [--touch write|read|sparse] [--tsc-hz HZ]\n"
		"       pt-scaling --calibrate\n"
		"       pt-scaling --warmup MiB\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "touch", required_argument, NULL, 't' },
		{ "tsc-hz", required_argument, NULL, 'z' },
		{ "calibrate", no_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double tsc_given = 0;
	int procs[MAX_CONFIGS], nconfigs = -1, opt, i;
	long size_mib = 256;
	int mode = -1;
	enum touch touch = TOUCH_WRITE;
	const char *mount = getenv("MSHARE_MOUNT");
	char prefix[4096];
	size_t bytes;

	while ((opt = getopt_long(argc, argv, "m:s:p:t:h", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			for (i = 0; i < 3; i++)
				if (!strcmp(optarg, mode_names[i]))
					mode = i;
			break;
		case 's':
			size_mib = strtol(optarg, NULL, 10);
			break;
		case 'p':
			nconfigs = parse_procs(optarg, procs, MAX_CONFIGS);
			break;
		case 't':
			for (i = 0; i < 3 && strcmp(optarg, touch_names[i]); i++)
				;
			if (i < 3)
				touch = i;
			else
				size_mib = -1;
			break;
		case 'z':
			tsc_given = strtod(optarg, NULL);
			break;
		case 'w':
			return warm_up(strtol(optarg, NULL, 10) > 0 ?
				       strtol(optarg, NULL, 10) : 1);
		case 'c':
			/* Print the TSC rate (0: not needed) for --tsc-hz. */
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
	if (nconfigs == -1 && optind == argc) {
		static const int dflt[] = { 1, 2, 4, 8, 16, 32, 64 };

		nconfigs = 7;
		memcpy(procs, dflt, sizeof(dflt));
	}
	if (optind != argc || mode < 0 || nconfigs < 1 || size_mib < 1 ||
	    size_mib > (1L << 20)) {
		usage(stderr);
		return 2;
	}
	bytes = (size_t)size_mib << 20;
	snprintf(prefix, sizeof(prefix), "%s/",
		 mount && *mount ? mount : "/sys/fs/mshare");
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_clock_choose(tsc_given, 0.5);

	if (mode == MODE_HUGETLB) {
		size_t hp = default_hugepage_size();
		long free_hp = meminfo_kb("HugePages_Free");

		if (hp == 0 || free_hp < 0 ||
		    (size_t)free_hp * hp < bytes) {
			printf("# SKIP hugetlb: %ld MiB need %zu huge pages of %zu kB, "
			       "%ld are free (reserve them, e.g. vm-run.sh --hugepages)\n",
			       size_mib, hp ? (bytes + hp - 1) / hp : 0, hp >> 10,
			       free_hp);
			return EXIT_SKIP;
		}
	}
	if (mode == MODE_SHIM && access(prefix, F_OK) != 0) {
		printf("# SKIP shim: no msharefs at %s\n", prefix);
		return EXIT_SKIP;
	}

	printf("# pt-scaling mode=%s size=%ld MiB touch=%s pages=%zu "
	       "(4 KiB PTEs for all of it: %zu kB per process)\n",
	       mode_names[mode], size_mib, touch_names[touch],
	       bytes / PAGE, bytes / PAGE * 8 / 1024);
	printf("mode,procs,size_mib,pages,vmpte_growth_sum_kb,pagetables_delta_kb,"
	       "own_tables_kb,segment_pt_kb,first_ms,later_median_ms,"
	       "first_faults,later_median_faults,mapping,later_attach_ms,"
	       "later_retouch_ms\n");
	for (i = 0; i < nconfigs; i++)
		if (held_child_reserve_fds(procs[i], "pt-scaling") != 0)
			return 1;
	for (i = 0; i < nconfigs; i++) {
		struct config_result r;
		key_t key = (key_t)(0x50540000u | ((unsigned)mode << 8) |
				    (unsigned)i);

		if (!run_config(mode, procs[i], bytes, touch, key, prefix, &r))
			return 1;
		printf("%s,%d,%ld,%zu,%ld,%ld,%ld,%ld,%.3f,%.3f,%.0f,%.0f,%s,"
		       "%.3f,%.3f\n",
		       mode_names[mode], procs[i], size_mib, bytes / PAGE,
		       r.vmpte_growth_sum_kb, r.pagetables_delta_kb,
		       r.own_tables_kb, r.pagetables_delta_kb - r.own_tables_kb,
		       r.first_ms, r.later_median_ms, r.first_faults,
		       r.later_median_faults, mapping_names[r.mapping],
		       r.later_attach_ms, r.later_retouch_ms);
	}
	return 0;
}
