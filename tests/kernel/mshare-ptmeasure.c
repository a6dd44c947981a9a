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

#include "mshare-held-child.h"
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
static int worker_main(void *arg, const struct held_child_io *io)
{
	const struct pt_job *job = arg;
	struct pt_sample s;
	unsigned char *base = job->inherited;
	size_t attached = 0;

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
	if (held_child_send(io, &s, sizeof(s)) != 0)
		return 2;
	/* Hold the attachment until released. */
	held_child_wait(io);
	if (attached && munmap(base, attached) != 0)
		return 3;
	return s.error ? 1 : 0;
}

int pt_worker_start(struct pt_worker *worker, const struct pt_job *job)
{
	/* The child only reads the job, from its own copy of our memory. */
	return held_child_start(&worker->child, worker_main, (void *)job);
}

int pt_worker_sample(struct pt_worker *worker, struct pt_sample *sample)
{
	return held_child_result(&worker->child, sample, sizeof(*sample));
}

int pt_worker_release(struct pt_worker *worker)
{
	return held_child_release(&worker->child);
}

long pte_kb_for(size_t bytes)
{
	/* 8 bytes of PTE per 4 KiB page: 1/512 of the memory. */
	return (long)(bytes / 512 / 1024);
}
