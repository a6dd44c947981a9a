/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/plan.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "core/number.h"
#include "core/size.h"
#include "core/textfmt.h"
#include "msharefs-uapi.h"

const char *shim_reason_text(enum shim_reason reason)
{
	switch (reason) {
	case SHIM_REASON_NONE: return "backed";
	case SHIM_REASON_MODE_OFF: return "MSHARE_SHIM_MODE=off";
	case SHIM_REASON_CONFIG_MALFORMED: return "the configuration is malformed";
	case SHIM_REASON_EXE_NOT_SELECTED: return "this executable is not in MSHARE_SHIM_EXE";
	case SHIM_REASON_KEY_NOT_LISTED: return "the key is not in MSHARE_SHIM_SHM";
	case SHIM_REASON_NOT_CREATING: return "the call does not create a segment";
	case SHIM_REASON_TOO_SMALL: return "the segment is smaller than MSHARE_SHIM_MIN_SIZE";
	case SHIM_REASON_NO_MSHAREFS: return "msharefs is not available";
	case SHIM_REASON_REGION_SETUP_FAILED: return "the msharefs region could not be set up";
	case SHIM_REASON_REGION_FOREIGN: return "a file under the region's name is not the creator's region";
	case SHIM_REASON_REGION_ATTACH_FAILED: return "the msharefs region could not be attached";
	case SHIM_REASON_ADDRESS_UNALIGNED: return "a backed segment can only be attached at a multiple of the msharefs alignment";
	case SHIM_REASON_ADDRESS_OCCUPIED: return "something else is mapped where the backed segment's region would be attached";
	case SHIM_REASON_TABLE_FULL: return "the attachment table is full";
	case SHIM_REASON_CREATOR_STALLED: return "the creator did not finish the region in time";
	case SHIM_REASON_SEGMENT_UNBACKED: return "the segment was created without an msharefs region";
	case SHIM_REASON_MMAP_SETUP_FAILED: return "the msharefs region for a shared mapping could not be set up";
	case SHIM_REASON_MMAP_FOREIGN: return "a file under a mapping region's name is not one this user made";
	case SHIM_REASON_MMAP_TABLE_FULL: return "the backed-mapping table is full";
	case SHIM_REASON_MMAP_UNSUPPORTED: return "the operation cannot be applied to a backed anonymous mapping";
	case SHIM_REASON_ADDRESS_SPACE: return "the attachments would leave the program too little address space";
	case SHIM_REASON_KERNEL_SHARING_OFF: return "kernel.shm_share_mmu is 0: the kernel shares no SysV page tables";
	case SHIM_REASON_NO_SHARE_MMU: return "MSHARE_SHIM_SYSV=kernel, and this kernel has no shmat(SHM_SHARE_MMU) (no kernel.shm_share_mmu)";
	case SHIM_REASON_COUNT: break;
	}
	return "unknown reason";
}

static struct shim_decision decide(enum shim_verdict verdict,
				   enum shim_reason reason)
{
	struct shim_decision d = { verdict, reason };

	return d;
}

struct shim_decision shim_plan_lookup(const struct shim_config *config,
				      bool exe_selected)
{
	if (config->mode == SHIM_MODE_OFF)
		return decide(SHIM_PASS, SHIM_REASON_MODE_OFF);
	if (!exe_selected)
		return decide(SHIM_PASS, SHIM_REASON_EXE_NOT_SELECTED);
	/*
	 * Strict with a configuration it cannot read: it cannot tell which
	 * calls were meant to be backed, and strict promises never to run
	 * one unbacked, so it refuses them all.
	 */
	if (config->malformed)
		return decide(config->mode == SHIM_MODE_STRICT ? SHIM_REFUSE : SHIM_PASS,
			      SHIM_REASON_CONFIG_MALFORMED);
	if (shim_keylist_is_empty(&config->shm))
		return decide(SHIM_PASS, SHIM_REASON_KEY_NOT_LISTED);
	return decide(SHIM_CANDIDATE, SHIM_REASON_NONE);
}

