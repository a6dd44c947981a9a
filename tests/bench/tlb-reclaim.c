// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The TLB shootdowns of reclaim: N processes map one shmem segment, plainly
 * (MAP_SHARED of a memfd) or through an msharefs region that maps it, while
 * memory.reclaim of the segment's memory cgroup swaps it out.  Prints one CSV
 * row: the reclaim's time, the TLB shootdown IPIs (the TLB row of
 * /proc/interrupts, summed over CPUs) and the remote flushes it sent; a
 * comment line before it gives the share of user time on the attachers'
 * CPUs during the reclaim (how much the busy ones really ran).  The row
 * ends with whether NUMA balancing was on (kernel.numa_balancing non-zero)
 * and the growth of vmstat's numa_pte_updates (system-wide: the PTEs it made
 * PROT_NONE) between the attachers' start and the reclaim, and during it: a
 * plain mapping's PTEs it changed are no longer accessible, so reclaim clears
 * them without a flush, where a region's attachments are never scanned.
 * Last comes vmstat's pswpin: the pages faulted back in during the reclaim.
 *
 *   tlb-reclaim --mode plain|region --size MiB --procs N
 *               [--attachers busy|faulting|idle] [--pool clean|dirty]
 *               [--tsc-hz HZ]
 *   tlb-reclaim --calibrate
 *   tlb-reclaim --header
 *
 * The first process fills the segment with pwrite() (in the segment's
 * cgroup, so that it is charged there; its PTEs stay clean), then N
 * attachers read every page (--pool clean: a read-mostly pool) or write a
 * word of every page (--pool dirty: every attacher may hold a writable TLB
 * entry, so reclaim flushes before each page's write-out), so that each
 * maps all of them (plain) or uses the region's tables (region).  Attachers
 * run on every CPU but the first: busy ones spin on a word of their stack,
 * so that those CPUs always run an attacher; faulting ones spin on a word of
 * their own page of the pool instead, which they fault back in during the
 * reclaim; idle ones sleep.  The reclaim runs on the first CPU.  Needs
 * root, cgroup2 with the memory controller and swap; exits 77 (skip)
 * without them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-clock.h"
#include "mshare-procfs.h"
#include "mshare-region.h"

#define EXIT_SKIP 77
#define MAX_PROCS 4096
#define PAGE 4096UL

struct counters {
	long tlb_ipis;
	long remote_flushes;
	long remote_received;
	long pswpout;
	long pswpin;
	long charged_kb;
	long numa_pte_updates;
	/* /proc/stat of the attachers' CPUs (all but cpu0): user, and all */
	unsigned long long others_user, others_total;
};

/*
 * User and total ticks of every CPU but cpu0, from /proc/stat.  Busy
 * attachers spin in user mode there: the share of user time during the
 * reclaim tells how much of it they really ran, and so how many of their
 * mms a flush could find on a CPU.
 */
static void others_cpu_ticks(unsigned long long *user,
			     unsigned long long *total)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[512];

	*user = *total = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		int cpu;

		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu",
			   &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7]) != 9 || cpu == 0)
			continue;
		*user += v[0] + v[1];
		*total += v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] +
			  v[7];
	}
	fclose(f);
}

/* The TLB row of /proc/interrupts, summed over the CPUs; -1 if none. */
static long tlb_ipis(void)
{
	FILE *f = fopen("/proc/interrupts", "re");
	char line[4096];
	long sum = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4) != 0)
			continue;
		sum = 0;
		for (p += 4;; p = end) {
			long n = strtol(p, &end, 10);

			if (end == p)
				break;
			sum += n;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* RssShmem of PID in kB, and whether it is running ('R'); -1 if gone. */
static long attacher_rss_shmem(pid_t pid, bool *running)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "State:", 6) == 0)
			*running = strchr(line, 'R') != NULL;
		else if (strncmp(line, "RssShmem:", 9) == 0)
			kb = strtol(line + 9, NULL, 10);
	}
	fclose(f);
	return kb;
}

