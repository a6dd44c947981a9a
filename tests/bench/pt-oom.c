/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pt-oom: the seeds' failure in miniature.  N processes attach one SysV
 * segment and touch it, in a machine too small for the page tables of N
 * stock attachers; every failed fork and every process the OOM killer takes
 * is reported the moment it is seen.
 *
 *   pt-oom [--size MiB] [--procs N] [--touch sparse|write]
 *          [--max-failures K] [--progress EVERY]
 *
 * The program creates a segment of SIZE MiB (default 1024) under a key and
 * starts N processes (default 1000) one after another; each looks the
 * segment up by key, attaches it, touches one page per 2 MiB (sparse, the
 * default: a stock process then needs a whole set of PTE pages, 2 MiB per
 * GiB, without faulting every page) or every page (write), reports and
 * stays attached.  Under LD_PRELOAD=libmshare-shim.so the segment is an
 * msharefs region and the attachers share its page tables; the program
 * itself is the same.
 *
 * Failures, each printed as a "FAIL" line when seen: a fork that fails
 * (errno), a process that dies before reporting (killed while it faulted
 * the segment in, usually by the OOM killer), a process that dies while
 * it is held (SIGKILL: the OOM killer took it to free memory), a shmget or
 * shmat that fails.  After K failures (default 5) no further process is
 * started: the point is made, and a guest whose every process is gone
 * panics.  The program itself asks the OOM killer to spare it
 * (oom_score_adj -1000, when it may) and puts its attachers back at 0, so
 * that it lives to report.
 *
 * Output: '#' progress lines (attached so far, PageTables, MemAvailable),
 * the FAIL lines, then one CSV line after its header:
 *   result,procs_wanted,procs_attached,failures,first_failure_at,
 *   oom_kills,fork_failures,pagetables_kb,memtotal_kb,memfree_kb,
 *   memavailable_kb,seconds,mapping
 * taken while the attached processes are all still held (pagetables_kb:
 * /proc/meminfo's PageTables then; first_failure_at: how many processes
 * were attached when the first failure came, 0 if none; mapping: what the
 * first attacher's /proc/PID/maps showed: sysv, sysv-shared-tables (the
 * kernel's SHM_SHARE_MMU), msharefs or other).
 *
 * Exit status: 0 when all N attached; 1 when any failed; 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mshare-child.h"
#include "mshare-held-child.h"
#include "mshare-procfs.h"

#define PAGE 4096u
#define SPARSE_STRIDE_PAGES 512u	/* one page per PTE page's reach */
#define MAX_PROCS 100000
#define SEGMENT_KEY ((key_t)0x50540f00)

struct job {
	size_t bytes;
	size_t stride_pages;
};

struct report {
	int error;		/* errno of a failed shmget/shmat */
	int failed_step;	/* 1 shmget, 2 shmat */
	char path[200];		/* the attachment's maps path */
	bool shared_tables;	/* VmFlags "st" (see smaps_shares_tables()) */
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int attacher_main(void *arg, const struct held_child_io *io)
{
	const struct job *job = arg;
	struct report r;
	unsigned char *base = NULL;
	unsigned long end;
	size_t page;
	int id;

	memset(&r, 0, sizeof(r));
	/* The parent spares itself; its attachers are ordinary processes. */
	write_text_file("/proc/self/oom_score_adj", "0\n");
	id = shmget(SEGMENT_KEY, 0, 0);
	if (id < 0) {
		r.error = errno;
		r.failed_step = 1;
	} else if ((base = shmat(id, NULL, 0)) == (void *)-1) {
		r.error = errno;
		r.failed_step = 2;
		base = NULL;
	} else {
		for (page = 0; page < job->bytes / PAGE;
		     page += job->stride_pages)
			((volatile uint64_t *)(base + page * PAGE))[0] = page;
		if (maps_lookup(base, &end, r.path, sizeof(r.path)) != 0)
			strcpy(r.path, "?");
		r.shared_tables = smaps_shares_tables(base) == 1;
	}
	if (held_child_send(io, &r, sizeof(r)) != 0)
		return 2;
	held_child_wait(io);
	return r.error ? 1 : 0;
}

struct tally {
	int attached, failures, oom_kills, fork_failures, first_failure_at;
	double start;
};

static void memory_line(const char *what, const struct tally *t)
{
	printf("# %7.1f s  %s: %d attached, PageTables %ld kB, MemAvailable %ld kB\n",
	       now_seconds() - t->start, what, t->attached,
	       meminfo_kb("PageTables"), meminfo_kb("MemAvailable"));
}

static void count_failure(struct tally *t)
{
	if (t->failures++ == 0)
		t->first_failure_at = t->attached;
}

/*
 * Reaps attachers that died while held (the OOM killer picks among the
 * biggest processes, which here are the attachers) and reports them.
 */
static void reap_dead(struct held_child *kids, bool *alive, int started,
		      struct tally *t)
{
	char buf[64];
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < started && kids[i].pid != pid; i++)
			;
		if (i == started || !alive[i])
			continue;
		alive[i] = false;
		close(kids[i].release_fd);
		t->attached--;
		count_failure(t);
		if (killed_by(status, SIGKILL))
			t->oom_kills++;
		printf("FAIL %7.1f s  attacher %d (pid %d), attached and held, %s%s; %d still attached, MemAvailable %ld kB\n",
		       now_seconds() - t->start, i + 1, (int)pid,
		       describe_status(status, buf, sizeof(buf)),
		       killed_by(status, SIGKILL) ? " (the OOM killer)" : "",
		       t->attached, meminfo_kb("MemAvailable"));
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: pt-oom [--size MiB] [--procs N] [--touch sparse|write] "
		"[--max-failures K] [--progress EVERY]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "size", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "touch", required_argument, NULL, 't' },
		{ "max-failures", required_argument, NULL, 'f' },
		{ "progress", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long size_mib = 1024, procs = 1000, max_failures = 5, every = 100;
	struct job job = { .stride_pages = SPARSE_STRIDE_PAGES };
	struct held_child *kids;
	struct tally t = { 0 };
	char mapping[200] = "", buf[64];
	bool mapping_shared = false;
	const char *kind;
	long pt_kb, total_kb, free_kb, avail_kb;
	bool *alive;
	int opt, id, i, started = 0;

	while ((opt = getopt_long(argc, argv, "s:p:t:f:e:h", options, NULL)) != -1) {
		switch (opt) {
		case 's': size_mib = strtol(optarg, NULL, 10); break;
		case 'p': procs = strtol(optarg, NULL, 10); break;
		case 'f': max_failures = strtol(optarg, NULL, 10); break;
		case 'e': every = strtol(optarg, NULL, 10); break;
		case 't':
			if (!strcmp(optarg, "write"))
				job.stride_pages = 1;
			else if (strcmp(optarg, "sparse"))
				procs = -1;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || size_mib < 1 || size_mib > (1L << 20) ||
	    procs < 1 || procs > MAX_PROCS || max_failures < 1 || every < 1) {
		usage(stderr);
		return 2;
	}
	job.bytes = (size_t)size_mib << 20;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (held_child_reserve_fds((int)procs, "pt-oom") != 0)
		return 1;
	kids = calloc((size_t)procs, sizeof(*kids));
	alive = calloc((size_t)procs, sizeof(*alive));
	if (!kids || !alive) {
		perror("pt-oom");
		return 1;
	}
	if (!write_text_file("/proc/self/oom_score_adj", "-1000\n"))
		printf("# note: cannot set oom_score_adj -1000 (not root?): the OOM killer may take this program too\n");

	id = shmget(SEGMENT_KEY, 0, 0);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);	/* left by a killed run */
	id = shmget(SEGMENT_KEY, job.bytes, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0) {
		fprintf(stderr, "pt-oom: shmget(%ld MiB): %s\n", size_mib,
			strerror(errno));
		return 1;
	}
	printf("# pt-oom: %ld processes attach a %ld MiB SysV segment, each touching %s; MemTotal %ld kB\n",
	       procs, size_mib,
	       job.stride_pages == 1 ? "every page" : "one page per 2 MiB",
	       meminfo_kb("MemTotal"));
	t.start = now_seconds();
	memory_line("start", &t);
	for (i = 0; i < procs && t.failures < max_failures; i++) {
		struct report r;

		if (held_child_start(&kids[i], attacher_main, &job) != 0) {
			int err = errno;

			count_failure(&t);
			t.fork_failures++;
			printf("FAIL %7.1f s  attacher %d: fork: %s; %d attached, MemAvailable %ld kB\n",
			       now_seconds() - t.start, i + 1, strerror(err),
			       t.attached, meminfo_kb("MemAvailable"));
			kids[i].pid = -1;
			started = i + 1;
			reap_dead(kids, alive, started, &t);
			continue;
		}
		started = i + 1;
		if (held_child_result(&kids[i], &r, sizeof(r)) != 0) {
			int status = held_child_release(&kids[i]);

			count_failure(&t);
			if (killed_by(status, SIGKILL))
				t.oom_kills++;
			printf("FAIL %7.1f s  attacher %d died while attaching and touching: %s%s; %d attached, MemAvailable %ld kB\n",
			       now_seconds() - t.start, i + 1,
			       describe_status(status, buf, sizeof(buf)),
			       killed_by(status, SIGKILL) ? " (the OOM killer)" : "",
			       t.attached, meminfo_kb("MemAvailable"));
		} else if (r.error) {
			held_child_release(&kids[i]);
			count_failure(&t);
			printf("FAIL %7.1f s  attacher %d: %s: %s\n",
			       now_seconds() - t.start, i + 1,
			       r.failed_step == 1 ? "shmget" : "shmat",
			       strerror(r.error));
		} else {
			alive[i] = true;
			t.attached++;
			if (!mapping[0]) {
				snprintf(mapping, sizeof(mapping), "%s", r.path);
				mapping_shared = r.shared_tables;
				printf("# the first attacher maps %s\n", mapping);
			}
		}
		reap_dead(kids, alive, started, &t);
		if ((i + 1) % every == 0)
			memory_line("progress", &t);
	}
	if (t.failures >= max_failures && i < procs)
		printf("# %d failures: no further process started (%d of %ld tried)\n",
		       t.failures, i, procs);
	/* Everyone still alive is attached and held: the peak. */
	write_text_file("/proc/sys/vm/stat_refresh", "1\n");
	reap_dead(kids, alive, started, &t);
	pt_kb = meminfo_kb("PageTables");
	total_kb = meminfo_kb("MemTotal");
	free_kb = meminfo_kb("MemFree");
	avail_kb = meminfo_kb("MemAvailable");
	memory_line("all held", &t);
	for (i = 0; i < started; i++)
		if (alive[i])
			held_child_release(&kids[i]);
	shmctl(id, IPC_RMID, NULL);

	if (!mapping[0])
		kind = "none";
	else if (!strncmp(mapping, "/SYSV", 5))
		kind = mapping_shared ? "sysv-shared-tables" : "sysv";
	else if (strstr(mapping, "/mshare/"))
		kind = "msharefs";
	else
		kind = "other";
	printf("result,procs_wanted,procs_attached,failures,first_failure_at,"
	       "oom_kills,fork_failures,pagetables_kb,memtotal_kb,memfree_kb,"
	       "memavailable_kb,seconds,mapping\n");
	printf("%s,%ld,%d,%d,%d,%d,%d,%ld,%ld,%ld,%ld,%.1f,%s\n",
	       t.failures ? "failed" : "ok", procs, t.attached, t.failures,
	       t.first_failure_at, t.oom_kills, t.fork_failures, pt_kb,
	       total_kb, free_kb, avail_kb, now_seconds() - t.start, kind);
	free(kids);
	free(alive);
	return t.failures ? 1 : 0;
}
