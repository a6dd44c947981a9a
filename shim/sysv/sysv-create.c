/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmget(): the call that creates a configured segment also makes its
 * region, under a creating name first, then renamed into place.
 */
#include "sysv/sysv.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/size.h"
#include "core/textfmt.h"
#include "msharefs/region.h"
#include "support/uncancellable.h"
#include "sysv/sysv-common.h"

#ifndef SHM_HUGE_SHIFT
#define SHM_HUGE_SHIFT 26
#endif
#ifndef SHM_HUGE_MASK
#define SHM_HUGE_MASK 0x3f
#endif

/*
 * One region build at a time: the creating file is named by our pid.  The
 * build opens, writes and closes files: held with cancellation off
 * (uncancellable.h).
 */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int cancel_state_before_create
	__attribute__((tls_model("initial-exec")));

static void take_create_lock(void)
{
	cancel_state_before_create = shim_lock_uncancellable(&create_lock);
}

static void drop_create_lock(void)
{
	shim_unlock_uncancellable(&create_lock, cancel_state_before_create);
}

void sysv_lock_for_fork(void)
{
	take_create_lock();
}

void sysv_unlock_after_fork(void)
{
	drop_create_lock();
}

/* The page size a segment's memory uses (huge pages for SHM_HUGETLB). */
static uint64_t segment_page_size(int shmflg)
{
	if (!(shmflg & SHM_HUGETLB))
		return (uint64_t)sysconf(_SC_PAGESIZE);

	unsigned shift = ((unsigned)shmflg >> SHM_HUGE_SHIFT) & SHM_HUGE_MASK;

	if (shift)
		return 1ULL << shift;

	/* The default huge page size, as the kernel would pick it. */
	char text[4096];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0) {
		text[n] = '\0';
		const char *p = strstr(text, "Hugepagesize:");

		if (p) {
			uint64_t kib = 0;

			for (p += 13; *p == ' '; p++)
				;
			for (; *p >= '0' && *p <= '9'; p++)
				kib = kib * 10 + (uint64_t)(*p - '0');
			if (kib)
				return kib << 10;
		}
	}
	return 2ULL << 20;
}

/*
 * Builds and publishes the region for a segment this call just created,
 * from the creating file fd.  Returns false with why.
 */
static bool make_region(const struct msharefs_dir *dir, int fd, key_t key,
			int shmid, size_t size, int shmflg, uint64_t alignment,
			char *name, char *why)
{
	uint64_t region_size, map_size;
	int map_flags = 0;

	if (!shim_plan_region_size(size, alignment, &region_size) ||
	    !shim_size_round_up(size, segment_page_size(shmflg), &map_size)) {
		shim_format(why, WHY_MAX, "size %zu cannot be rounded", size);
		return false;
	}
	if (shmflg & SHM_HUGETLB)
		map_flags |= MAP_HUGETLB |
			(shmflg & (SHM_HUGE_MASK << SHM_HUGE_SHIFT));
	if (shmflg & SHM_NORESERVE)
		map_flags |= MAP_NORESERVE;
	if (!region_build(fd, (mode_t)(shmflg & 0666), region_size, map_size,
			  map_flags, why, WHY_MAX))
		return false;
	shim_region_name(name, SHIM_REGION_NAME_MAX, key, shmid, getpid());
	return region_publish(dir, key, name, why, WHY_MAX);
}

/*
 * A region of ours is stale when its segment is gone or the id now names
 * another segment (different key or creator): that happens when a segment
 * is removed without the shim (ipcrm run without LD_PRELOAD) or when its
 * creator died while building it.  Only our own files are touched, and only
 * when the kernel says so; a segment we cannot stat is left alone.
 * context: the operation's msharefs_dir.
 */
static void sweep_if_stale(const char *name, uid_t owner, void *context)
{
	const struct msharefs_dir *dir = context;
	const struct real_sysv *real = &shim_state.real;
	struct shmid_ds ds;
	key_t key;
	int shmid;
	pid_t cpid;

	if (owner != geteuid())
		return;
	if (!shim_region_name_parse(name, &key, &shmid, &cpid)) {
		/* Also creating files left by a dead creator with our uid. */
		if (strncmp(name, ".creating.", 10) == 0) {
			const char *pid_text = strrchr(name, '.') + 1;
			pid_t pid = (pid_t)strtol(pid_text, NULL, 10);

			if (pid > 0 && process_is_gone(pid))
				region_unlink(dir, name);
		}
		return;
	}
	if (real->shmctl(shmid, IPC_STAT, &ds) == 0) {
		if (ds.shm_perm.__key == key && ds.shm_cpid == cpid)
			return;		/* alive, or removed but still attached */
		/* A removed segment that is still attached keeps key 0 until its end. */
		if ((ds.shm_perm.mode & SHM_DEST) && ds.shm_cpid == cpid)
			return;
	} else if (errno != EINVAL && errno != EIDRM) {
		return;
	}
	if (region_unlink(dir, name) == 0)
		shim_log(SHIM_LOG_INFO, "removed stale region %s/%s",
			 config()->mount, name);
}

/* try: do the system call and say why once; strict: ENOMEM and say why. */
static int shmget_unbacked(enum shim_reason reason, const char *why,
			   key_t key, size_t size, int shmflg)
{
	if (strict()) {
		shim_log_once(reason, SHIM_LOG_ERROR,
			      "refusing shmget(key 0x%08x, %zu bytes) with ENOMEM: %s: %s",
			      (unsigned)key, size, shim_reason_text(reason), why);
		errno = ENOMEM;
		return -1;
	}
	shim_log_once(reason, SHIM_LOG_WARN,
		      "SysV shared memory passes through unbacked: %s: %s",
		      shim_reason_text(reason), why);
	return shim_state.real.shmget(key, size, shmflg);
}

