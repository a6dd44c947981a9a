/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page-table cost measurement shared by the self-test and mshare-ptdemo.
 *
 * A worker is a child process that gets at some memory (attaches an
 * msharefs region by name, or uses a MAP_SHARED mapping inherited across
 * fork), touches every page, and reports what that cost it: VmPTE and VmRSS
 * before and after, and the time the touching took.  It then stays attached
 * until released, so the caller can read /proc/meminfo while every worker
 * still holds its mapping.
 */
#ifndef MSHARE_PTMEASURE_H
#define MSHARE_PTMEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mshare-held-child.h"

struct pt_job {
	const char *region_path;	/* attach this region, or NULL... */
	unsigned char *inherited;	/* ...use this inherited mapping */
	size_t touch_bytes;		/* touch [0, touch_bytes) */
	bool write;			/* write every page (else read it) */
	bool verify;			/* reader: check what a writer wrote */
	uint32_t seed;			/* value written / expected per page */
};

struct pt_sample {
	long vmpte_before_kb, vmpte_after_kb;
	long rss_before_kb, rss_after_kb;
	double touch_seconds;
	long minor_faults;	/* page faults taken while touching */
	long bad_pages;		/* verify: pages without the expected value */
	int error;		/* errno of a failed open/attach, else 0 */
};

struct pt_worker {
	struct held_child child;	/* sends one struct pt_sample */
};

/* Starts a worker for JOB.  Returns 0 or -1 (errno set). */
int pt_worker_start(struct pt_worker *worker, const struct pt_job *job);

/* Waits for the worker's sample.  Returns 0, or -1 if it died first. */
int pt_worker_sample(struct pt_worker *worker, struct pt_sample *sample);

/* Lets the worker detach and exit; returns its wait status. */
int pt_worker_release(struct pt_worker *worker);

/* Page-table memory the kernel needs for BYTES of 4 KiB pages, in kB. */
long pte_kb_for(size_t bytes);

#endif /* MSHARE_PTMEASURE_H */
