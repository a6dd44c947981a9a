/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for msharefs on hosts without our kernel, for the host run of
 * vm-shim-tests.sh: preloaded ahead of the shim, it makes a tmpfs directory
 * (FAKE_MSHAREFS_DIR) look like an msharefs mount to the shim.
 *   - statfs()/fstatfs() under the directory report MSHARE_MAGIC;
 *   - MSHAREFS_CREATE_MAPPING on a file there checks its arguments and the
 *     file behind a file mapping like the kernel (mm/mshare.c), errno for
 *     errno, and then succeeds: the tmpfs file itself is shared memory, so
 *     every process mapping it MAP_SHARED sees the same pages.
 * It maps nothing, though: the data of a file mapping stays in the tmpfs
 * file instead of reaching the file, and an attachment is a plain mapping
 * that partial munmap()/mprotect() split (msharefs refuses).  Those cases
 * are tested in the VM only (vm-mmap-tests.sh); the fake serves SysV
 * segments (test-fake-msharefs.sh), anonymous shared memory, and the
 * calls and descriptors (not the data) of file mappings
 * (test-fake-mmap.sh).
 * What it cannot fake is the point of msharefs (shared page tables), so the
 * VmPTE test and address alignment are only checked in the VM.
 *
 * With FAKE_MSHAREFS_PATH_LOG set, it also writes there every call the
 * shim makes (libmshare-shim.so, by the caller's address) with a path
 * beneath the directory: the shim reaches names on the mount only relative
 * to a descriptor of its root (shim/msharefs/mount-dir.h), so the test
 * expects that file empty.  The file must exist and be writable.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
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

/* A path strictly beneath the fake mount (the mount itself is fine). */
static int beneath_fake_dir(const char *path)
{
	const char *dir = getenv("FAKE_MSHAREFS_DIR");
	size_t n = dir ? strlen(dir) : 0;

	return path && n && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* Records a path call of the shim beneath the mount (see the top). */
static void audit(const char *call, const char *path, void *caller)
{
	const char *log = getenv("FAKE_MSHAREFS_PATH_LOG");
	Dl_info info;
	char line[4200];

	if (!log || !beneath_fake_dir(path) || !dladdr(caller, &info) ||
	    !info.dli_fname || !strstr(info.dli_fname, "libmshare-shim"))
		return;

	int saved = errno;
	/* No O_CREAT: the test makes it, writable by the other uid it uses. */
	int fd = (int)syscall(SYS_open, log, O_WRONLY | O_APPEND | O_CLOEXEC);
	int n = snprintf(line, sizeof(line), "%d %s %s\n", (int)getpid(), call,
			 path);

	if (fd >= 0) {
		if (n > 0)
			(void)!write(fd, line, (size_t)n < sizeof(line) ?
				     (size_t)n : sizeof(line) - 1);
		close(fd);
	}
	errno = saved;
}

#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (!real_##name) \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

EXPORT int open(const char *path, int flags, ...)
{
	REAL(open);
	va_list ap;

	va_start(ap, flags);
	mode_t mode = va_arg(ap, mode_t);

	va_end(ap);
	audit("open", path, __builtin_return_address(0));
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	REAL(open64);
	va_list ap;

	va_start(ap, flags);
	mode_t mode = va_arg(ap, mode_t);

	va_end(ap);
	audit("open64", path, __builtin_return_address(0));
	return real_open64(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	va_list ap;

	va_start(ap, flags);
	mode_t mode = va_arg(ap, mode_t);

	va_end(ap);
	audit("openat", path, __builtin_return_address(0));
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int unlink(const char *path)
{
	REAL(unlink);
	audit("unlink", path, __builtin_return_address(0));
	return real_unlink(path);
}

EXPORT int renameat2(int olddirfd, const char *oldpath, int newdirfd,
		     const char *newpath, unsigned int flags)
{
	REAL(renameat2);
	audit("renameat2", oldpath, __builtin_return_address(0));
	audit("renameat2", newpath, __builtin_return_address(0));
	return real_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

EXPORT int stat(const char *path, struct stat *st)
{
	REAL(stat);
	audit("stat", path, __builtin_return_address(0));
	return real_stat(path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	REAL(lstat);
	audit("lstat", path, __builtin_return_address(0));
	return real_lstat(path, st);
}

EXPORT int chmod(const char *path, mode_t mode)
{
	REAL(chmod);
	audit("chmod", path, __builtin_return_address(0));
	return real_chmod(path, mode);
}

EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	REAL(lchown);
	audit("lchown", path, __builtin_return_address(0));
	return real_lchown(path, uid, gid);
}

EXPORT int statfs(const char *path, struct statfs *buf)
{
	static int (*real)(const char *, struct statfs *);

	audit("statfs", path, __builtin_return_address(0));

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

static int fail(int err)
{
	errno = err;
	return -1;
}

/* The checks the kernel makes of the file behind a file mapping (mm/mshare.c). */
static int fake_check_file(const struct mshare_create *mc)
{
	int fd = (int)mc->fd;
	int fl = fcntl(fd, F_GETFL);
	struct statvfs vfs;
	struct stat st;

	if (fl < 0 || fstat(fd, &st) != 0)
		return fail(EBADF);
	if (fd_under_fake_dir(fd))
		return fail(EINVAL);	/* another msharefs file */
	if (!S_ISREG(st.st_mode))
		return fail(ENODEV);
	if ((fl & O_ACCMODE) == O_WRONLY || (fl & O_PATH))
		return fail(EACCES);
	if ((mc->prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR)
		return fail(EACCES);
	if ((mc->prot & PROT_EXEC) && fstatvfs(fd, &vfs) == 0 &&
	    (vfs.f_flag & ST_NOEXEC))
		return fail(EPERM);
	if (mc->flags & (MAP_HUGETLB | (0x3fu << 26)))
		return fail(EINVAL);
	return 0;
}

/*
 * MSHAREFS_CREATE_MAPPING's argument checks, in the kernel's order and with
 * its errnos.  Nothing is mapped: the tmpfs file is the shared memory.
 */
static int fake_create_mapping(int fd, const struct mshare_create *mc)
{
	unsigned type = mc->flags & 0x0f;
	unsigned allowed = 0x0f | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_ANONYMOUS |
			   MAP_HUGETLB | MAP_NORESERVE | (0x3fu << 26);
	int fl = fcntl(fd, F_GETFL);
	struct stat st;

	if (fl < 0 || fstat(fd, &st) != 0)
		return -1;
	if ((fl & O_ACCMODE) == O_RDONLY)
		return fail(EBADF);
	if (st.st_size == 0)
		return fail(EINVAL);
	if (mc->size == 0 || mc->region_offset % 4096 || mc->size % 4096 ||
	    mc->offset % 4096 || mc->region_offset >= (unsigned long long)st.st_size ||
	    mc->size > (unsigned long long)st.st_size - mc->region_offset)
		return fail(EINVAL);
	if (mc->prot & ~(unsigned)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return fail(EINVAL);
	if ((type != MAP_SHARED && type != MAP_SHARED_VALIDATE) ||
	    !(mc->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) ||
	    (mc->flags & ~allowed))
		return fail(EINVAL);
	if (mc->flags & MAP_ANONYMOUS)
		return mc->fd != (__u32)-1 || mc->offset ? fail(EINVAL) : 0;
	return fake_check_file(mc);
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
