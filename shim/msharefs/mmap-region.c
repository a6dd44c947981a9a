/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "msharefs/mmap-region.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/size.h"
#include "core/textfmt.h"
#include "msharefs-uapi.h"
#include "msharefs/region.h"

/* Temporary names must differ between threads and calls of one process. */
static unsigned temp_sequence;

int mmap_region_high_fd(int fd)
{
	/*
	 * Programs (and shells) expect the low numbers to be theirs to dup2
	 * over; a held region must not be closed behind our back.
	 */
	int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);

	if (high < 0)
		return fd;
	close(fd);
	return high;
}

/* Does name in dir still name the file open as fd? */
static bool still_named(const struct msharefs_dir *dir, const char *name,
			int fd)
{
	struct stat by_name, by_fd;

	return fstatat(dir->fd, name, &by_name, 0) == 0 &&
	       fstat(fd, &by_fd) == 0 && by_name.st_ino == by_fd.st_ino &&
	       by_name.st_dev == by_fd.st_dev;
}

static bool check_region(int fd, uint64_t region_size,
			 const struct msharefs_dir *dir, const char *name,
			 char *why, size_t why_size)
{
	struct shim_region_observation seen;
	char detail[128];

	if (!region_observe(fd, &seen)) {
		shim_format(why, why_size, "fstat %s/%s: %s", dir->mount, name,
			    shim_errno_text(errno));
		return false;
	}
	if (shim_mmap_region_check(&seen, geteuid(), region_size, detail,
				   sizeof(detail)))
		return true;
	shim_format(why, why_size, "%s/%s: %s", dir->mount, name, detail);
	return false;
}

/* Opens, checks and share-locks an existing region; -1 with errno else. */
static int open_existing(const struct msharefs_dir *dir, const char *name,
			 uint64_t region_size, bool *foreign,
			 char *why, size_t why_size)
{
	/* O_NONBLOCK: a planted FIFO must not hang us before we check it. */
	int fd = openat(dir->fd, name,
			O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		int saved = errno;

		if (saved != ENOENT) {
			struct stat st;

			/* Someone else's file under our name: planted. */
			*foreign = fstatat(dir->fd, name, &st,
					   AT_SYMLINK_NOFOLLOW) == 0 &&
				   st.st_uid != geteuid();
			if (*foreign)
				shim_format(why, why_size, "%s/%s: owned by uid %u, not %u",
					    dir->mount, name, (unsigned)st.st_uid,
					    (unsigned)geteuid());
			else
				shim_format(why, why_size, "open %s/%s: %s",
					    dir->mount, name,
					    shim_errno_text(saved));
		}
		errno = saved;
		return -1;
	}
	if (!check_region(fd, region_size, dir, name, why, why_size)) {
		*foreign = true;
		close(fd);
		errno = EACCES;
		return -1;
	}
	flock(fd, LOCK_SH);
	return fd;
}

/*
 * Creates a fresh region file under a temporary name of ours (the name goes
 * to TEMP, SHIM_MMAP_NAME_MAX bytes). Returns the fd, or -1 with WHY filled.
 */