struct shim_decision shim_plan_shmget(const struct shim_config *config,
				      bool exe_selected, key_t key,
				      size_t size, int shmflg)
{
	struct shim_decision d = shim_plan_lookup(config, exe_selected);

	if (d.verdict != SHIM_CANDIDATE)
		return d;
	if (!shim_keylist_matches(&config->shm, key))
		return decide(SHIM_PASS, SHIM_REASON_KEY_NOT_LISTED);
	/* IPC_PRIVATE always makes a new segment, IPC_CREAT or not. */
	if (key != IPC_PRIVATE && !(shmflg & IPC_CREAT))
		return decide(SHIM_PASS, SHIM_REASON_NOT_CREATING);
	if ((uint64_t)size < config->min_size)
		return decide(SHIM_PASS, SHIM_REASON_TOO_SMALL);
	return decide(SHIM_CANDIDATE, SHIM_REASON_NONE);
}

struct shim_decision shim_plan_unbacked_attach(const struct shim_config *config,
					       key_t key, uint64_t segsz)
{
	if (config->mode != SHIM_MODE_STRICT ||
	    !shim_keylist_matches(&config->shm, key) || segsz < config->min_size)
		return decide(SHIM_PASS, SHIM_REASON_SEGMENT_UNBACKED);
	return decide(SHIM_REFUSE, SHIM_REASON_SEGMENT_UNBACKED);
}

bool shim_plan_unbacked_attach_may_refuse(const struct shim_config *config)
{
	/* Any key may be listed and any size reach MIN_SIZE: only the mode tells. */
	return config->mode == SHIM_MODE_STRICT;
}

bool shim_plan_share_mmu(const struct shim_config *config, key_t key,
			 uint64_t segsz)
{
	return shim_keylist_matches(&config->shm, key) &&
	       segsz >= config->min_size;
}

enum shim_sysv_path shim_plan_sysv_path(const struct shim_config *config,
					bool kernel_has_share_mmu)
{
	switch (config->sysv_tables) {
	case SHIM_SYSV_REGIONS:
		return SHIM_SYSV_PATH_REGIONS;
	case SHIM_SYSV_KERNEL:
		return kernel_has_share_mmu ? SHIM_SYSV_PATH_KERNEL :
					      SHIM_SYSV_PATH_NONE;
	case SHIM_SYSV_AUTO:
		break;
	}
	return kernel_has_share_mmu ? SHIM_SYSV_PATH_KERNEL :
				      SHIM_SYSV_PATH_REGIONS;
}

bool shim_plan_shmget_creates_unbacked(const struct shim_config *config,
				       bool exe_selected, key_t key,
				       int shmflg)
{
	if (shim_plan_lookup(config, exe_selected).verdict != SHIM_CANDIDATE)
		return false;
	return key == IPC_PRIVATE ||
	       (shmflg & (IPC_CREAT | IPC_EXCL)) == (IPC_CREAT | IPC_EXCL);
}

size_t shim_region_name(char *buf, size_t size, key_t key, int shmid,
			pid_t creator)
{
	return shim_format(buf, size, "sysv.%08x.%d.%d", (unsigned)key, shmid,
			   (int)creator);
}

size_t shim_creating_name(char *buf, size_t size, key_t key, pid_t creator)
{
	return shim_format(buf, size, ".creating.%08x.%d", (unsigned)key,
			   (int)creator);
}

/* Parses "<digits>" up to stop (or the end) strictly; returns the end. */
static const char *parse_field(const char *p, char stop, bool hex,
			       uint64_t max, uint64_t *value)
{
	const char *end = stop ? strchr(p, stop) : p + strlen(p);
	size_t used;
	char why[64];

	if (!end || end == p)
		return NULL;
	if (hex) {
		/* Region names carry the key as exactly 8 bare hex digits. */
		char prefixed[16] = "0x";

		if (end - p != 8)
			return NULL;
		memcpy(prefixed + 2, p, 8);
		prefixed[10] = '\0';
		if (!shim_parse_u64_prefix(prefixed, 10, true, value, &used,
					   why, sizeof(why)) || used != 10)
			return NULL;
	} else if (!shim_parse_u64_prefix(p, (size_t)(end - p), false, value,
					  &used, why, sizeof(why)) ||
		   used != (size_t)(end - p)) {
		return NULL;
	}
	return *value <= max ? end : NULL;
}

