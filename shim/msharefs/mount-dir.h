/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every name on the msharefs mount is reached through one directory
 * descriptor of the mount's root, opened for one interposed operation and
 * closed before that operation returns: openat(), unlinkat(), renameat2(),
 * fstatat(), fchownat(), fchmodat() with a plain name, never a path through
 * MSHARE_SHIM_MOUNT.
 *
 * Why one descriptor: an operation takes several steps on the mount
 * (create, check, rename, unlink, stat).  With paths, each step resolved
 * MSHARE_SHIM_MOUNT again, so a mount point swapped between two steps (a
 * symlink replaced, a file system mounted over it) sent later steps
 * somewhere else than the first.  Resolved once and checked once
 * (fstatfs() says msharefs), every step of the operation meets the same
 * file system.
 *
 * Why per operation, not held: a program may close every descriptor and
 * open its own files under the numbers (tests/shim/test-shim-fds.sh), so
 * a descriptor kept between calls would need the identity checks the log
 * file gets.  Opened and closed within the call, it is ours throughout.
 * Only operations that work on names pay the open() and close(): the
 * kernel's SysV path, calls the shim does not take, and lookups the
 * unbacked cache answers open nothing.
 */
#ifndef SHIM_MSHAREFS_MOUNT_DIR_H
#define SHIM_MSHAREFS_MOUNT_DIR_H

#include <stdbool.h>
#include <stddef.h>

struct msharefs_dir {
	int fd;			/* the mount's root (O_PATH), -1 when closed */
	const char *mount;	/* MSHARE_SHIM_MOUNT, for messages only */
};

/*
 * Opens the root of mount (O_PATH | O_DIRECTORY | O_CLOEXEC) and checks
 * with fstatfs() that it is msharefs.  False with errno (ENODEV for
 * another file system) and why in the probe's words.
 */
bool msharefs_dir_open(struct msharefs_dir *dir, const char *mount,
		       char *why, size_t why_size);

/* Closes an opened directory (no-op when closed); keeps errno. */
void msharefs_dir_close(struct msharefs_dir *dir);

#endif