static int create_temp_region(const struct msharefs_dir *dir, char *temp,
			      char *why, size_t why_size)
{
	shim_mmap_temp_name(temp, SHIM_MMAP_NAME_MAX, getpid(),
			    __atomic_add_fetch(&temp_sequence, 1, __ATOMIC_RELAXED));

	int fd = openat(dir->fd, temp,
			O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		shim_format(why, why_size, "create %s/%s: %s", dir->mount, temp,
			    shim_errno_text(errno));
	return fd;
}

/*
 * Builds the region under a temporary name and renames it into place.
 * Returns the fd (share-locked), or -1: errno EEXIST when another process
 * published it first.
 */
static int build_file_region(const struct msharefs_dir *dir, const char *name,
			     const struct shim_file_range *range,
			     int file_fd, uint64_t region_size,
			     char *why, size_t why_size)
{
	char temp[SHIM_MMAP_NAME_MAX];
	int fd = create_temp_region(dir, temp, why, why_size);

	if (fd < 0)
		return -1;
	/* Held before the name exists, so no sweep can take it from us. */
	flock(fd, LOCK_SH);

	struct mshare_create create = {
		.region_offset = 0,
		.size = range->len,
		.offset = range->offset,
		.prot = (__u32)range->prot,
		.flags = (__u32)(MAP_SHARED | MAP_FIXED),
		.fd = (__u32)file_fd,
	};
	const char *step = "fchmod 0600";

	/* The umask must not loosen or tighten what attachers check. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	step = "ftruncate";
	if (ftruncate(fd, (off_t)region_size) != 0)
		goto fail;
	step = "MSHAREFS_CREATE_MAPPING";
	if (ioctl(fd, MSHAREFS_CREATE_MAPPING, &create) != 0)
		goto fail;
	step = "MSHAREFS_SEAL";
	if (!region_seal(fd))
		goto fail;
	step = "rename";
	if (renameat2(dir->fd, temp, dir->fd, name, RENAME_NOREPLACE) == 0)
		return fd;
fail:;
	int saved = errno;

	shim_format(why, why_size, "%s %s/%s: %s", step, dir->mount, temp,
		    shim_errno_text(saved));
	unlinkat(dir->fd, temp, 0);
	close(fd);
	errno = saved;
	return -1;
}

enum mmap_region_result mmap_region_file(const struct msharefs_dir *dir,
					 uint64_t alignment,
					 const struct shim_file_range *range,
					 int file_fd, int *region_fd,
					 uint64_t *region_size,
					 char *why, size_t why_size)
{
	char name[SHIM_MMAP_NAME_MAX];

	if (!shim_size_round_up(range->len, alignment, region_size)) {
		shim_format(why, why_size, "%llu bytes cannot be aligned",
			    (unsigned long long)range->len);
		return MMAP_REGION_FAILED;
	}
	shim_file_region_name(name, sizeof(name), range);

	/*
	 * A few rounds: the name can vanish between open and lock (its last
	 * user released it) or appear between a failed open and our rename
	 * (another first mapper won).  Each round makes progress.
	 */
	for (int round = 0; round < 8; round++) {
		bool foreign = false;
		int fd = open_existing(dir, name, *region_size, &foreign, why,
				       why_size);

		if (fd >= 0) {
			if (still_named(dir, name, fd)) {
				*region_fd = mmap_region_high_fd(fd);
				return MMAP_REGION_OK;
			}
			close(fd);
			continue;
		}
		if (foreign)
			return MMAP_REGION_FOREIGN;
		if (errno != ENOENT)
			return MMAP_REGION_FAILED;
		fd = build_file_region(dir, name, range, file_fd, *region_size,
				       why, why_size);
		if (fd >= 0) {
			*region_fd = mmap_region_high_fd(fd);
			return MMAP_REGION_OK;
		}
		if (errno != EEXIST)
			return MMAP_REGION_FAILED;
	}
	shim_format(why, why_size, "%s/%s keeps changing under us", dir->mount,
		    name);
	return MMAP_REGION_FAILED;
}

enum mmap_region_result mmap_region_anon(const struct msharefs_dir *dir,
					 uint64_t alignment,
					 size_t len, int prot,
					 int map_flags_extra, int *region_fd,
					 uint64_t *region_size,
					 char *why, size_t why_size)
{
	char temp[SHIM_MMAP_NAME_MAX];

	if (!shim_size_round_up(len, alignment, region_size)) {
		shim_format(why, why_size, "%zu bytes cannot be aligned", len);
		return MMAP_REGION_FAILED;
	}

	int fd = create_temp_region(dir, temp, why, why_size);

	if (fd < 0)
		return MMAP_REGION_FAILED;

	struct mshare_create create = {
		.region_offset = 0,
		.size = len,
		.offset = 0,
		.prot = (__u32)prot,
		.flags = (__u32)(MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS |
				 map_flags_extra),
		.fd = (__u32)-1,
	};
	const char *step = "ftruncate";
	bool ok = ftruncate(fd, (off_t)*region_size) == 0;

	if (ok) {
		step = "MSHAREFS_CREATE_MAPPING";
		ok = ioctl(fd, MSHAREFS_CREATE_MAPPING, &create) == 0;
	}
	if (ok) {
		step = "MSHAREFS_SEAL";
		ok = region_seal(fd);
	}
	int saved = errno;

	/* Nameless from here: the attachments alone keep it alive. */
	unlinkat(dir->fd, temp, 0);
	if (!ok) {
		shim_format(why, why_size, "%s %s/%s: %s", step, dir->mount, temp,
			    shim_errno_text(saved));
		close(fd);
		return MMAP_REGION_FAILED;
	}
	*region_fd = fd;
	return MMAP_REGION_OK;
}

void mmap_region_release(const struct msharefs_dir *dir, const char *name,
			 int region_fd, bool probe_others)
{
	/*
	 * A failed conversion drops our shared lock too, which is fine: we
	 * close the fd next anyway.  Of several processes letting go at
	 * once, the last to try gets LOCK_EX and unlinks.
	 */
	if (probe_others && dir && flock(region_fd, LOCK_EX | LOCK_NB) == 0 &&
	    still_named(dir, name, region_fd))
		unlinkat(dir->fd, name, 0);
	close(region_fd);
}

bool mmap_region_unlink_if_unheld(const struct msharefs_dir *dir,
				  const char *name, int region_fd)
{
	if (flock(region_fd, LOCK_EX | LOCK_NB) != 0)
		return false;
	unlinkat(dir->fd, name, 0);
	return true;
}

struct sweep {
	const struct msharefs_dir *dir;
	uid_t euid;
};

static void sweep_one(const char *name, uid_t owner, void *context)
{
	const struct sweep *sweep = context;
	struct shim_file_range range;
	pid_t pid;
	bool is_region = shim_file_region_name_parse(name, &range);
	bool is_temp = !is_region && shim_mmap_temp_name_parse(name, &pid);

	if (owner != sweep->euid || (!is_region && !is_temp))
		return;
	/* A builder that is alive may hold its temporary file unlocked briefly. */
	if (is_temp && !(kill(pid, 0) != 0 && errno == ESRCH))
		return;

	int fd = openat(sweep->dir->fd, name,
			O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 && still_named(sweep->dir, name, fd))
		unlinkat(sweep->dir->fd, name, 0);
	close(fd);
}

void mmap_region_sweep(const struct msharefs_dir *dir, uid_t euid)
{
	struct sweep sweep = { dir, euid };

	region_for_each(dir, sweep_one, &sweep);
}
