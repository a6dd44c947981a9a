/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory-mapping system calls, made directly.  The shim exports mmap,
 * munmap, mremap, mprotect and madvise itself, so calling them by name
 * would come back into the shim; resolving libc's with dlsym() is no
 * option either, because dlsym() may allocate and an allocator may call
 * mmap() before the shim's constructor has run.
 */
#ifndef SHIM_MMAP_RAW_H
#define SHIM_MMAP_RAW_H

#include <stddef.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline void *raw_mmap(void *addr, size_t len, int prot, int flags,
			     int fd, off_t offset)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, offset);
}

static inline int raw_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

static inline void *raw_mremap(void *old, size_t old_size, size_t new_size,
			       int flags, void *new_addr)
{
	return (void *)syscall(SYS_mremap, old, old_size, new_size, flags,
			       new_addr);
}

static inline int raw_mprotect(void *addr, size_t len, int prot)
{
	return (int)syscall(SYS_mprotect, addr, len, prot);
}

static inline int raw_madvise(void *addr, size_t len, int advice)
{
	return (int)syscall(SYS_madvise, addr, len, advice);
}

static inline int raw_mlock(const void *addr, size_t len)
{
	return (int)syscall(SYS_mlock, addr, len);
}

static inline int raw_mlock2(const void *addr, size_t len, unsigned flags)
{
	return (int)syscall(SYS_mlock2, addr, len, flags);
}

static inline int raw_munlock(const void *addr, size_t len)
{
	return (int)syscall(SYS_munlock, addr, len);
}

static inline int raw_mlockall(int flags)
{
	return (int)syscall(SYS_mlockall, flags);
}

static inline int raw_munlockall(void)
{
	return (int)syscall(SYS_munlockall);
}

#endif
