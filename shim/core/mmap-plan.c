/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/mmap-plan.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#include "core/number.h"
#include "core/pathglob.h"
#include "core/textfmt.h"
#include "msharefs-uapi.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_HUGE_MASK
#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK 0x3f
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#define MADV_PAGEOUT 21
#endif

bool shim_mmap_armed(const struct shim_config *config, bool exe_selected)
{
	if (config->mode == SHIM_MODE_OFF || !exe_selected)
		return false;
	/* Strict cannot tell what was meant to be backed: it refuses (screen). */
	if (config->malformed)
		return config->mode == SHIM_MODE_STRICT;
	return config->files[0] != '\0' || config->anon_set;
}

enum shim_mmap_verdict shim_mmap_screen(const struct shim_config *config,
					size_t len, int prot, int flags)
{
	int type = flags & 0x0f;	/* MAP_TYPE */
	bool anon = (flags & MAP_ANONYMOUS) != 0;
	int allowed = 0x0f | MAP_POPULATE | MAP_NORESERVE | MAP_ANONYMOUS;

	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
		return SHIM_MMAP_PASS;
	if (anon)
		allowed |= MAP_HUGETLB | (MAP_HUGE_MASK << MAP_HUGE_SHIFT);
	if ((flags & ~allowed) != 0)
		return SHIM_MMAP_PASS;
	if (prot == 0 || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) != 0)
		return SHIM_MMAP_PASS;
	if (len < config->min_size || len == 0)
		return SHIM_MMAP_PASS;
	if (config->malformed)
		return config->mode == SHIM_MODE_STRICT ? SHIM_MMAP_REFUSE :
		       SHIM_MMAP_PASS;
	if (anon)
		return config->anon_set && len >= config->anon_min ?
		       SHIM_MMAP_ANON : SHIM_MMAP_PASS;
	return config->files[0] ? SHIM_MMAP_FILE : SHIM_MMAP_PASS;
}

bool shim_mmap_file_ok(const struct shim_config *config,
		       const struct shim_mmap_file *file, uint64_t offset,
		       size_t len, int prot, char *why, size_t why_size)
{
	if (!shim_glob_list_match(config->files, file->path)) {
		shim_format(why, why_size, "%s is not in MSHARE_SHIM_FILES",
			    file->path);
		return false;
	}
	if (!file->regular) {
		shim_format(why, why_size, "%s is not a regular file", file->path);
		return false;
	}
	if (file->deleted) {
		shim_format(why, why_size, "%s has been deleted", file->path);
		return false;
	}
	/* Wrong access: let the kernel fail the call with its own EACCES. */
	if (file->access_mode == O_WRONLY ||
	    (file->access_mode != O_RDWR && (prot & PROT_WRITE))) {
		shim_format(why, why_size, "%s is not open for the access asked",
			    file->path);
		return false;
	}
	/* The kernel's own errors: EINVAL, EPERM.  Strict must not say ENOMEM. */
	if (file->page_size && offset % file->page_size) {
		shim_format(why, why_size, "offset %llu is not page-aligned",
			    (unsigned long long)offset);
		return false;
	}
	if ((prot & PROT_EXEC) && file->noexec) {
		shim_format(why, why_size, "%s is on a noexec mount", file->path);
		return false;
	}
	if (offset > file->file_size || len > file->file_size - offset) {
		shim_format(why, why_size,
			    "%s: the range ends beyond the end of the file",
			    file->path);
		return false;
	}
	return true;
}

size_t shim_file_region_name(char *buf, size_t size,
			     const struct shim_file_range *r)
{
	return shim_format(buf, size, "file.%llx.%llu.%llx.%llx.%u.%d",
			   (unsigned long long)r->dev,
			   (unsigned long long)r->ino,
			   (unsigned long long)r->offset,
			   (unsigned long long)r->len, (unsigned)r->euid,
			   r->prot);
}

