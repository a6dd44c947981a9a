/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmat()/shmdt(): a segment with a region is attached through it (plus a
 * real attachment that keeps shm_nattch exact); any other goes to the kernel.
 */
#include "sysv/sysv.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/textfmt.h"
#include "msharefs/region.h"
#include "support/attach-table.h"
#include "support/mmap-raw.h"
#include "support/mmap-table.h"
#include "sysv/sysv-common.h"

struct shim_unbacked_cache sysv_unbacked;

void sysv_after_fork_child(void)
{
	shim_unbacked_after_fork_child(&sysv_unbacked);
	sysv_kernel_after_fork_child();
}

/* How long an attacher waits for a creator that is building the region. */
#define CREATOR_WAIT_STEP_NS 1000000L
#define CREATOR_WAIT_STEPS 10000

static void sleep_one_step(void)
{
	struct timespec ts = { 0, CREATOR_WAIT_STEP_NS };

	nanosleep(&ts, NULL);
}

/*
 * Looks the segment's region up; if its creator is still building it,
 * waits for the rename (or for the creator to give up or die).
 * generation was loaded before the first lookup.
 */
static enum region_lookup find_region(const struct msharefs_dir *dir,
				      const char *name, key_t key, pid_t cpid,
				      bool read_only,
				      const struct shim_region_expectation *expect,
				      const struct msharefs_state *ms,
				      uint64_t generation,
				      int *fd, uint64_t *region_size, char *why)
{
	bool creator_done = false;

	for (int step = 0;; step++) {
		enum region_lookup found = region_open_checked(dir, name,
							       read_only, expect,
							       fd, region_size,
							       why, WHY_MAX);

		if (found != REGION_ABSENT || creator_done)
			return found;
		if (!region_creating_exists(dir, key, cpid, expect->cuid) ||
		    process_is_gone(cpid)) {
			/*
			 * The creating file leaves by its rename to the
			 * region's name, maybe between our two lookups, and
			 * an attacher that missed both would write into the
			 * plain segment while the others use the region: look
			 * once more, unless the generation shows that no name
			 * changed since the first lookup.  Without
			 * mshare_generation that costs one more open() per
			 * unbacked attach.
			 */
			if (ms->generation && sysv_generation(ms) == generation &&
			    !(generation & 1))
				return found;
			creator_done = true;
			continue;
		}
		if (step == CREATOR_WAIT_STEPS) {
			shim_format(why, WHY_MAX,
				    "pid %d still holds the creating file for key 0x%08x",
				    (int)cpid, (unsigned)key);
			errno = ETIMEDOUT;
			return REGION_ERROR;
		}
		sleep_one_step();
	}
}

static void *fail_attach(int err)
{
	errno = err;
	return (void *)-1;
}

/*
 * A region at a fixed address spans a whole alignment unit, far more than
 * the segment.  Reserves what the kernel's shmat() would leave alone (all
 * of it, or with SHM_REMAP all but the segment's own REPLACE bytes) with an
 * inaccessible mapping that replaces nothing, so that the region's
 * MAP_FIXED mapping later replaces only what shmat() may.  Runs before the
 * real attachment, so that a refusal changes no IPC_STAT field.  Returns 0
 * or shmat()'s errno: EINVAL where something is mapped, EPERM below
 * vm.mmap_min_addr, as the kernel answers.
 */
static int reserve_fixed(uintptr_t at, uint64_t size, uint64_t replace)
{
	void *want = (void *)(at + replace), *got;
	int err;

	if (replace >= size)
		return 0;
	got = raw_mmap(want, size - replace, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		       MAP_FIXED_NOREPLACE, -1, 0);
	if (got == want)
		return 0;
	err = errno;
	if (got != MAP_FAILED) {
		/* A kernel older than MAP_FIXED_NOREPLACE took it as a hint */
		raw_munmap(got, size - replace);
		return EINVAL;
	}
	return err == EEXIST ? EINVAL : err;
}

