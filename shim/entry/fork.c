/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork(): every lock of the shim is held across it, so that the child
 * finds none of them held by a thread that does not exist there, and the
 * one registration below is where their order is written.
 *
 * The lock order (a thread holding one lock takes only locks further down
 * the list, never one above it):
 *
 *   1. the mmap lock          mmap/mmap-backed.c  (only when the mmap
 *                                                 paths are armed)
 *   2. the SysV create lock   sysv/sysv-create.c
 *   3. the attachment table   support/attach-table.c
 *   4. the msharefs probe     msharefs/region.c
 *
 * prepare takes them from 1 to 4; before 2 it also moves the log's "said
 * once" flags into a page the children share (support/log.c; no lock).
 * The parent releases them from 4 to 1.  The child releases 4 to 2,
 * clears the SysV caches (sysv_after_fork_child), then, still holding 1,
 * does the mmap table's part, which releases 1
 * (mmap_backed_after_fork_in_child).  These are all the shim's mutexes.
 */
#include "entry/fork.h"

#include <pthread.h>
#include <stdbool.h>

#include "entry/interpose-mmap.h"
#include "mmap/mmap-backed.h"
#include "msharefs/region.h"
#include "support/attach-table.h"
#include "support/log.h"
#include "sysv/sysv.h"

/*
 * Whether prepare took lock 1: the release goes by what prepare did, even
 * if another thread's setup armed the mmap paths meanwhile.  One variable
 * is enough: glibc runs the handlers of one fork() at a time, from
 * prepare to parent and child.
 */
static bool mmap_locked_for_fork;

static void fork_prepare(void)
{
	mmap_locked_for_fork = mmap_interpose_armed();
	if (mmap_locked_for_fork)
		mmap_backed_lock_for_fork();
	shim_log_share_before_fork();
	sysv_lock_for_fork();
	attach_table_lock_for_fork();
	msharefs_probe_lock_for_fork();
}

/* Both sides of the fork: from 4 up to 2 (1 is released on each side). */
static void release_after_fork(void)
{
	msharefs_probe_unlock_after_fork();
	attach_table_unlock_after_fork();
	sysv_unlock_after_fork();
}

static void fork_parent(void)
{
	release_after_fork();
	if (mmap_locked_for_fork)
		mmap_backed_unlock_in_parent();
}

static void fork_child(void)
{
	release_after_fork();
	sysv_after_fork_child();
	if (mmap_locked_for_fork)
		mmap_backed_after_fork_in_child();
}

void shim_fork_handlers_install(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}
