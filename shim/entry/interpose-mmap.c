/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exported memory-mapping entry points.  Allocators call these from
 * inside malloc, so the common case (MAP_PRIVATE, or no mapping settings)
 * is one predictable branch on a flag computed at setup, then the system
 * call: no locks, no logging, no allocation.  Before setup has run (an
 * allocator in an earlier constructor) everything passes straight through.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "entry/interpose-mmap.h"
#include "core/mmap-plan.h"
#include "mmap/mmap-backed.h"
#include "support/mmap-raw.h"
#include "support/mmap-table.h"
#include "support/shim-state.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Written once during setup, before any backed mapping can exist. */
static bool mmap_armed;

__attribute__((destructor)) static void release_at_exit(void)
{
	if (mmap_armed)
		mmap_backed_release_at_exit();
}

void mmap_interpose_setup(void)
{
	if (!shim_mmap_armed(&shim_state.config, shim_state.exe_selected))
		return;
	__atomic_store_n(&mmap_armed, true, __ATOMIC_RELEASE);
}

bool mmap_interpose_armed(void)
{
	return __atomic_load_n(&mmap_armed, __ATOMIC_ACQUIRE);
}

/* Only the backed path has anything to do with the call. */
static inline bool mmap_is_ours(int flags)
{
	if (__builtin_expect(!mmap_armed, 1))
		return false;
	if (shim_inside_call)
		return false;
	return (flags & MAP_SHARED) ||
	       ((flags & MAP_FIXED) && mmap_table_in_use());
}

/*
 * munmap & co. can only concern a backed mapping if one exists, and only
 * if it overlaps their range: looked up without a lock, so calls on other
 * ranges neither wait for each other nor for a thread in the slow path
 * (and a signal handler can make them while its thread is in there).
 */
static inline bool table_is_ours(void *addr, size_t len)
{
	return __builtin_expect(mmap_table_in_use(), 0) && !shim_inside_call &&
	       mmap_table_may_overlap((uintptr_t)addr, len);
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t offset)
{
	if (!mmap_is_ours(flags))
		return raw_mmap(addr, len, prot, flags, fd, offset);
	return mmap_backed_mmap(addr, len, prot, flags, fd, offset);
}

/* One symbol on x86_64 glibc (off_t is 64 bits); export both names. */
SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off_t offset) __attribute__((alias("mmap")));

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	if (!table_is_ours(addr, len))
		return raw_munmap(addr, len);
	return mmap_backed_munmap(addr, len);
}

SHIM_EXPORT void *mremap(void *old, size_t old_size, size_t new_size,
			 int flags, ...)
{
	void *new_addr = NULL;

	/* Like glibc: the fifth argument exists only with MREMAP_FIXED. */
	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	/*
	 * old_size 0 duplicates a shared mapping: it still concerns old.  A
	 * MREMAP_FIXED target is replaced, as by mmap(MAP_FIXED).
	 */
	if (!table_is_ours(old, old_size ? old_size : 1) &&
	    !((flags & MREMAP_FIXED) && table_is_ours(new_addr, new_size)))
		return raw_mremap(old, old_size, new_size, flags, new_addr);
	return mmap_backed_mremap(old, old_size, new_size, flags, new_addr);
}

SHIM_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	if (!table_is_ours(addr, len))
		return raw_mprotect(addr, len, prot);
	return mmap_backed_mprotect(addr, len, prot);
}

SHIM_EXPORT int madvise(void *addr, size_t len, int advice)
{
	if (!table_is_ours(addr, len))
		return raw_madvise(addr, len, advice);
	return mmap_backed_madvise(addr, len, advice);
}

/*
 * mlock() and friends: the kernel's answer, and a note for conversions
 * when a backed mapping is concerned (the kernel ignores mlock on an
 * attachment, see mmap-table.h).
 */
SHIM_EXPORT int mlock(const void *addr, size_t len)
{
	int rc = raw_mlock(addr, len);

	if (rc == 0 && table_is_ours((void *)addr, len))
		mmap_backed_note_mlock(addr, len, true);
	return rc;
}

SHIM_EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	int rc = raw_mlock2(addr, len, flags);

	if (rc == 0 && table_is_ours((void *)addr, len))
		mmap_backed_note_mlock(addr, len, true);
	return rc;
}

SHIM_EXPORT int munlock(const void *addr, size_t len)
{
	int rc = raw_munlock(addr, len);

	if (rc == 0 && table_is_ours((void *)addr, len))
		mmap_backed_note_mlock(addr, len, false);
	return rc;
}

SHIM_EXPORT int mlockall(int flags)
{
	int rc = raw_mlockall(flags);

	if (rc == 0 && (flags & MCL_CURRENT) && table_is_ours(NULL, SIZE_MAX))
		mmap_backed_note_mlock(NULL, SIZE_MAX, true);
	return rc;
}

SHIM_EXPORT int munlockall(void)
{
	int rc = raw_munlockall();

	if (rc == 0 && table_is_ours(NULL, SIZE_MAX))
		mmap_backed_note_mlock(NULL, SIZE_MAX, false);
	return rc;
}