/* Maps the checked region fd and accounts a real attachment for it. */
static void *attach_backed(int shmid, int fd, uint64_t region_size,
			   uint64_t alignment, bool fixed, uintptr_t map_at,
			   uint64_t segsz, int shmflg, const char *name)
{
	uint64_t replace = 0;
	const struct real_sysv *real = &shim_state.real;
	int prot = PROT_READ;
	int flags = MAP_SHARED;

	if (!(shmflg & SHM_RDONLY))
		prot |= PROT_WRITE;
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;
	if (fixed)
		flags |= MAP_FIXED;
	if (fixed && (shmflg & SHM_REMAP))
		replace = (segsz + (uint64_t)SHMLBA - 1) & ~((uint64_t)SHMLBA - 1);

	/* Never fall back to the plain segment here: data would split. */
	if (mmap_table_count() + attach_table_count() >=
	    shim_attachment_limit(alignment)) {
		shim_log_once(SHIM_REASON_ADDRESS_SPACE, SHIM_LOG_ERROR,
			      "shmat(%d) fails with ENOMEM: %s (%u attachments)",
			      shmid, shim_reason_text(SHIM_REASON_ADDRESS_SPACE),
			      shim_attachment_limit(alignment));
		return fail_attach(ENOMEM);
	}
	/*
	 * SHM_REMAP again at one of our own attachments: the rest of the
	 * unit is that attachment's region, which the new one replaces.
	 */
	if (fixed && (shmflg & SHM_REMAP) && replace < region_size &&
	    attach_table_covers(map_at + replace, region_size - replace))
		replace = region_size;
	if (fixed) {
		int err = reserve_fixed(map_at, region_size, replace);

		if (err) {
			shim_log_once(SHIM_REASON_ADDRESS_OCCUPIED, SHIM_LOG_ERROR,
				      "shmat(%d) at %p fails with %s: the region's %llu bytes there are not free beyond the %llu that shmat may replace",
				      shmid, (void *)map_at, shim_errno_text(err),
				      (unsigned long long)region_size,
				      (unsigned long long)replace);
			return fail_attach(err);
		}
	}
	/* The real attachment makes shm_nattch, shm_atime and shm_lpid exact. */
	void *real_addr = real->shmat(shmid, NULL, shmflg & (SHM_RDONLY | SHM_EXEC));

	if (real_addr == (void *)-1) {
		int err = errno;

		if (fixed && replace < region_size)
			raw_munmap((void *)(map_at + replace),
				   region_size - replace);
		return fail_attach(err);
	}

	struct shim_attachment replaced;

	void *addr = raw_mmap((void *)map_at, region_size, prot, flags, fd, 0);

	if (addr == MAP_FAILED) {
		int err = errno;

		if (fixed && replace < region_size)
			raw_munmap((void *)(map_at + replace),
				   region_size - replace);
		real->shmdt(real_addr);
		shim_log_once(SHIM_REASON_REGION_ATTACH_FAILED, SHIM_LOG_ERROR,
			      "shmat(%d) of region %s failed: mmap: %s",
			      shmid, name, shim_errno_text(err));
		/* An occupied fixed address is EINVAL for shmat, as in the kernel. */
		return fail_attach(err == EEXIST ? EINVAL : ENOMEM);
	}

	/* SHM_REMAP over our own attachment: it is gone now that we mapped over it. */
	while (fixed && (shmflg & SHM_REMAP) &&
	       attach_table_take_overlapping(map_at, region_size, &replaced))
		real->shmdt(replaced.real_addr);

	struct shim_attachment entry = {
		.region_addr = addr,
		.region_size = region_size,
		.real_addr = real_addr,
		.shmid = shmid,
	};

	if (!attach_table_add(&entry)) {
		raw_munmap(addr, region_size);
		real->shmdt(real_addr);
		shim_log_once(SHIM_REASON_TABLE_FULL, SHIM_LOG_ERROR,
			      "shmat(%d) fails with ENOMEM: %s (%d backed attachments)",
			      shmid, shim_reason_text(SHIM_REASON_TABLE_FULL),
			      SHIM_ATTACH_MAX);
		return fail_attach(ENOMEM);
	}
	shim_log(SHIM_LOG_INFO, "attached segment id %d through region %s/%s at %p",
		 shmid, config()->mount, name, addr);
	return addr;
}

/* A segment without a region: the kernel's, unless strict mode objects. */
static void *attach_unbacked(int shmid, const void *shmaddr, int shmflg,
			     const struct shmid_ds *ds, enum shim_reason why_kind,
			     const char *why)
{
	struct shim_decision d = shim_plan_unbacked_attach(config(),
							   ds->shm_perm.__key,
							   ds->shm_segsz);

	if (d.verdict == SHIM_REFUSE) {
		shim_log_once(why_kind, SHIM_LOG_ERROR,
			      "refusing shmat(%d) of segment key 0x%08x with ENOMEM: %s: %s",
			      shmid, (unsigned)ds->shm_perm.__key,
			      shim_reason_text(why_kind), why);
		return fail_attach(ENOMEM);
	}
	return shim_state.real.shmat(shmid, shmaddr, shmflg);
}

