/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmctl(): the kernel answers everything; after IPC_RMID and IPC_SET the
 * region follows the segment.
 */
#include "sysv/sysv.h"

#include <stdint.h>
#include <string.h>

#include "core/errtext.h"
#include "msharefs/region.h"
#include "sysv/sysv-common.h"

/* After IPC_RMID: the region goes with the segment's name. */
static void forget_region(const struct msharefs_dir *dir, int shmid,
			  const struct shmid_ds *before)
{
	char name[SHIM_REGION_NAME_MAX];

	shim_region_name(name, sizeof(name), before->shm_perm.__key, shmid,
			 before->shm_cpid);

	int err = region_unlink(dir, name);

	if (err && err != ENOENT)
		shim_log(SHIM_LOG_WARN,
			 "segment %d removed, but its region %s/%s stays: unlink: %s",
			 shmid, config()->mount, name, shim_errno_text(err));
	else if (!err)
		shim_log(SHIM_LOG_INFO, "segment %d removed with its region %s/%s",
			 shmid, config()->mount, name);
}

/*
 * After IPC_SET: the region follows the segment's owner and mode.  A
 * segment found without one is recorded as unbacked at generation, which
 * the caller loaded before the IPC_SET.
 */
static void follow_ipc_set(const struct msharefs_dir *dir, int shmid,
			   uint64_t generation)
{
	const struct real_sysv *real = &shim_state.real;
	struct shmid_ds after;
	char name[SHIM_REGION_NAME_MAX];

	if (real->shmctl(shmid, IPC_STAT, &after) != 0)
		return;
	shim_region_name(name, sizeof(name), after.shm_perm.__key, shmid,
			 after.shm_cpid);

	int err = region_set_owner_mode(dir, name,
					after.shm_perm.uid, after.shm_perm.gid,
					after.shm_perm.mode & 0666);

	if (err == ENOENT)
		shim_unbacked_insert(&sysv_unbacked, shmid, generation);
	else if (err)
		shim_log(SHIM_LOG_WARN,
			 "IPC_SET on segment %d not applied to region %s/%s: %s",
			 shmid, config()->mount, name, shim_errno_text(err));
}

/* IPC_RMID of a segment that may have a region. */
static int remove_backed(const struct msharefs_dir *dir, int shmid,
			 struct shmid_ds *buf)
{
	const struct real_sysv *real = &shim_state.real;
	struct shmid_ds before;
	bool known = real->shmctl(shmid, IPC_STAT, &before) == 0 &&
		     !(before.shm_perm.mode & SHM_DEST);
	int rc = real->shmctl(shmid, IPC_RMID, buf);

	if (rc == 0) {
		int saved = errno;

		shim_unbacked_evict(&sysv_unbacked, shmid);
		if (known)
			forget_region(dir, shmid, &before);
		errno = saved;
	}
	return rc;
}

/* IPC_SET of a segment that may have a region. */
static int set_backed(const struct msharefs_dir *dir, int shmid,
		      struct shmid_ds *buf, uint64_t generation)
{
	int rc = shim_state.real.shmctl(shmid, IPC_SET, buf);

	if (rc == 0) {
		int saved = errno;

		follow_ipc_set(dir, shmid, generation);
		errno = saved;
	}
	return rc;
}

int sysv_shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	const struct real_sysv *real = &shim_state.real;

	/* Everything is the kernel's when the kernel shares the tables. */
	if (!sysv_uses_regions()) {
		int rc = real->shmctl(shmid, cmd, buf);

		if (rc == 0 && cmd == IPC_RMID)
			sysv_kernel_forget(shmid);
		return rc;
	}

	struct shim_decision d = shim_plan_lookup(config(), shim_state.exe_selected);

	/* Everything but removal and ownership changes is the kernel's alone. */
	if (d.verdict != SHIM_CANDIDATE || (cmd != IPC_RMID && cmd != IPC_SET))
		return real->shmctl(shmid, cmd, buf);

	struct msharefs_state probed;
	const struct msharefs_state *ms = msharefs_probe(config()->mount,
							 &probed);

	if (!ms->available)
		return real->shmctl(shmid, cmd, buf);

	uint64_t generation = sysv_generation(ms);

	/* Known to have no region: nothing to unlink or chown. */
	if (shim_unbacked_valid(&sysv_unbacked, shmid, generation)) {
		shim_log(SHIM_LOG_DEBUG,
			 "shmctl(%d, %s): known unbacked at generation %llu",
			 shmid, cmd == IPC_RMID ? "IPC_RMID" : "IPC_SET",
			 (unsigned long long)generation);

		int rc = real->shmctl(shmid, cmd, buf);

		/* The id may come back as another segment: forget it. */
		if (rc == 0 && cmd == IPC_RMID)
			shim_unbacked_evict(&sysv_unbacked, shmid);
		return rc;
	}

	struct msharefs_dir dir;

	/* The region's name is reached through one descriptor of the mount. */
	if (!msharefs_dir_open(&dir, config()->mount, probed.why,
			       sizeof(probed.why)))
		return real->shmctl(shmid, cmd, buf);

	int rc = cmd == IPC_SET ? set_backed(&dir, shmid, buf, generation) :
		 remove_backed(&dir, shmid, buf);

	msharefs_dir_close(&dir);
	return rc;
}
