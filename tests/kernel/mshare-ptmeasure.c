/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Page-table cost workers; see mshare-ptmeasure.h. */
#include "mshare-ptmeasure.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mshare-child.h"
#include "mshare-procfs.h"
#include "mshare-region.h"

#define PAGE 4096u

/* One word per page, so every page is touched and can be verified. */
static uint64_t page_word(size_t page, uint32_t seed)
{
	return ((uint64_t)seed << 32) | (uint64_t)(page + 1);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void touch(const struct pt_job *job, unsigned char *base,
		  struct pt_sample *s)
{
	size_t page, pages = job->touch_bytes / PAGE;
	struct rusage before, after;
	double start;

	getrusage(RUSAGE_SELF, &before);
	start = now_seconds();
	for (page = 0; page < pages; page++) {
		volatile uint64_t *word = (uint64_t *)(base + page * PAGE);

		if (job->write)
			*word = page_word(page, job->seed);
		else if (*word != page_word(page, job->seed) && job->verify)
			s->bad_pages++;
	}
	s->touch_seconds = now_seconds() - start;
	getrusage(RUSAGE_SELF, &after);
	s->minor_faults = after.ru_minflt - before.ru_minflt;
}

/* The worker's life: measure, attach, touch, measure, report, wait, detach. */
struct worker_args {
	const struct pt_job *job;
	int result_fd, release_fd;
};

/*
 * Closes every descriptor above stderr except KEEP_A and KEEP_B.  Without
 * this a worker would hold the release pipes of the workers started before
 * it, and they would never see EOF.
 */
static void close_other_fds(int keep_a, int keep_b)
{
	unsigned lo = (unsigned)(keep_a < keep_b ? keep_a : keep_b);
	unsigned hi = (unsigned)(keep_a < keep_b ? keep_b : keep_a);

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0u, 0);
}

static int worker_main(void *arg)
{
	const struct worker_args *w = arg;
	const struct pt_job *job = w->job;
	struct pt_sample s;
	unsigned char *base = job->inherited;
	size_t attached = 0;
	char c;

	close_other_fds(w->result_fd, w->release_fd);
	memset(&s, 0, sizeof(s));
	s.vmpte_before_kb = proc_self_status_kb("VmPTE");
	s.rss_before_kb = proc_self_status_kb("VmRSS");
	if (job->region_path) {
		struct stat st;
		int fd = open(job->region_path, O_RDWR | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) != 0) {
			s.error = errno;
		} else {
			attached = (size_t)st.st_size;
			base = mshare_attach(fd, st.st_size,
					     PROT_READ | PROT_WRITE);
			if (base == MAP_FAILED)
				s.error = errno;
		}
		if (fd >= 0)
			close(fd);
	}
	if (!s.error) {
		touch(job, base, &s);
		s.vmpte_after_kb = proc_self_status_kb("VmPTE");
		s.rss_after_kb = proc_self_status_kb("VmRSS");
	}
	if (write(w->result_fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
		return 2;
	/* Hold the attachment until released (EOF on the pipe). */
	while (read(w->release_fd, &c, 1) > 0)
		;
	if (attached && munmap(base, attached) != 0)
		return 3;
	return s.error ? 1 : 0;
}

int pt_worker_start(struct pt_worker *worker, const struct pt_job *job)
{
	int result[2], release[2];
	struct worker_args args;

	if (pipe2(result, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(release, O_CLOEXEC) != 0) {
		close(result[0]);
		close(result[1]);
		return -1;
	}
	args.job = job;
	args.result_fd = result[1];
	args.release_fd = release[0];
	worker->pid = spawn_child(worker_main, &args);
	close(result[1]);
	close(release[0]);
	worker->result_fd = result[0];
	worker->release_fd = release[1];
	if (worker->pid < 0) {
		close(result[0]);
		close(release[1]);
		return -1;
	}
	return 0;
}

int pt_worker_sample(struct pt_worker *worker, struct pt_sample *sample)
{
	ssize_t n;

	do
		n = read(worker->result_fd, sample, sizeof(*sample));
	while (n < 0 && errno == EINTR);
	close(worker->result_fd);
	worker->result_fd = -1;
	return n == (ssize_t)sizeof(*sample) ? 0 : -1;
}

int pt_worker_release(struct pt_worker *worker)
{
	if (worker->result_fd >= 0)
		close(worker->result_fd);
	close(worker->release_fd);
	return wait_child(worker->pid);
}

long pte_kb_for(size_t bytes)
{
	/* 8 bytes of PTE per 4 KiB page: 1/512 of the memory. */
	return (long)(bytes / 512 / 1024);
}