bool shim_region_name_parse(const char *name, key_t *key, int *shmid,
			    pid_t *creator)
{
	static const char prefix[] = "sysv.";
	uint64_t k, id, pid;
	const char *p;

	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = name + sizeof(prefix) - 1;
	if (!(p = parse_field(p, '.', true, UINT32_MAX, &k)))
		return false;
	if (!(p = parse_field(p + 1, '.', false, INT32_MAX, &id)))
		return false;
	if (!(p = parse_field(p + 1, '\0', false, INT32_MAX, &pid)))
		return false;
	*key = (key_t)(uint32_t)k;
	*shmid = (int)id;
	*creator = (pid_t)pid;
	return true;
}

bool shim_plan_region_size(uint64_t segsz, uint64_t alignment,
			   uint64_t *region_size)
{
	if (segsz == 0 || alignment == 0)
		return false;
	return shim_size_round_up(segsz, alignment, region_size);
}

bool shim_region_check(const struct shim_region_expectation *expect,
		       const struct shim_region_observation *seen,
		       char *why, size_t why_size)
{
	uint64_t want_size;
	mode_t want_mode = expect->segment_mode & 0666;

	if (seen->fs_type != MSHARE_MAGIC) {
		shim_format(why, why_size, "not on msharefs (f_type 0x%lx)",
			    (unsigned long)seen->fs_type);
		return false;
	}
	if (!S_ISREG(seen->st_mode)) {
		shim_format(why, why_size, "not a regular file");
		return false;
	}
	if (seen->st_uid != expect->cuid && seen->st_uid != expect->uid) {
		shim_format(why, why_size,
			    "owned by uid %u, but the segment's creator is uid %u and owner uid %u",
			    (unsigned)seen->st_uid, (unsigned)expect->cuid,
			    (unsigned)expect->uid);
		return false;
	}
	if ((seen->st_mode & 07777) != want_mode) {
		shim_format(why, why_size,
			    "mode %04o, but the segment's mode gives %04o",
			    (unsigned)(seen->st_mode & 07777), (unsigned)want_mode);
		return false;
	}
	if (!shim_plan_region_size(expect->segsz, expect->alignment, &want_size)) {
		shim_format(why, why_size, "segment size %llu has no region size",
			    (unsigned long long)expect->segsz);
		return false;
	}
	if (seen->st_size != want_size) {
		shim_format(why, why_size,
			    "size %llu, but a segment of %llu bytes needs %llu",
			    (unsigned long long)seen->st_size,
			    (unsigned long long)expect->segsz,
			    (unsigned long long)want_size);
		return false;
	}
	return true;
}

int shim_plan_attach_address(uintptr_t shmaddr, int shmflg, uintptr_t shmlba,
			     uint64_t alignment, bool *fixed,
			     uintptr_t *map_at, char *why, size_t why_size)
{
	uintptr_t addr = shmaddr;

	*fixed = false;
	*map_at = 0;
	if (!addr) {
		if (shmflg & SHM_REMAP) {
			shim_format(why, why_size,
				    "SHM_REMAP needs an address, and the address is null");
			return EINVAL;
		}
		return 0;
	}
	if (addr % shmlba) {
		if (!(shmflg & SHM_RND)) {
			/* The kernel's own answer for this address. */
			shim_format(why, why_size,
				    "address %p is not a multiple of SHMLBA and SHM_RND is not set",
				    (void *)shmaddr);
			return EINVAL;
		}
		addr -= addr % shmlba;
		/* The kernel refuses to replace page 0 (CVE-2017-5669) */
		if (!addr && (shmflg & SHM_REMAP)) {
			shim_format(why, why_size,
				    "address %p rounds down to null with SHM_RND, and SHM_REMAP may not map there",
				    (void *)shmaddr);
			return EINVAL;
		}
	}
	if (addr % alignment) {
		shim_format(why, why_size,
			    "address %p is not a multiple of the msharefs alignment %llu",
			    (void *)addr, (unsigned long long)alignment);
		return EINVAL;
	}
	*fixed = true;
	*map_at = addr;
	return 0;
}

unsigned shim_attachment_limit(uint64_t alignment)
{
	/* The user address space below 47 bits (x86_64, 4-level paging). */
	const uint64_t user_space = 1ULL << 47;
	uint64_t units = alignment ? user_space / alignment : 0;
	uint64_t limit = units / 4 * 3;

	if (limit < 1)
		limit = 1;
	return limit > 65536 ? 65536 : (unsigned)limit;
}
