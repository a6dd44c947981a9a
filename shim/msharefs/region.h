/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msharefs region files: probing the mount, building a region under a
 * temporary name and publishing it by rename, opening an existing region
 * only after checking it is the one its segment's creator made.
 */
#ifndef SHIM_REGION_H
#define SHIM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/plan.h"
#include "msharefs/mount-dir.h"

struct msharefs_state {
	bool available;
	uint64_t alignment;	/* from mshare_info */
	/*
	 * The mount's count of name changes (mshare_generation), mapped
	 * read-only; NULL on a kernel without it.  See unbacked-cache.h.
	 */
	const uint64_t *generation;
	char why[256];		/* when not available */
};

/*
 * Probes the mount until it succeeds (fork children inherit the answer):
 * after a failure, again at the next call if the failure may pass
 * (EMFILE, ENFILE, ENOMEM, EINTR, EAGAIN), else at most once a second.
 * The answer is copied into *result (and result returned): another
 * thread's later probe rewrites the reason of a failure, so it is copied
 * under the probe's lock and the caller reads its own copy.
 */
const struct msharefs_state *msharefs_probe(const char *mount,
					    struct msharefs_state *result);

/* fork(): the probe's lock is held across it (pthread_atfork). */
void msharefs_probe_lock_for_fork(void);
void msharefs_probe_unlock_after_fork(void);

/*
 * The functions below that take dir work on names in it (mount-dir.h).
 *
 * Creates ".creating.<key>.<pid>" for this process, exclusively.  A file
 * left by an earlier process that had our pid is removed first.  Returns an
 * O_RDWR descriptor or -1 with errno.
 */
int region_creating_open(const struct msharefs_dir *dir, key_t key,
			 char *why, size_t why_size);

/*
 * Sizes the region and maps anonymous shared memory of map_size at its
 * start, then seals it.  mode is applied exactly (the umask must not
 * change it); map_flags_extra carries MAP_HUGETLB and its size bits when
 * asked.
 */
bool region_build(int fd, mode_t mode, uint64_t region_size, uint64_t map_size,
		  int map_flags_extra, char *why, size_t why_size);

/*
 * Freezes the layout of a region that is set up (MSHAREFS_SEAL), so that
 * nothing, not even a later bug of ours, can unmap the memory under its
 * attachers.  True also on a kernel without the seal (ENOTTY).
 */
bool region_seal(int fd);

/* Atomically renames the creating file to its final name. */
bool region_publish(const struct msharefs_dir *dir, key_t key,
		    const char *final_name, char *why, size_t why_size);

void region_creating_discard(const struct msharefs_dir *dir, key_t key);

enum region_lookup {
	REGION_ABSENT,		/* the segment is not backed */
	REGION_FOUND,		/* fd is the checked region */
	REGION_FOREIGN,		/* something else sits under the name */
	REGION_ERROR,		/* could not open or check it (errno) */
};

/* What fstat() and fstatfs() say of an open region file; false + errno. */
bool region_observe(int fd, struct shim_region_observation *seen);

/* Opens name (read-only or read-write) and checks it (see plan.h). */
enum region_lookup region_open_checked(const struct msharefs_dir *dir,
				       const char *name, bool read_only,
				       const struct shim_region_expectation *expect,
				       int *fd, uint64_t *region_size,
				       char *why, size_t why_size);

/*
 * Does the creator of key (pid, uid) currently hold its creating file?
 * Files of other owners do not count: anyone can create files on the
 * mount, and a planted one must not make attachers wait.
 */
bool region_creating_exists(const struct msharefs_dir *dir, key_t key,
			    pid_t creator, uid_t creator_uid);

/* Best-effort removal of a region name; returns 0 or errno. */
int region_unlink(const struct msharefs_dir *dir, const char *name);

/*
 * Calls visit(name, owner uid, context) for each entry of the mount (not
 * "." and ".."), reading the directory with getdents64 into a stack buffer
 * so it does not allocate.  Returns 0 or errno.
 */
int region_for_each(const struct msharefs_dir *dir,
		    void (*visit)(const char *name, uid_t owner, void *context),
		    void *context);

/* Applies a new owner/mode to a region after IPC_SET; 0 or errno. */
int region_set_owner_mode(const struct msharefs_dir *dir, const char *name,
			  uid_t uid, gid_t gid, mode_t mode);

#endif
