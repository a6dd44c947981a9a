/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msharefs region files behind mmap() mappings: finding or building the
 * one region of a file range, building a nameless anonymous region,
 * releasing a region when its last user lets go, and the sweep that
 * removes regions nobody holds any more.
 *
 * Lifetime protocol: every process that maps a file range's region holds
 * the region file open with flock(LOCK_SH), taken before the region gets
 * its name (so a sweep never sees a published region unheld).  Whoever
 * gets LOCK_EX|LOCK_NB knows nobody else holds it and may unlink it.
 *
 * Names are reached through dir, the operation's descriptor of the mount
 * (mount-dir.h).
 */
#ifndef SHIM_MMAP_REGION_H
#define SHIM_MMAP_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mmap-plan.h"
#include "msharefs/mount-dir.h"

enum mmap_region_result {
	MMAP_REGION_OK,
	MMAP_REGION_FOREIGN,	/* a file under the name is not to be trusted */
	MMAP_REGION_FAILED,
};

/*
 * Opens the region of range (named by shim_file_region_name) holding
 * LOCK_SH, or builds it from file_fd and publishes it.  *region_fd is
 * O_CLOEXEC, moved to a number of at least 100.
 */
enum mmap_region_result mmap_region_file(const struct msharefs_dir *dir,
					 uint64_t alignment,
					 const struct shim_file_range *range,
					 int file_fd, int *region_fd,
					 uint64_t *region_size,
					 char *why, size_t why_size);

/*
 * Builds a region holding anonymous shared memory of len bytes
 * (map_flags_extra: MAP_HUGETLB and size bits, MAP_NORESERVE) and unlinks
 * its name at once: the caller attaches it and closes the fd.
 */
enum mmap_region_result mmap_region_anon(const struct msharefs_dir *dir,
					 uint64_t alignment,
					 size_t len, int prot,
					 int map_flags_extra, int *region_fd,
					 uint64_t *region_size,
					 char *why, size_t why_size);

/*
 * Lets go of a file region: if nobody else holds it (LOCK_EX|LOCK_NB) and
 * the name still means this file, unlinks it; closes the fd either way.
 * probe_others false, or dir NULL (the mount could not be opened): only
 * close (with probe_others false the lock is shared with another process,
 * see the fork handler).
 */
void mmap_region_release(const struct msharefs_dir *dir, const char *name,
			 int region_fd, bool probe_others);

/*
 * At exit: if nobody else holds the region (LOCK_EX|LOCK_NB, which then
 * stays), unlinks its name and returns true.  The fd stays open; the name
 * is not checked again (the mapping stays until exit).
 */
bool mmap_region_unlink_if_unheld(const struct msharefs_dir *dir,
				  const char *name, int region_fd);

/* Removes this euid's file regions nobody holds and dead builders' leftovers. */
void mmap_region_sweep(const struct msharefs_dir *dir, uid_t euid);

/* Moves fd to a number of at least 100 (close-on-exec); returns the new fd. */
int mmap_region_high_fd(int fd);

#endif
