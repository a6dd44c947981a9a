/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process's backed attachments: which region mapping stands for which
 * real SysV attachment.  A fixed array under a mutex, so shmdt() never
 * allocates; it is inherited by fork children with the rest of memory,
 * matching the mappings they inherit.
 */
#ifndef SHIM_ATTACH_TABLE_H
#define SHIM_ATTACH_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIM_ATTACH_MAX 256

struct shim_attachment {
	void *region_addr;	/* what the program got from shmat() */
	size_t region_size;	/* the whole region mapping */
	void *real_addr;	/* the real segment, kept for shm_nattch */
	int shmid;
};

/* Adds an entry; false when the table is full. */
bool attach_table_add(const struct shim_attachment *entry);

/* Removes the entry whose region starts at addr; false if none. */
bool attach_table_take(void *region_addr, struct shim_attachment *entry);

/*
 * Removes the first entry whose region overlaps [addr, addr+size) (an
 * SHM_REMAP attach replaced it); false if none.
 */
bool attach_table_take_overlapping(uintptr_t addr, size_t size,
				   struct shim_attachment *entry);

/* True if one entry's region contains all of [addr, addr+size). */
bool attach_table_covers(uintptr_t addr, size_t size);

/* How many entries are in use (no lock: a hint). */
unsigned attach_table_count(void);

/* Cheap check for the shmdt() fast path: no lock. */
bool attach_table_is_empty(void);

/* fork() handlers: hold the lock across fork, release it on both sides. */
void attach_table_lock_for_fork(void);
void attach_table_unlock_after_fork(void);

#endif
