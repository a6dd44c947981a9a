/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the interposition layer knows about this process, set up once by
 * entry/ (constructor or first call) and read-only afterwards.  Defined in
 * shim-state.c, so that sysv/ and mmap/ read it without reaching up.
 */
#ifndef SHIM_STATE_H
#define SHIM_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "core/config.h"
#include "core/plan.h"

struct real_sysv {
	int (*shmget)(key_t key, size_t size, int shmflg);
	void *(*shmat)(int shmid, const void *shmaddr, int shmflg);
	int (*shmdt)(const void *shmaddr);
	int (*shmctl)(int shmid, int cmd, struct shmid_ds *buf);
};

struct shim_state {
	struct shim_config config;
	bool exe_selected;
	char progname[64];	/* basename of /proc/self/exe */
	struct real_sysv real;
	enum shim_sysv_path sysv_path;	/* how SysV segments share tables */
};

extern struct shim_state shim_state;

/*
 * Set while the shim itself runs (the entry points set it), so calls it
 * makes that come back through an exported symbol go straight to the
 * system.
 */
extern __thread bool shim_inside_call __attribute__((tls_model("initial-exec")));

#endif
