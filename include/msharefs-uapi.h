/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The msharefs user API (v3 layout), for user space built on hosts whose
 * kernel headers do not carry <linux/msharefs.h>.  Binary-compatible with
 * include/uapi/linux/msharefs.h from kernel/patches/.
 */
#ifndef MSHAREFS_UAPI_H
#define MSHAREFS_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef MSHARE_MAGIC
#define MSHARE_MAGIC 0x4d534852		/* "MSHR", statfs f_type */
#endif

#define MSHAREFS_DEFAULT_MOUNT "/sys/fs/mshare"
#define MSHAREFS_INFO_NAME "mshare_info"
/* One page; a __u64 count of name changes at offset 0 (odd: one in progress). */
#define MSHAREFS_GENERATION_NAME "mshare_generation"

#ifndef MSHAREFS_CREATE_MAPPING
struct mshare_create {
	__u64 region_offset;	/* where in the region, aligned to PAGE_SIZE */
	__u64 size;		/* length, multiple of PAGE_SIZE */
	__u64 offset;		/* file offset (pgoff * PAGE_SIZE) */
	__u32 prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	__u32 flags;		/* MAP_SHARED | MAP_FIXED [| MAP_ANONYMOUS ...] */
	__u32 fd;		/* file to map, or (__u32)-1 for anonymous */
};

struct mshare_unmap {
	__u64 region_offset;
	__u64 size;
};

#define MSHAREFS_CREATE_MAPPING	_IOW('x', 0, struct mshare_create)
#define MSHAREFS_UNMAP		_IOW('x', 1, struct mshare_unmap)
#endif

/* Our addition (kernel/UAPI.md): freeze a region's layout for good. */
#ifndef MSHAREFS_SEAL
#define MSHAREFS_SEAL		_IO('x', 2)
#endif

/*
 * Our addition (kernel/UAPI.md, "SysV segments: one memory"): shmat() that
 * shares the segment's page tables.  The sysctl exists when the kernel has
 * the flag and reads 1 when it shares.  A shared attachment spans whole
 * units of the msharefs alignment (512 GiB on x86_64), which user space
 * cannot read without a mount.
 */
#ifndef SHM_SHARE_MMU
#define SHM_SHARE_MMU 0200000
#endif
#define SHM_SHARE_MMU_SYSCTL "/proc/sys/kernel/shm_share_mmu"
#define SHM_SHARE_MMU_UNIT (512ULL << 30)

#endif /* MSHAREFS_UAPI_H */
