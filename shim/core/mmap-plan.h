/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pure decisions for the mmap paths: which mmap() calls may be backed by an
 * msharefs region, how file regions are named and checked, and what each
 * madvise() advice does on a backed mapping.  No system calls, so every
 * rule is unit-tested (tests/shim/test-core.c).
 */
#ifndef SHIM_MMAP_PLAN_H
#define SHIM_MMAP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/plan.h"

/* Does any mmap() need a second look in this process?  Computed once. */
bool shim_mmap_armed(const struct shim_config *config, bool exe_selected);

enum shim_mmap_verdict {
	SHIM_MMAP_PASS,		/* the plain system call */
	SHIM_MMAP_FILE,		/* file candidate: look at the file next */
	SHIM_MMAP_ANON,		/* back with an anonymous region */
	SHIM_MMAP_REFUSE,	/* strict + malformed configuration: ENOMEM */
};

/*
 * First look, from the arguments alone: MAP_SHARED or MAP_SHARED_VALIDATE,
 * no flags beyond MAP_POPULATE, MAP_NORESERVE, MAP_ANONYMOUS and (anonymous
 * only) MAP_HUGETLB with its size bits; prot a non-empty subset of
 * READ|WRITE|EXEC; no fixed address; at least MIN_SIZE (and for anonymous
 * memory at least MSHARE_SHIM_ANON).
 */
enum shim_mmap_verdict shim_mmap_screen(const struct shim_config *config,
					size_t len, int prot, int flags);

/* What the shim learnt about the file behind the fd. */
struct shim_mmap_file {
	const char *path;	/* canonical, from /proc/self/fd/N */
	bool regular;
	bool deleted;		/* st_nlink == 0 */
	uint64_t file_size;
	int access_mode;	/* fcntl(F_GETFL) & O_ACCMODE */
	bool noexec;		/* on a noexec mount */
	uint64_t page_size;	/* offsets must be multiples; 0: unchecked */
};

/*
 * Second look for a file candidate: the path matches MSHARE_SHIM_FILES,
 * it is a regular file that still has a name, the fd allows the access the
 * kernel would demand, the offset is page-aligned and PROT_EXEC is not
 * asked on a noexec mount (else the kernel reports the error itself, also
 * in strict mode), and the range lies inside the file (mapping beyond EOF has SIGBUS semantics a
 * region cannot reproduce).  False with why when it must pass through.
 */
bool shim_mmap_file_ok(const struct shim_config *config,
		       const struct shim_mmap_file *file, uint64_t offset,
		       size_t len, int prot, char *why, size_t why_size);

/* A file range, as it names its region. */
struct shim_file_range {
	uint64_t dev, ino, offset, len;	/* len page-rounded */
	uid_t euid;
	int prot;
};

/*
 * "file.<dev hex>.<ino>.<offset hex>.<len hex>.<euid>.<prot>": one region
 * per file range, user and protection.  The protection is part of the name
 * because it is the region's own mapping's protection: a read-only region
 * cannot serve a writer.  Two regions of one file stay coherent through the
 * page cache.
 */
#define SHIM_MMAP_NAME_MAX 128
size_t shim_file_region_name(char *buf, size_t size,
			     const struct shim_file_range *range);
bool shim_file_region_name_parse(const char *name,
				 struct shim_file_range *range);

/* Temporary names while a region is built: ".mmap.<pid>.<sequence>". */
size_t shim_mmap_temp_name(char *buf, size_t size, pid_t pid, unsigned seq);
bool shim_mmap_temp_name_parse(const char *name, pid_t *pid);

/*
 * Only a regular msharefs file owned by this euid with mode 0600 and the
 * expected size is trusted; anything else was planted.
 */
bool shim_mmap_region_check(const struct shim_region_observation *seen,
			    uid_t euid, uint64_t region_size,
			    char *why, size_t why_size);

enum shim_madvise_rule {
	SHIM_MADV_SUCCEED,	/* a hint: report success, call nothing */
	SHIM_MADV_WHOLE,	/* apply to the whole attachment (flags it keeps) */
	SHIM_MADV_KERNEL,	/* the kernel handles it on the attachment */
	SHIM_MADV_PUNCH,	/* MADV_REMOVE: punch a hole in the file */
	SHIM_MADV_EINVAL,	/* cannot be honoured: EINVAL */
};

/* whole: the call covers the entire mapping the program made. */
enum shim_madvise_rule shim_madvise_rule(int advice, bool whole,
					 bool file_backed);

/*
 * The errno of mremap() on an old address where nothing is mapped (to the
 * program: the rest of an attachment past its mapping), as the kernel
 * gives it: its argument checks first (EINVAL), then EFAULT.
 */
int shim_mremap_unmapped_errno(uintptr_t old, size_t old_size,
			       size_t new_size, int flags, size_t page_size);

#endif