/* Parses one field ending at '.' (or at the end if last). */
static bool field(const char **p, bool hex, bool last, uint64_t *out)
{
	const char *end = strchr(*p, '.');
	size_t len;

	if (last) {
		if (end)
			return false;
		len = strlen(*p);
	} else {
		if (!end)
			return false;
		len = (size_t)(end - *p);
	}
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		char c = (*p)[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		uint64_t base = hex ? 16 : 10;

		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	*p += len + (last ? 0 : 1);
	return true;
}

bool shim_file_region_name_parse(const char *name, struct shim_file_range *r)
{
	uint64_t euid, prot;
	const char *p = name;

	if (strncmp(p, "file.", 5) != 0)
		return false;
	p += 5;
	if (!field(&p, true, false, &r->dev) || !field(&p, false, false, &r->ino) ||
	    !field(&p, true, false, &r->offset) || !field(&p, true, false, &r->len) ||
	    !field(&p, false, false, &euid) || !field(&p, false, true, &prot) ||
	    euid > UINT32_MAX || prot > 7)
		return false;
	r->euid = (uid_t)euid;
	r->prot = (int)prot;
	return true;
}

size_t shim_mmap_temp_name(char *buf, size_t size, pid_t pid, unsigned seq)
{
	return shim_format(buf, size, ".mmap.%d.%u", (int)pid, seq);
}

bool shim_mmap_temp_name_parse(const char *name, pid_t *pid)
{
	uint64_t v, seq;
	const char *p = name;

	if (strncmp(p, ".mmap.", 6) != 0)
		return false;
	p += 6;
	if (!field(&p, false, false, &v) || !field(&p, false, true, &seq) ||
	    v == 0 || v > INT32_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

bool shim_mmap_region_check(const struct shim_region_observation *seen,
			    uid_t euid, uint64_t region_size,
			    char *why, size_t why_size)
{
	if (seen->fs_type != MSHARE_MAGIC) {
		shim_format(why, why_size, "not on msharefs");
		return false;
	}
	if (!S_ISREG(seen->st_mode)) {
		shim_format(why, why_size, "not a regular file");
		return false;
	}
	if (seen->st_uid != euid) {
		shim_format(why, why_size, "owned by uid %u, not %u",
			    (unsigned)seen->st_uid, (unsigned)euid);
		return false;
	}
	if ((seen->st_mode & 07777) != 0600) {
		shim_format(why, why_size, "mode %04o, not 0600",
			    (unsigned)(seen->st_mode & 07777));
		return false;
	}
	if (seen->st_size != region_size) {
		shim_format(why, why_size, "size %llu, not %llu",
			    (unsigned long long)seen->st_size,
			    (unsigned long long)region_size);
		return false;
	}
	return true;
}

enum shim_madvise_rule shim_madvise_rule(int advice, bool whole,
					 bool file_backed)
{
	switch (advice) {
	/*
	 * Hints about access patterns and reclaim.  The kernel refuses most
	 * of them on an attachment (or would split it); ignoring a hint is
	 * always correct.  DONTNEED on shared memory only drops this
	 * process's PTEs (the data stays), so skipping it is invisible.
	 */
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_COLD:
	case MADV_PAGEOUT:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:	/* attachments are never dumped anyway */
	case MADV_DODUMP:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	/* Clears WIPEONFORK, which a shared mapping can never have. */
	case MADV_KEEPONFORK:
		return SHIM_MADV_SUCCEED;
	/* These change what fork does: only the whole attachment can. */
	case MADV_DONTFORK:
	case MADV_DOFORK:
		return whole ? SHIM_MADV_WHOLE : SHIM_MADV_EINVAL;
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
		return SHIM_MADV_KERNEL;
	case MADV_REMOVE:
		return file_backed ? SHIM_MADV_PUNCH : SHIM_MADV_EINVAL;
	default:
		return SHIM_MADV_EINVAL;
	}
}

int shim_mremap_unmapped_errno(uintptr_t old, size_t old_size,
			       size_t new_size, int flags, size_t page_size)
{
	int known = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;
	bool moves = flags & MREMAP_MAYMOVE;

	if ((flags & ~known) || ((flags & MREMAP_FIXED) && !moves) ||
	    ((flags & MREMAP_DONTUNMAP) && (!moves || old_size != new_size)) ||
	    (old & (page_size - 1)))
		return EINVAL;
	/* The kernel rounds new_size up to pages: 0 or wrapped to 0. */
	if (((new_size + page_size - 1) & ~(page_size - 1)) == 0)
		return EINVAL;
	return EFAULT;
}
