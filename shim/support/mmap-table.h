/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process's backed mmap() mappings: a fixed array (no malloc: mmap()
 * runs inside allocators), inherited by fork children with the mappings
 * themselves and dropped by exec with them.
 *
 * Writers (add, remove, and whoever changes an entry) hold the mmap lock
 * (mmap-backed.c).  Readers of the common path, mmap_table_may_overlap(),
 * take no lock: the table carries a sequence count, odd while a writer
 * changes it, and a reader retries when the count moved under it.  That
 * read is async-signal-safe: a signal handler interrupting this thread's
 * own write reads the table as it is (the writer cannot run meanwhile)
 * instead of waiting for a count that cannot move.
 */
#ifndef SHIM_MMAP_TABLE_H
#define SHIM_MMAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mmap-plan.h"

#define SHIM_MMAP_MAX 256

struct shim_mapping {
	uintptr_t addr;		/* what mmap() returned: the attachment */
	size_t len;		/* what the program asked for, page-rounded */
	size_t region_size;	/* the attachment's real length */
	bool file_backed;
	int region_fd;		/* file: held with LOCK_SH; anonymous: -1 */
	int file_fd;		/* file: our own descriptor of it; else -1 */
	/*
	 * What the two descriptors are: a program that closes every fd and
	 * opens its own files may get their numbers, and then the shim must
	 * neither use nor close them.
	 */
	dev_t region_dev, file_dev;
	ino_t region_ino, file_ino;
	/*
	 * file_fd is an open file description of our own, its position set
	 * to this value (the shim never reads through it): the program's own
	 * descriptor of the same file under the number has another.  -1: no
	 * marker (a dup() of the program's, where reopening failed).
	 */
	off_t file_marker;
	uint64_t offset;	/* file offset of addr */
	int prot;
	int flags;		/* the caller's mmap flags */
	bool lock_inherited;	/* fork child could not take its own lock */
	/*
	 * The program mlock()ed it.  The kernel ignores mlock on an
	 * attachment (VM_DONTEXPAND makes it VM_SPECIAL), so a conversion
	 * must apply it to the plain mapping from this note.
	 */
	bool mlocked;
	/*
	 * MADV_DONTFORK is on the attachment: a fork child does not get it,
	 * so the child must forget the entry (the range is free there).
	 */
	bool dontfork;
	char name[SHIM_MMAP_NAME_MAX];	/* file: the region's name */
};

/* Adds an entry (mmap lock held); false when the table is full. */
bool mmap_table_add(const struct shim_mapping *entry);

/*
 * The index of the first entry after index start whose program-visible
 * range [addr, addr+len) or attachment overlaps [addr, addr+len); -1 if
 * none.  mmap lock held.
 */
int mmap_table_find_overlap(int start, uintptr_t addr, size_t len);

struct shim_mapping *mmap_table_at(int index);
void mmap_table_remove(int index);

/*
 * The kernel has just given the shim descriptor number fd: whatever an
 * entry recorded under that number was closed behind its back, so no
 * entry may take the new descriptor for its own.  mmap lock held.
 */
void mmap_table_forget_fd(int fd);

/* How many entries are in use (no lock: a hint). */
unsigned mmap_table_count(void);

/* Lock-free hint: false means no backed mapping exists. */
bool mmap_table_in_use(void);

/*
 * Lock-free and async-signal-safe: false means no attachment overlaps
 * [addr, addr+len) at some moment during the call.  True sends the caller
 * to the locked path, which looks again.
 */
bool mmap_table_may_overlap(uintptr_t addr, size_t len);

#endif
