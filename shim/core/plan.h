/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pure decisions for the SysV paths: whether a call is a candidate for
 * backing and why not, how regions are named, and whether an existing
 * region file may be trusted.  No system calls here, so every rule can be
 * unit-tested.
 */
#ifndef SHIM_PLAN_H
#define SHIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"

/* Why a call was or was not backed.  "Say why once" keys off this. */
enum shim_reason {
	SHIM_REASON_NONE,
	SHIM_REASON_MODE_OFF,
	SHIM_REASON_CONFIG_MALFORMED,
	SHIM_REASON_EXE_NOT_SELECTED,
	SHIM_REASON_KEY_NOT_LISTED,
	SHIM_REASON_NOT_CREATING,
	SHIM_REASON_TOO_SMALL,
	SHIM_REASON_NO_MSHAREFS,
	SHIM_REASON_REGION_SETUP_FAILED,
	SHIM_REASON_REGION_FOREIGN,
	SHIM_REASON_REGION_ATTACH_FAILED,
	SHIM_REASON_ADDRESS_UNALIGNED,
	SHIM_REASON_ADDRESS_OCCUPIED,
	SHIM_REASON_TABLE_FULL,
	SHIM_REASON_CREATOR_STALLED,
	SHIM_REASON_SEGMENT_UNBACKED,
	SHIM_REASON_MMAP_SETUP_FAILED,
	SHIM_REASON_MMAP_FOREIGN,
	SHIM_REASON_MMAP_TABLE_FULL,
	SHIM_REASON_MMAP_UNSUPPORTED,
	SHIM_REASON_ADDRESS_SPACE,
	SHIM_REASON_KERNEL_SHARING_OFF,
	SHIM_REASON_NO_SHARE_MMU,
	SHIM_REASON_COUNT
};

const char *shim_reason_text(enum shim_reason reason);

enum shim_verdict {
	SHIM_PASS,		/* do the system call, nothing else */
	SHIM_CANDIDATE,		/* try to create the segment with a region */
	SHIM_REFUSE,		/* strict mode: fail the call with ENOMEM */
};

struct shim_decision {
	enum shim_verdict verdict;
	enum shim_reason reason;
};

/* shmget(): is this call one that may create a backed segment? */
struct shim_decision shim_plan_shmget(const struct shim_config *config,
				      bool exe_selected, key_t key,
				      size_t size, int shmflg);

/*
 * shmat()/shmdt()/shmctl(): must the shim look for a region at all?  Yes
 * whenever some segment may be backed here; then the region file, not the
 * local configuration, decides (a segment is backed iff its region exists).
 * SHIM_REFUSE for strict mode with a malformed configuration.
 */
struct shim_decision shim_plan_lookup(const struct shim_config *config,
				      bool exe_selected);

/*
 * shmat() of a segment found without a region: strict mode refuses it when
 * the configuration says it should have been backed (listed key, at least
 * MIN_SIZE); otherwise it is attached as it is.
 */
struct shim_decision shim_plan_unbacked_attach(const struct shim_config *config,
					       key_t key, uint64_t segsz);

/*
 * Could shim_plan_unbacked_attach() refuse some segment?  Only then does an
 * attach of a segment known to be unbacked still need its key and size
 * (IPC_STAT); otherwise it goes straight to the kernel.
 */
bool shim_plan_unbacked_attach_may_refuse(const struct shim_config *config);

/*
 * On a kernel that shares a segment's page tables itself (shmat() with
 * SHM_SHARE_MMU): does the shim ask it to for this segment?  Only the key
 * and the size decide, as for a region.
 */
bool shim_plan_share_mmu(const struct shim_config *config, key_t key,
			 uint64_t segsz);

/* Which way SysV segments share tables, given what the kernel offers. */
enum shim_sysv_path {
	SHIM_SYSV_PATH_KERNEL,	/* shmat(SHM_SHARE_MMU) */
	SHIM_SYSV_PATH_REGIONS,	/* msharefs regions made by the shim */
	SHIM_SYSV_PATH_NONE,	/* kernel asked for, absent: unbacked */
};
enum shim_sysv_path shim_plan_sysv_path(const struct shim_config *config,
					bool kernel_has_share_mmu);

/*
 * shmget() that passes through: does it certainly create a new segment
 * (IPC_PRIVATE, or IPC_CREAT|IPC_EXCL), which therefore has no region, in a
 * process that looks regions up?  Then a success is recorded as unbacked.
 */
bool shim_plan_shmget_creates_unbacked(const struct shim_config *config,
				       bool exe_selected, key_t key,
				       int shmflg);

/* Region names: "sysv.<key as 8 hex digits>.<shmid>.<creator pid>". */
#define SHIM_REGION_NAME_MAX 64
size_t shim_region_name(char *buf, size_t size, key_t key, int shmid,
			pid_t creator);
bool shim_region_name_parse(const char *name, key_t *key, int *shmid,
			    pid_t *creator);

/*
 * The file a creator holds while it builds a region, under which the region
 * is then renamed into place: ".creating.<key hex>.<creator pid>".  Its
 * existence tells an attacher that the region is about to appear.
 */
size_t shim_creating_name(char *buf, size_t size, key_t key, pid_t creator);

/* Region size for a segment: segsz rounded up to the msharefs alignment. */
bool shim_plan_region_size(uint64_t segsz, uint64_t alignment,
			   uint64_t *region_size);

/* What the segment says a genuine region must look like. */
struct shim_region_expectation {
	uid_t cuid;		/* the creator: it made the file */
	uid_t uid;		/* the owner: IPC_SET may have chowned it */
	mode_t segment_mode;	/* shm_perm.mode */
	uint64_t segsz;
	uint64_t alignment;
};

/* What fstat()/fstatfs() say about the file found under the name. */
struct shim_region_observation {
	long fs_type;
	mode_t st_mode;		/* type and permission bits */
	uid_t st_uid;
	uint64_t st_size;
};

/* True if the file is the region the creator made; else why not. */
bool shim_region_check(const struct shim_region_expectation *expect,
		       const struct shim_region_observation *seen,
		       char *why, size_t why_size);

/*
 * Where shmat() maps a backed segment: anywhere (*FIXED false) for a null
 * SHMADDR, else at a multiple of the alignment, the only place a region
 * can go.  Applies the kernel's checks first (SHM_RND rounding, SHM_REMAP
 * needs an address that stays non-null, CVE-2017-5669) and stores the
 * address to map at.  Returns 0, or EINVAL with why.
 */
int shim_plan_attach_address(uintptr_t shmaddr, int shmflg, uintptr_t shmlba,
			     uint64_t alignment, bool *fixed,
			     uintptr_t *map_at, char *why, size_t why_size);

/*
 * How many attachments (SysV and mmap together) a process may hold: each
 * takes a whole alignment unit of address space, and only about 250 units
 * of 512 GiB fit in 47 bits.  A quarter of them stays free for the
 * program's own mmap() and malloc() (192 on x86_64).
 */
unsigned shim_attachment_limit(uint64_t alignment);

#endif