static void read_counters(const char *cgroup, struct counters *c)
{
	char path[512];

	c->tlb_ipis = tlb_ipis();
	c->remote_flushes = vmstat_count("nr_tlb_remote_flush");
	c->remote_received = vmstat_count("nr_tlb_remote_flush_received");
	c->pswpout = vmstat_count("pswpout");
	c->pswpin = vmstat_count("pswpin");
	snprintf(path, sizeof(path), "%s/memory.current", cgroup);
	c->charged_kb = file_number(path) / 1024;
	c->numa_pte_updates = vmstat_count("numa_pte_updates");
	others_cpu_ticks(&c->others_user, &c->others_total);
}

static bool make_cgroup(char *dir, size_t len, const char *what)
{
	snprintf(dir, len, "%s/tlb-reclaim-%ld-%s", CGROUP_ROOT,
		 (long)getpid(), what);
	return cgroup_memory_create(dir);
}

/* Every CPU but the first, or the only one. */
static void pin_away_from_first(int cpus)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = cpus > 1 ? 1 : 0; cpu < cpus; cpu++)
		CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

/* Every page, a different word in each 256 bytes, by pwrite(). */
static bool fill(int fd, size_t pages)
{
	uint64_t buf[PAGE / 8];
	size_t i, w;

	memset(buf, 0, sizeof(buf));
	for (i = 0; i < pages; i++) {
		for (w = 0; w < PAGE / 8; w += 32)
			buf[w] = i * PAGE + w;
		if (pwrite(fd, buf, PAGE, (off_t)(i * PAGE)) != (ssize_t)PAGE)
			return false;
	}
	return true;
}

/*
 * An attacher: map every page, say so, then keep a CPU busy or sleep.  A
 * busy one spins on a word of its stack, a faulting one on a word of its
 * own page of the pool: it faults that page back in whenever reclaim took
 * it, and plain sharing then maps it in that process alone, where a region
 * maps it for every attacher.
 */
