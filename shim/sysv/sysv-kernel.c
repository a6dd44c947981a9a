/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SysV segments whose page tables the kernel shares itself: shmat() with
 * SHM_SHARE_MMU (kernel/UAPI.md, "SysV segments: one memory").  The shim
 * only asks for it.  The segment, its memory, ids, rights and counts stay
 * the kernel's: nothing is named, created or swept, a process without the
 * shim attaches the same memory, and where shared tables cannot serve a
 * call (an address, mlockall(MCL_FUTURE), ...) the kernel gives the plain
 * attachment of that memory.
 */
#include "sysv/sysv.h"

#include <fcntl.h>
#include <unistd.h>

#include "msharefs-uapi.h"
#include "sysv/sysv-common.h"

/*
 * Segments this process found unconfigured (key not listed or smaller than
 * MIN_SIZE), so that their next shmat() skips IPC_STAT: unmatched calls
 * must stay as cheap as without the shim.  A stale entry (the id reused by
 * a new segment after 2^16 generations of its slot, or a removed segment
 * whose key now reads IPC_PRIVATE) only attaches the same memory without
 * shared tables; strict mode, which promises a configured segment is never
 * attached unshared, does not use it.  No generation applies: every entry
 * is recorded at the same even one.
 */
static struct shim_unbacked_cache unconfigured;
#define UNCONFIGURED_GENERATION 2

void sysv_kernel_after_fork_child(void)
{
	shim_unbacked_after_fork_child(&unconfigured);
}

void sysv_kernel_forget(int shmid)
{
	shim_unbacked_evict(&unconfigured, shmid);
}

int sysv_kernel_share_mmu(void)
{
	int fd = open(SHM_SHARE_MMU_SYSCTL, O_RDONLY | O_CLOEXEC);
	char value = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, &value, 1);
	close(fd);
	if (n != 1)
		return -1;
	return value == '1';
}

/*
 * A configured segment the kernel will not share tables for: try mode
 * says why once and does the plain call, strict mode refuses it (ENOMEM).
 * Returns true if the call is refused.
 */
static bool refuse_unshared(const char *call, int id_or_key,
			    enum shim_reason reason)
{
	if (strict()) {
		shim_log_once(reason, SHIM_LOG_ERROR,
			      "refusing %s(%d) with ENOMEM: %s", call, id_or_key,
			      shim_reason_text(reason));
		errno = ENOMEM;
		return true;
	}
	shim_log_once(reason, SHIM_LOG_WARN,
		      "SysV shared memory passes through unshared: %s",
		      shim_reason_text(reason));
	return false;
}

static enum shim_reason why_unshared(void)
{
	return shim_state.sysv_path == SHIM_SYSV_PATH_NONE ?
	       SHIM_REASON_NO_SHARE_MMU : SHIM_REASON_KERNEL_SHARING_OFF;
}

static bool kernel_shares_now(void)
{
	return shim_state.sysv_path == SHIM_SYSV_PATH_KERNEL &&
	       sysv_kernel_share_mmu() == 1;
}

int sysv_kernel_shmget(key_t key, size_t size, int shmflg)
{
	struct shim_decision d = shim_plan_shmget(config(),
						  shim_state.exe_selected,
						  key, size, shmflg);

	if (d.verdict == SHIM_REFUSE) {
		say_refused("shmget");
		errno = ENOMEM;
		return -1;
	}
	if (d.verdict == SHIM_CANDIDATE && !kernel_shares_now() &&
	    refuse_unshared("shmget", (int)key, why_unshared()))
		return -1;
	return shim_state.real.shmget(key, size, shmflg);
}

void *sysv_kernel_shmat(int shmid, const void *shmaddr, int shmflg)
{
	const struct real_sysv *real = &shim_state.real;
	struct shim_decision d = shim_plan_lookup(config(),
						  shim_state.exe_selected);
	struct shmid_ds ds;

	if (d.verdict == SHIM_REFUSE) {
		say_refused("shmat");
		errno = ENOMEM;
		return (void *)-1;
	}
	if (d.verdict == SHIM_PASS ||
	    (!strict() && shim_unbacked_valid(&unconfigured, shmid,
					      UNCONFIGURED_GENERATION)))
		return real->shmat(shmid, shmaddr, shmflg);
	/*
	 * A segment we may not stat we may not attach (both need read
	 * rights): try mode lets the kernel say why, strict mode answers
	 * with IPC_STAT's errno, since a shmat() now might succeed unshared
	 * if the rights have just changed.
	 */
	if (real->shmctl(shmid, IPC_STAT, &ds) != 0)
		return strict() ? (void *)-1 : real->shmat(shmid, shmaddr, shmflg);
	if (!shim_plan_share_mmu(config(), ds.shm_perm.__key,
				 (uint64_t)ds.shm_segsz)) {
		shim_unbacked_insert(&unconfigured, shmid,
				     UNCONFIGURED_GENERATION);
		return real->shmat(shmid, shmaddr, shmflg);
	}
	if (!kernel_shares_now()) {
		if (refuse_unshared("shmat", shmid, why_unshared()))
			return (void *)-1;
		return real->shmat(shmid, shmaddr, shmflg);
	}
	return real->shmat(shmid, shmaddr, shmflg | SHM_SHARE_MMU);
}
