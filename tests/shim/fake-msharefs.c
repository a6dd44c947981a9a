/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for msharefs on hosts without our kernel, for the host run of
 * vm-shim-tests.sh: preloaded ahead of the shim, it makes a tmpfs directory
 * (FAKE_MSHAREFS_DIR) look like an msharefs mount to the shim.
 *   - statfs()/fstatfs() under the directory report MSHARE_MAGIC;
 *   - MSHAREFS_CREATE_MAPPING on a file there checks its arguments like the
 *     kernel and succeeds: the tmpfs file itself is shared memory, so every
 *     process mapping it MAP_SHARED sees the same pages.
 * What it cannot fake is the point of msharefs (shared page tables), so the
 * VmPTE test and address alignment are only checked in the VM.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "msharefs-uapi.h"

#define EXPORT __attribute__((visibility("default")))

static int under_fake_dir(const char *path)
{
	const char *dir = getenv("FAKE_MSHAREFS_DIR");
	size_t n = dir ? strlen(dir) : 0;

	return n && strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int fd_under_fake_dir(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return under_fake_dir(path);
}

EXPORT int statfs(const char *path, struct statfs *buf)
{
	static int (*real)(const char *, struct statfs *);

	if (!real)
		real = (int (*)(const char *, struct statfs *))dlsym(RTLD_NEXT, "statfs");
	int rc = real(path, buf);

	if (rc == 0 && under_fake_dir(path))
		buf->f_type = MSHARE_MAGIC;
	return rc;
}

EXPORT int fstatfs(int fd, struct statfs *buf)
{
	static int (*real)(int, struct statfs *);

	if (!real)
		real = (int (*)(int, struct statfs *))dlsym(RTLD_NEXT, "fstatfs");
	int rc = real(fd, buf);

	if (rc == 0 && fd_under_fake_dir(fd))
		buf->f_type = MSHARE_MAGIC;
	return rc;
}

static int fake_create_mapping(int fd, const struct mshare_create *mc)
{
	struct stat st;
	unsigned required = MAP_SHARED | MAP_FIXED;
	unsigned allowed = required | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE |
			   (0x3fu << 26);

	if (fstat(fd, &st) != 0)
		return -1;
	if (st.st_size == 0 || (mc->flags & required) != required ||
	    (mc->flags & ~allowed) || mc->prot & ~(unsigned)(PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    mc->size == 0 || mc->region_offset % 4096 || mc->size % 4096 ||
	    mc->region_offset + mc->size > (unsigned long long)st.st_size ||
	    ((mc->flags & MAP_ANONYMOUS) && mc->fd != (__u32)-1)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;

	va_start(ap, request);
	void *arg = va_arg(ap, void *);

	va_end(ap);
	if (request == MSHAREFS_CREATE_MAPPING && fd_under_fake_dir(fd))
		return fake_create_mapping(fd, arg);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	return real(fd, request, arg);
}