static void attacher(volatile uint64_t *seg, size_t pages, size_t index,
		     const char *kind, bool dirty, int ready_fd, int cpus)
{
	volatile uint64_t private_word = 0;
	volatile const uint64_t *own = &private_word;
	uint64_t sum = 0;
	size_t i;

	pin_away_from_first(cpus);
	for (i = 0; i < pages; i++)
		if (dirty)
			seg[i * (PAGE / 8) + 1 + index % 511] = index;
		else
			sum += seg[i * (PAGE / 8)];
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	if (strcmp(kind, "idle") == 0)
		for (;;)
			pause();
	if (strcmp(kind, "faulting") == 0)
		own = seg + (index % pages) * (PAGE / 8);
	for (;;)
		sum += *own;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tlb-reclaim --mode plain|region --size MiB --procs N "
		"[--attachers busy|faulting|idle] [--pool clean|dirty] "
		"[--tsc-hz HZ]\n"
		"       tlb-reclaim --calibrate | --header\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'n' },
		{ "attachers", required_argument, NULL, 'a' },
		{ "pool", required_argument, NULL, 'p' },
		{ "tsc-hz", required_argument, NULL, 'z' },
		{ "calibrate", no_argument, NULL, 'c' },
		{ "header", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *mode = NULL, *attach_mode = "busy", *pool = "clean";
	unsigned long size_mib = 0, procs = 0;
	char why[256], region[512], pages_cg[256], att_cg[256], knob[600];
	char amount[32];
	int opt, memfd, region_fd = -1, ready[2], cpus, reclaim_errno = 0;
	struct counters start, before, after;
	long numa_balancing;
	double hz = 0, t0 = 0, t1 = 0;
	volatile uint64_t *seg;
	size_t pages, i;
	pid_t *pids;
	bool ok = true;
	uint64_t align = 0;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 's': size_mib = strtoul(optarg, NULL, 10); break;
		case 'n': procs = strtoul(optarg, NULL, 10); break;
		case 'a': attach_mode = optarg; break;
		case 'p': pool = optarg; break;
		case 'z': hz = strtod(optarg, NULL); break;
		case 'c':
			printf("%.0f\n", bench_clock_choose(0, 2.0));
			return 0;
		case 'H':
			printf("mode,attachers,pool,procs,size_mib,reclaimed_kb,seconds,"
			       "tlb_ipis,remote_flushes,remote_received,pswpout,"
			       "numa_balancing,numa_pte_updates,"
			       "numa_pte_updates_during,pswpin\n");
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !mode || !size_mib || !procs ||
	    procs > MAX_PROCS ||
	    (strcmp(mode, "plain") != 0 && strcmp(mode, "region") != 0) ||
	    (strcmp(attach_mode, "busy") != 0 &&
	     strcmp(attach_mode, "faulting") != 0 &&
	     strcmp(attach_mode, "idle") != 0) ||
	    (strcmp(pool, "clean") != 0 && strcmp(pool, "dirty") != 0)) {
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		printf("# SKIP: tlb-reclaim needs root (memory cgroups)\n");
		return EXIT_SKIP;
	}
	if (meminfo_kb("SwapTotal") < (long)(size_mib << 10)) {
		printf("# SKIP: tlb-reclaim needs %lu MiB of swap\n", size_mib);
		return EXIT_SKIP;
	}
	if (!make_cgroup(pages_cg, sizeof(pages_cg), "pages") ||
	    !make_cgroup(att_cg, sizeof(att_cg), "attachers")) {
		printf("# SKIP: no memory cgroup (cgroup2 with +memory)\n");
		return EXIT_SKIP;
	}
	cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	bench_clock_choose(hz, 2.0);

	pages = (size_mib << 20) / PAGE;
	memfd = memfd_create("tlb-reclaim", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)(size_mib << 20)) != 0) {
		perror("tlb-reclaim: memfd");
		return 2;
	}
	if (strcmp(mode, "region") == 0) {
		if (mshare_check_mount(mshare_mount(), why, sizeof(why)) != 0) {
			printf("# SKIP: %s\n", why);
			return EXIT_SKIP;
		}
		if (mshare_read_alignment(mshare_mount(), &align) != 0) {
			fprintf(stderr, "tlb-reclaim: cannot read the alignment\n");
			return 2;
		}
		snprintf(region, sizeof(region), "%s/tlb-reclaim-%ld",
			 mshare_mount(), (long)getpid());
		region_fd = mshare_create(region, 0600);
		if (region_fd < 0 || ftruncate(region_fd, (off_t)align) != 0 ||
		    mshare_map_file(region_fd, 0, size_mib << 20,
				    PROT_READ | PROT_WRITE, memfd, 0) != 0) {
			fprintf(stderr, "tlb-reclaim: region %s: setup failed\n",
				region);
			return 2;
		}
		unlink(region);
		seg = mshare_attach(region_fd, align, PROT_READ | PROT_WRITE);
	} else {
		seg = mmap(NULL, size_mib << 20, PROT_READ | PROT_WRITE,
			   MAP_SHARED, memfd, 0);
	}
	if (seg == MAP_FAILED || !seg) {
		perror("tlb-reclaim: map");
		return 2;
	}

	/* Charged to the pages' cgroup: what its memory.reclaim reclaims */
	if (!cgroup_join(pages_cg)) {
		fprintf(stderr, "tlb-reclaim: cannot join %s\n", pages_cg);
		return 2;
	}
	if (!fill(memfd, pages)) {
		perror("tlb-reclaim: pwrite");
		return 2;
	}
	if (!cgroup_join(att_cg)) {
		fprintf(stderr, "tlb-reclaim: cannot join %s\n", att_cg);
		return 2;
	}

	numa_balancing = file_number(NUMA_BALANCING);
	read_counters(pages_cg, &start);
	pids = calloc(procs, sizeof(*pids));
	if (!pids || pipe(ready) != 0) {
		perror("tlb-reclaim");
		return 2;
	}
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("tlb-reclaim: fork");
			procs = i;
			ok = false;
			break;
		}
		if (pids[i] == 0) {
			close(ready[0]);
			attacher(seg, pages, i, attach_mode,
				 strcmp(pool, "dirty") == 0, ready[1], cpus);
		}
	}
	close(ready[1]);
	for (i = 0; ok && i < procs; i++) {
		char c;

		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "tlb-reclaim: an attacher died\n");
			ok = false;
		}
	}

	if (ok) {
		unsigned long running = 0;
		long rss_kb = 0, kb;

		(void)pin_to_cpu(0);
		sleep(1);
		for (i = 0; i < procs; i++) {
			bool r = false;

			kb = attacher_rss_shmem(pids[i], &r);
			if (kb < 0) {
				fprintf(stderr, "tlb-reclaim: attacher %ld is gone\n",
					(long)pids[i]);
				ok = false;
			}
			rss_kb += kb;
			running += r;
		}
		printf("# %s, %s attachers, %s pool: %lu of %lu running, RssShmem %ld kB in all before the reclaim\n",
		       mode, attach_mode, pool, running, procs, rss_kb);
	}
	if (ok) {
		long rss_after_kb;

		read_counters(pages_cg, &before);
		printf("# NUMA balancing %s: %ld PTEs made PROT_NONE since the attachers started\n",
		       numa_balancing > 0 ? "on" : "off",
		       before.numa_pte_updates - start.numa_pte_updates);
		snprintf(knob, sizeof(knob), "%s/memory.reclaim", pages_cg);
		snprintf(amount, sizeof(amount), "%luM", size_mib);
		t0 = bench_now_seconds();
		if (!write_text_file(knob, amount))
			reclaim_errno = errno;
		t1 = bench_now_seconds();
		read_counters(pages_cg, &after);
		rss_after_kb = 0;
		for (i = 0; i < procs; i++) {
			bool r;

			rss_after_kb += attacher_rss_shmem(pids[i], &r);
		}
		printf("# RssShmem %ld kB in all after the reclaim\n",
		       rss_after_kb);
		printf("# NUMA balancing made %ld PTEs PROT_NONE during the reclaim\n",
		       after.numa_pte_updates - before.numa_pte_updates);
		if (after.others_total > before.others_total)
			printf("# CPUs 1..: %.1f %% of the reclaim's time in user mode\n",
			       100.0 * (double)(after.others_user - before.others_user) /
			       (double)(after.others_total - before.others_total));
	}

	for (i = 0; i < procs; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < procs; i++)
		waitpid(pids[i], NULL, 0);
	munmap((void *)seg, region_fd >= 0 ? align : size_mib << 20);
	close(memfd);
	if (region_fd >= 0)
		close(region_fd);
	cgroup_join(CGROUP_ROOT);
	rmdir(att_cg);
	rmdir(pages_cg);
	if (!ok)
		return 1;

	/* EAGAIN: less than asked was reclaimed; the row says how much */
	if (reclaim_errno && reclaim_errno != EAGAIN) {
		fprintf(stderr, "tlb-reclaim: memory.reclaim: %s\n",
			strerror(reclaim_errno));
		return 1;
	}
	printf("%s,%s,%s,%lu,%lu,%ld,%.6f,%ld,%ld,%ld,%ld,%d,%ld,%ld,%ld\n", mode,
	       attach_mode, pool, procs, size_mib, before.charged_kb - after.charged_kb, t1 - t0,
	       after.tlb_ipis - before.tlb_ipis,
	       after.remote_flushes - before.remote_flushes,
	       after.remote_received - before.remote_received,
	       after.pswpout - before.pswpout, numa_balancing > 0,
	       before.numa_pte_updates - start.numa_pte_updates,
	       after.numa_pte_updates - before.numa_pte_updates,
	       after.pswpin - before.pswpin);
	return 0;
}
