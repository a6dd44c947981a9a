/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "msharefs/mount-dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/textfmt.h"
#include "msharefs-uapi.h"

bool msharefs_dir_open(struct msharefs_dir *dir, const char *mount,
		       char *why, size_t why_size)
{
	struct statfs fs;
	int err;

	dir->mount = mount;
	/*
	 * O_PATH: no read permission needed on the root, and no getdents
	 * position to share (region_for_each() opens "." for that).  A
	 * symlink at the mount point is followed, as statfs() always did:
	 * what matters is that it is resolved once.
	 */
	dir->fd = open(mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir->fd < 0) {
		err = errno;
	} else if (fstatfs(dir->fd, &fs) != 0) {
		err = errno;
		msharefs_dir_close(dir);
	} else if (fs.f_type != MSHARE_MAGIC) {
		err = 0;
		msharefs_dir_close(dir);
	} else {
		return true;
	}
	if (err == ENOENT || err == 0)
		shim_format(why, why_size,
			    "msharefs is not mounted at %s (mount -t msharefs msharefs %s)",
			    mount, mount);
	else
		shim_format(why, why_size, "%s: %s", mount, shim_errno_text(err));
	errno = err ? err : ENODEV;
	return false;
}

void msharefs_dir_close(struct msharefs_dir *dir)
{
	int saved = errno;

	if (dir->fd >= 0)
		close(dir->fd);
	dir->fd = -1;
	errno = saved;
}
