/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-ptdemo: shows what msharefs saves.
 *
 *   mshare-ptdemo [--size MiB] [--procs N] [--mode both|mshare|plain]
 *
 * Puts SIZE MiB (default 256) of anonymous shared memory in an msharefs
 * region and lets N processes (default 8) attach it and touch every page,
 * one after another; then does the same with a plain MAP_SHARED|MAP_ANONYMOUS
 * mapping that the N processes inherit across fork.  Prints per-process
 * VmPTE growth, the summed growth, the growth of the system's PageTables,
 * and how long the first and the later processes took to touch everything,
 * for both and as ratios.
 *
 * Exits 77 (the automake "skipped" code) when msharefs is needed but not
 * mounted at $MSHARE_MOUNT (default /sys/fs/mshare).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mshare-child.h"
#include "mshare-procfs.h"
#include "mshare-ptmeasure.h"
#include "mshare-region.h"

#define EXIT_SKIP 77

struct mode_result {
	const char *name;
	int procs;
	struct pt_sample *samples;
	long pagetables_baseline_kb, pagetables_touched_kb;
	long vmpte_growth_sum_kb;	/* over all processes */
	long own_tables_kb;		/* the processes' VmPTE before touching */
	double first_touch_s, later_touch_mean_s;
	double later_faults_mean;
	bool ok;
};

static char region_path[4096];

static void remove_region(void)
{
	if (region_path[0])
		unlink(region_path);
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out, "usage: %s [--size MiB] [--procs N] [--mode both|mshare|plain]\n",
		argv0);
}

/* Runs the N workers for JOB one after another and summarises them. */
static bool run_mode(struct mode_result *r, struct pt_job *job)
{
	struct pt_worker *workers = calloc((size_t)r->procs, sizeof(*workers));
	char buf[64];
	int i, started = 0;

	r->ok = workers != NULL;
	for (i = 0; r->ok && i < r->procs; i++) {
		job->write = (i == 0);
		job->verify = (i != 0);
		if (pt_worker_start(&workers[i], job) != 0) {
			perror("mshare-ptdemo: fork");
			r->ok = false;
			break;
		}
		started++;
		if (pt_worker_sample(&workers[i], &r->samples[i]) != 0) {
			fprintf(stderr, "mshare-ptdemo: %s: process %d died\n",
				r->name, i + 1);
			r->ok = false;
		} else if (r->samples[i].error) {
			fprintf(stderr, "mshare-ptdemo: %s: process %d cannot attach: %s\n",
				r->name, i + 1, strerror(r->samples[i].error));
			r->ok = false;
		} else if (r->samples[i].bad_pages) {
			fprintf(stderr, "mshare-ptdemo: %s: process %d saw %ld wrong pages\n",
				r->name, i + 1, r->samples[i].bad_pages);
			r->ok = false;
		}
	}
	/* Everyone is attached and done touching: the moment to measure. */
	r->pagetables_touched_kb = meminfo_kb("PageTables");
	for (i = 0; i < started; i++) {
		int status = pt_worker_release(&workers[i]);

		if (!exited_ok(status) && r->ok) {
			fprintf(stderr, "mshare-ptdemo: %s: process %d: %s\n",
				r->name, i + 1,
				describe_status(status, buf, sizeof(buf)));
			r->ok = false;
		}
	}
	free(workers);
	if (!r->ok)
		return false;

	for (i = 0; i < r->procs; i++) {
		const struct pt_sample *s = &r->samples[i];

		r->vmpte_growth_sum_kb += s->vmpte_after_kb - s->vmpte_before_kb;
		r->own_tables_kb += s->vmpte_before_kb;
		if (i == 0)
			r->first_touch_s = s->touch_seconds;
		else {
			r->later_touch_mean_s += s->touch_seconds / (r->procs - 1);
			r->later_faults_mean += (double)s->minor_faults / (r->procs - 1);
		}
	}
	return true;
}