void *sysv_shmat(int shmid, const void *shmaddr, int shmflg)
{
	if (!sysv_uses_regions())
		return sysv_kernel_shmat(shmid, shmaddr, shmflg);

	const struct real_sysv *real = &shim_state.real;
	struct shim_decision d = shim_plan_lookup(config(), shim_state.exe_selected);

	if (d.verdict == SHIM_REFUSE) {
		say_refused("shmat");
		return fail_attach(ENOMEM);
	}
	if (d.verdict == SHIM_PASS)
		return real->shmat(shmid, shmaddr, shmflg);

	struct msharefs_state probed;
	const struct msharefs_state *ms = msharefs_probe(config()->mount,
							 &probed);
	/* Loaded before any lookup, so that a miss may be recorded with it. */
	uint64_t generation = sysv_generation(ms);
	struct shmid_ds ds;

	/*
	 * Known to have no region, and no name has appeared since: the
	 * kernel's, unless strict mode needs the key and size to decide.
	 */
	if (!shim_plan_unbacked_attach_may_refuse(config()) &&
	    shim_unbacked_valid(&sysv_unbacked, shmid, generation)) {
		shim_log(SHIM_LOG_DEBUG,
			 "shmat(%d): known unbacked at generation %llu",
			 shmid, (unsigned long long)generation);
		return real->shmat(shmid, shmaddr, shmflg);
	}

	/* A segment we may not stat we may not attach: the kernel says why. */
	if (real->shmctl(shmid, IPC_STAT, &ds) != 0)
		return real->shmat(shmid, shmaddr, shmflg);
	if (!ms->available)
		return attach_unbacked(shmid, shmaddr, shmflg, &ds,
				       SHIM_REASON_NO_MSHAREFS, ms->why);

	/*
	 * IPC_RMID turned the key into IPC_PRIVATE and unlinked the region,
	 * so a removed segment that may have been backed cannot be found
	 * again: refuse rather than hand out memory that may differ.
	 */
	if ((ds.shm_perm.mode & SHM_DEST) &&
	    (uint64_t)ds.shm_segsz >= config()->min_size) {
		shim_log(SHIM_LOG_DEBUG,
			 "shmat(%d): removed segment may have been backed: EIDRM",
			 shmid);
		return fail_attach(EIDRM);
	}

	key_t key = ds.shm_perm.__key;
	char name[SHIM_REGION_NAME_MAX], why[WHY_MAX];
	struct shim_region_expectation expect = {
		.cuid = ds.shm_perm.cuid,
		.uid = ds.shm_perm.uid,
		.segment_mode = ds.shm_perm.mode & 0777,
		.segsz = ds.shm_segsz,
		.alignment = ms->alignment,
	};
	int fd = -1;
	uint64_t region_size = 0;
	struct msharefs_dir dir;

	/* The lookup's names are reached through one descriptor of the mount. */
	if (!msharefs_dir_open(&dir, config()->mount, probed.why,
			       sizeof(probed.why)))
		return attach_unbacked(shmid, shmaddr, shmflg, &ds,
				       SHIM_REASON_NO_MSHAREFS, probed.why);
	shim_region_name(name, sizeof(name), key, shmid, ds.shm_cpid);

	enum region_lookup found = find_region(&dir, name, key, ds.shm_cpid,
					       shmflg & SHM_RDONLY, &expect,
					       ms, generation,
					       &fd, &region_size, why);

	msharefs_dir_close(&dir);

	switch (found) {
	case REGION_ABSENT:
		shim_unbacked_insert(&sysv_unbacked, shmid, generation);
		shim_log(SHIM_LOG_DEBUG,
			 "shmat(%d): no region %s at generation %llu",
			 shmid, name, (unsigned long long)generation);
		return attach_unbacked(shmid, shmaddr, shmflg, &ds,
				       SHIM_REASON_SEGMENT_UNBACKED, name);
	case REGION_FOREIGN:
		/* Never the real memory instead: attachers would split. */
		shim_log(SHIM_LOG_ERROR,
			 "REFUSING shmat(%d) with EACCES: %s: %s",
			 shmid, shim_reason_text(SHIM_REASON_REGION_FOREIGN), why);
		return fail_attach(EACCES);
	case REGION_ERROR: {
		int err = errno;

		shim_log(SHIM_LOG_ERROR, "shmat(%d) fails: %s: %s", shmid,
			 shim_reason_text(err == ETIMEDOUT ?
					  SHIM_REASON_CREATOR_STALLED :
					  SHIM_REASON_REGION_ATTACH_FAILED), why);
		return fail_attach(err == EACCES ? EACCES : ENOMEM);
	}
	case REGION_FOUND:
		break;
	}

	uintptr_t map_at = 0;
	bool fixed = false;
	int plan_err = shim_plan_attach_address((uintptr_t)shmaddr, shmflg,
						SHMLBA, ms->alignment, &fixed,
						&map_at, why, sizeof(why));

	if (plan_err) {
		close(fd);
		shim_log_once(SHIM_REASON_ADDRESS_UNALIGNED, SHIM_LOG_ERROR,
			      "shmat(%d) fails with EINVAL: %s", shmid, why);
		return fail_attach(plan_err);
	}

	void *addr = attach_backed(shmid, fd, region_size, ms->alignment, fixed,
				   map_at, ds.shm_segsz, shmflg, name);
	int err = errno;

	close(fd);
	errno = err;
	return addr;
}

int sysv_shmdt(const void *shmaddr)
{
	const struct real_sysv *real = &shim_state.real;
	struct shim_attachment entry;

	if (attach_table_is_empty() ||
	    !attach_table_take((void *)shmaddr, &entry))
		return real->shmdt(shmaddr);
	raw_munmap(entry.region_addr, entry.region_size);
	return real->shmdt(entry.real_addr);
}
