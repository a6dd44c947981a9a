/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process's backed mmap() mappings: a fixed array (no malloc: mmap()
 * runs inside allocators), inherited by fork children with the mappings
 * themselves and dropped by exec with them.  The caller serialises access
 * with the mmap lock (mmap-backed.c); only the count is read without it,
 * for the fast paths of munmap(), mprotect(), mremap() and madvise().
 */
#ifndef SHIM_MMAP_TABLE_H
#define SHIM_MMAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmap-plan.h"

#define SHIM_MMAP_MAX 256

struct shim_mapping {
	uintptr_t addr;		/* what mmap() returned: the attachment */
	size_t len;		/* what the program asked for, page-rounded */
	size_t region_size;	/* the attachment's real length */
	bool file_backed;
	int region_fd;		/* file: held with LOCK_SH; anonymous: -1 */
	int file_fd;		/* file: our own descriptor of it; else -1 */
	uint64_t offset;	/* file offset of addr */
	int prot;
	int flags;		/* the caller's mmap flags */
	bool lock_inherited;	/* fork child could not take its own lock */
	char name[SHIM_MMAP_NAME_MAX];	/* file: the region's name */
};

/* Adds an entry; false when the table is full. */
bool mmap_table_add(const struct shim_mapping *entry);

/*
 * The index of the first entry after index start whose program-visible
 * range [addr, addr+len) or attachment overlaps [addr, addr+len); -1 if
 * none.
 */
int mmap_table_find_overlap(int start, uintptr_t addr, size_t len);

struct shim_mapping *mmap_table_at(int index);
void mmap_table_remove(int index);

/* Lock-free hint: false means no backed mapping exists. */
bool mmap_table_in_use(void);

#endif