static bool run_mshare(struct mode_result *r, size_t bytes)
{
	struct pt_job job = { .touch_bytes = bytes, .seed = 0xd3e0 };
	uint64_t align;
	int fd, err;

	err = mshare_read_alignment(mshare_mount(), &align);
	if (err) {
		fprintf(stderr, "mshare-ptdemo: %s/%s: %s\n", mshare_mount(),
			MSHAREFS_INFO_NAME, strerror(err));
		return false;
	}
	snprintf(region_path, sizeof(region_path), "%s/ptdemo-%ld",
		 mshare_mount(), (long)getpid());
	r->pagetables_baseline_kb = meminfo_kb("PageTables");
	fd = mshare_create(region_path, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)align) != 0 ||
	    (errno = mshare_map_anon(fd, 0, bytes, PROT_READ | PROT_WRITE)) != 0) {
		fprintf(stderr, "mshare-ptdemo: set up %s: %s\n", region_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	job.region_path = region_path;
	run_mode(r, &job);
	remove_region();
	region_path[0] = '\0';
	close(fd);
	return r->ok;
}

static bool run_plain(struct mode_result *r, size_t bytes)
{
	struct pt_job job = { .touch_bytes = bytes, .seed = 0x91a1 };

	r->pagetables_baseline_kb = meminfo_kb("PageTables");
	job.inherited = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (job.inherited == MAP_FAILED) {
		perror("mshare-ptdemo: mmap");
		return false;
	}
	run_mode(r, &job);
	munmap(job.inherited, bytes);
	return r->ok;
}

static void print_mode(const struct mode_result *r)
{
	int i;

	printf("\n%s\n", r->name);
	printf("  proc  touch  VmPTE-growth  VmRSS-growth   touch-ms   faults\n");
	for (i = 0; i < r->procs; i++) {
		const struct pt_sample *s = &r->samples[i];

		printf("  %4d  %-5s  %9ld kB  %9ld kB  %9.1f  %7ld\n", i + 1,
		       i ? "read" : "write",
		       s->vmpte_after_kb - s->vmpte_before_kb,
		       s->rss_after_kb - s->rss_before_kb,
		       s->touch_seconds * 1e3, s->minor_faults);
	}
	printf("  summed VmPTE growth            %9ld kB\n",
	       r->vmpte_growth_sum_kb);
	printf("  PageTables growth (meminfo)    %9ld kB"
	       "  (%ld kB of it the processes' own tables)\n",
	       r->pagetables_touched_kb - r->pagetables_baseline_kb,
	       r->own_tables_kb);
	printf("  first process touch            %9.1f ms\n",
	       r->first_touch_s * 1e3);
	if (r->procs > 1) {
		printf("  later processes, mean touch    %9.1f ms\n",
		       r->later_touch_mean_s * 1e3);
		printf("  later processes, mean faults   %9.1f\n",
		       r->later_faults_mean);
	}
}

/* "12.3x" or "n/a" when the divisor is not positive. */
static void print_ratio(const char *what, double plain, double mshare)
{
	if (mshare > 0)
		printf("  %-32s %9.1fx\n", what, plain / mshare);
	else
		printf("  %-32s %9s  (plain %.1f, msharefs %.1f)\n", what,
		       "n/a", plain, mshare);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long size_mib = 256, procs = 8;
	bool want_mshare = true, want_plain = true;
	struct mode_result mshare = { .name = NULL }, plain = { .name = NULL };
	char why[512];
	size_t bytes;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:p:m:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			size_mib = strtol(optarg, NULL, 10);
			break;
		case 'p':
			procs = strtol(optarg, NULL, 10);
			break;
		case 'm':
			want_mshare = !strcmp(optarg, "both") || !strcmp(optarg, "mshare");
			want_plain = !strcmp(optarg, "both") || !strcmp(optarg, "plain");
			if (!want_mshare && !want_plain) {
				usage(stderr, argv[0]);
				return 2;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc || size_mib <= 0 || size_mib > (1L << 20) ||
	    procs < 1 || procs > 4096) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (want_mshare && mshare_check_mount(mshare_mount(), why, sizeof(why))) {
		printf("mshare-ptdemo: SKIP: %s; this kernel has no msharefs "
		       "(run it in the patched kernel's VM, or use --mode plain)\n",
		       why);
		return EXIT_SKIP;
	}
	bytes = (size_t)size_mib << 20;
	atexit(remove_region);

	printf("mshare-ptdemo: %ld MiB anonymous shared memory, %ld processes "
	       "(PTEs for all of it: %ld kB per process)\n", size_mib, procs,
	       pte_kb_for(bytes));
	mshare.procs = plain.procs = (int)procs;
	mshare.samples = calloc((size_t)procs, sizeof(struct pt_sample));
	plain.samples = calloc((size_t)procs, sizeof(struct pt_sample));
	if (!mshare.samples || !plain.samples) {
		perror("mshare-ptdemo");
		return 1;
	}
	mshare.name = "msharefs region (each process attaches it by name)";
	plain.name = "plain MAP_SHARED|MAP_ANONYMOUS (inherited across fork)";

	if (want_mshare) {
		if (!run_mshare(&mshare, bytes))
			return 1;
		print_mode(&mshare);
	}
	if (want_plain) {
		if (!run_plain(&plain, bytes))
			return 1;
		print_mode(&plain);
	}
	if (want_mshare && want_plain) {
		printf("\nplain / msharefs\n");
		print_ratio("summed VmPTE growth", plain.vmpte_growth_sum_kb,
			    mshare.vmpte_growth_sum_kb);
		print_ratio("PageTables growth",
			    plain.pagetables_touched_kb - plain.pagetables_baseline_kb -
			    plain.own_tables_kb,
			    mshare.pagetables_touched_kb - mshare.pagetables_baseline_kb -
			    mshare.own_tables_kb);
		print_ratio("first process touch time", plain.first_touch_s,
			    mshare.first_touch_s);
		if (procs > 1)
			print_ratio("later processes' touch time",
				    plain.later_touch_mean_s,
				    mshare.later_touch_mean_s);
		printf("  (PageTables growth here excludes the processes' own tables)\n");
	}
	return 0;
}
