/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmap() of configured files and of large anonymous shared memory backed
 * by msharefs regions, and the calls that act on such mappings.  These are
 * the slow paths: interpose-mmap.c enters them only when the shim is armed
 * for mappings (MSHARE_SHIM_FILES or MSHARE_SHIM_ANON) and the call may
 * concern a backed mapping.
 */
#ifndef SHIM_MMAP_BACKED_H
#define SHIM_MMAP_BACKED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void *mmap_backed_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t offset);
int mmap_backed_munmap(void *addr, size_t len);
void *mmap_backed_mremap(void *old, size_t old_size, size_t new_size,
			 int flags, void *new_addr);
int mmap_backed_mprotect(void *addr, size_t len, int prot);
int mmap_backed_madvise(void *addr, size_t len, int advice);

/*
 * mlock() and friends succeeded on [addr, addr+len) (len SIZE_MAX: every
 * mapping): remember it for conversions.
 */
void mmap_backed_note_mlock(const void *addr, size_t len, bool locked);

/* fork(): hold the lock across it; the child takes its own region locks. */
void mmap_backed_lock_for_fork(void);
void mmap_backed_unlock_in_parent(void);
void mmap_backed_after_fork_in_child(void);

/* exit(): let go of regions nobody else holds, so they do not linger. */
void mmap_backed_release_at_exit(void);

#endif
