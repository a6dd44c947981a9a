/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/log-target.h"

#include <fcntl.h>
#include <sys/stat.h>

bool shim_stderr_follows(mode_t mode, int open_flags)
{
	int access = open_flags & O_ACCMODE;

	if (access != O_WRONLY && access != O_RDWR)
		return false;
	return S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode);
}