/* shmget() of a candidate, msharefs there: the region first, then the segment. */
static int create_backed(const struct msharefs_dir *dir, uint64_t alignment,
			 key_t key, size_t size, int shmflg)
{
	const struct real_sysv *real = &shim_state.real;
	char why[WHY_MAX], name[SHIM_REGION_NAME_MAX];

	take_create_lock();
	/* Made before the segment, so no attacher can see one without the other. */
	int fd = region_creating_open(dir, key, why, sizeof(why));

	if (fd < 0) {
		drop_create_lock();
		return shmget_unbacked(SHIM_REASON_REGION_SETUP_FAILED, why, key,
				       size, shmflg);
	}
	/*
	 * Only the call that creates the segment may make its region.  A
	 * hugetlb segment reserves its huge pages at shmget() and the region
	 * reserves them again; the real segment is never touched, so it is
	 * made without a reservation (no one can observe SHM_NORESERVE).
	 */
	int real_flags = shmflg | IPC_CREAT | IPC_EXCL;
	bool unreserved = (shmflg & SHM_HUGETLB) && !(shmflg & SHM_NORESERVE);

	if (unreserved)
		real_flags |= SHM_NORESERVE;

	int shmid = real->shmget(key, size, real_flags);

	if (shmid < 0) {
		int err = errno;

		close(fd);
		region_creating_discard(dir, key);
		drop_create_lock();
		if (err == EEXIST && !(shmflg & IPC_EXCL))
			return real->shmget(key, size, shmflg);
		errno = err;
		return -1;
	}
	/*
	 * This call creates a region: the moment to clear our old ones, and
	 * before it, as a stale region may hold the memory (huge pages, say)
	 * that the new one needs.
	 */
	region_for_each(dir, sweep_if_stale, (void *)dir);

	bool made = make_region(dir, fd, key, shmid, size, shmflg, alignment,
				name, why);

	close(fd);
	if (!made)
		region_creating_discard(dir, key);
	drop_create_lock();

	if (made) {
		shim_log_notice("segment key 0x%08x id %d (%zu bytes) is backed by msharefs region %s/%s: the processes attaching it share its page tables",
				(unsigned)key, shmid, size, config()->mount, name);
		return shmid;
	}
	if (strict()) {
		real->shmctl(shmid, IPC_RMID, NULL);
		shim_log(SHIM_LOG_ERROR,
			 "refusing shmget(key 0x%08x, %zu bytes) with ENOMEM: %s: %s",
			 (unsigned)key, size,
			 shim_reason_text(SHIM_REASON_REGION_SETUP_FAILED), why);
		errno = ENOMEM;
		return -1;
	}
	shim_log_once(SHIM_REASON_REGION_SETUP_FAILED, SHIM_LOG_WARN,
		      "segment key 0x%08x id %d stays unbacked: %s: %s",
		      (unsigned)key, shmid,
		      shim_reason_text(SHIM_REASON_REGION_SETUP_FAILED), why);
	if (unreserved) {
		/* Unbacked, it will be touched: make it again as asked. */
		real->shmctl(shmid, IPC_RMID, NULL);
		return real->shmget(key, size, shmflg);
	}
	return shmid;
}

int sysv_shmget(key_t key, size_t size, int shmflg)
{
	if (!sysv_uses_regions())
		return sysv_kernel_shmget(key, size, shmflg);

	const struct real_sysv *real = &shim_state.real;
	struct shim_decision d = shim_plan_shmget(config(), shim_state.exe_selected,
						  key, size, shmflg);

	if (d.verdict == SHIM_REFUSE) {
		say_refused("shmget");
		errno = ENOMEM;
		return -1;
	}
	if (d.verdict == SHIM_PASS) {
		if (d.reason == SHIM_REASON_TOO_SMALL)
			shim_log(SHIM_LOG_DEBUG,
				 "shmget(key 0x%08x, %zu bytes): %s", (unsigned)key,
				 size, shim_reason_text(d.reason));
		if (!shim_plan_shmget_creates_unbacked(config(),
						       shim_state.exe_selected,
						       key, shmflg))
			return real->shmget(key, size, shmflg);

		/* A new segment, made without a region: record it as unbacked. */
		struct msharefs_state probed_here;
		uint64_t generation =
			sysv_generation(msharefs_probe(config()->mount,
						       &probed_here));
		int shmid = real->shmget(key, size, shmflg);

		if (shmid >= 0)
			shim_unbacked_insert(&sysv_unbacked, shmid, generation);
		return shmid;
	}

	struct msharefs_state probed;
	const struct msharefs_state *ms = msharefs_probe(config()->mount,
							 &probed);
	struct msharefs_dir dir;

	/* Every name of this call is reached through one descriptor. */
	if (!ms->available ||
	    !msharefs_dir_open(&dir, config()->mount, probed.why,
			       sizeof(probed.why)))
		return shmget_unbacked(SHIM_REASON_NO_MSHAREFS, probed.why, key,
				       size, shmflg);

	int shmid = create_backed(&dir, ms->alignment, key, size, shmflg);

	msharefs_dir_close(&dir);
	return shmid;
}
