/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "msharefs/region.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>		/* renameat2 */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/number.h"
#include "core/textfmt.h"
#include "msharefs-uapi.h"
#include "support/mmap-raw.h"
#include "support/uncancellable.h"

/*
 * A probe that failed is repeated: at the next call after a failure that
 * may pass (EMFILE and the like), else at most once a second (msharefs
 * may get mounted while a program runs).  Success is kept for good.
 */
#define PROBE_RETRY_SECONDS 1

static struct msharefs_state state;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static bool probed;
static bool probe_transient;		/* the last failure may pass */
static struct timespec probe_last;	/* when the last probe failed */

/*
 * The generation page, mapped once per process (a fork child inherits the
 * mapping, exec drops it); NULL if the kernel has no mshare_generation.
 * raw_mmap: the shim's own mmap() must not see this mapping.
 */
static const uint64_t *map_generation(const struct msharefs_dir *dir)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd;

	fd = openat(dir->fd, MSHAREFS_GENERATION_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	p = raw_mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Does /proc/filesystems list msharefs?  (No stdio: no malloc.) */
static bool kernel_has_msharefs(void)
{
	static char text[4096];	/* the probe lock serialises its users */
	int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return true;	/* cannot tell: do not claim otherwise */
	text[n] = '\0';
	return strstr(text, "\tmsharefs\n") != NULL;
}

/* Failures that may be gone at the next call: look again then. */
static bool transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM ||
	       err == EINTR || err == EAGAIN;
}

/* Reads mshare_info and maps mshare_generation, through dir. */
static void probe_files(const struct msharefs_dir *dir)
{
	int fd = openat(dir->fd, MSHAREFS_INFO_NAME, O_RDONLY | O_CLOEXEC);
	char text[32];
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	if (n < 0)
		probe_transient = transient(errno);
	if (n <= 0) {
		shim_format(state.why, sizeof(state.why), "cannot read %s/%s: %s",
			    dir->mount, MSHAREFS_INFO_NAME,
			    n < 0 ? shim_errno_text(errno) : "empty");
		return;
	}
	text[n] = '\0';

	uint64_t align;
	size_t used;
	char why[64];
	long page = sysconf(_SC_PAGESIZE);

	if (!shim_parse_u64_prefix(text, (size_t)n, false, &align, &used,
				   why, sizeof(why)) ||
	    (text[used] != '\n' && text[used] != '\0') ||
	    align < (uint64_t)page || (align & (align - 1))) {
		shim_format(state.why, sizeof(state.why),
			    "%s/%s does not hold a power-of-two alignment",
			    dir->mount, MSHAREFS_INFO_NAME);
		return;
	}
	state.alignment = align;
	state.generation = map_generation(dir);
	__atomic_store_n(&state.available, true, __ATOMIC_RELEASE);
}

static void run_probe(const char *probe_mount)
{
	struct msharefs_dir dir;

	if (!msharefs_dir_open(&dir, probe_mount, state.why,
			       sizeof(state.why))) {
		probe_transient = transient(errno);
		/* Says why msharefs is missing in the words the tools use. */
		if (!kernel_has_msharefs())
			shim_format(state.why, sizeof(state.why),
				    "this kernel does not support msharefs (not in /proc/filesystems)");
		return;
	}
	probe_files(&dir);
	msharefs_dir_close(&dir);
}

static bool retry_due(void)
{
	struct timespec now;

	if (!probed || probe_transient)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - probe_last.tv_sec >= PROBE_RETRY_SECONDS;
}

/* This thread is probing: a signal handler on it must not wait for itself. */
static __thread bool probing __attribute__((tls_model("initial-exec")));
static __thread int cancel_state_before_probe
	__attribute__((tls_model("initial-exec")));

static const struct msharefs_state probe_busy = {
	.why = "a signal handler interrupted its thread's probe of the mount",
};

/* The probe opens and reads files: held with cancellation off. */
static void take_probe_lock(void)
{
	cancel_state_before_probe = shim_lock_uncancellable(&probe_lock);
	probing = true;
}

static void drop_probe_lock(void)
{
	probing = false;
	shim_unlock_uncancellable(&probe_lock, cancel_state_before_probe);
}

const struct msharefs_state *msharefs_probe(const char *mount,
					    struct msharefs_state *result)
{
	/* Once available, state never changes again: no lock needed. */
	if (__atomic_load_n(&state.available, __ATOMIC_ACQUIRE)) {
		result->available = true;
		result->alignment = state.alignment;
		result->generation = state.generation;
		result->why[0] = '\0';
		return result;
	}
	if (probing) {
		*result = probe_busy;	/* the caller passes its call through */
		return result;
	}
	take_probe_lock();
	if (!state.available && retry_due()) {
		probe_transient = false;
		run_probe(mount);
		probed = true;
		clock_gettime(CLOCK_MONOTONIC, &probe_last);
	}
	/* why is rewritten by the next probe: the caller gets a copy. */
	*result = state;
	drop_probe_lock();
	return result;
}

void msharefs_probe_lock_for_fork(void)
{
	take_probe_lock();
}

void msharefs_probe_unlock_after_fork(void)
{
	drop_probe_lock();
}

int region_creating_open(const struct msharefs_dir *dir, key_t key,
			 char *why, size_t why_size)
{
	char name[SHIM_REGION_NAME_MAX];

	shim_creating_name(name, sizeof(name), key, getpid());
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = openat(dir->fd, name, O_RDWR | O_CREAT | O_EXCL |
				O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd >= 0)
			return fd;
		/*
		 * The caller serialises creation within this process, so an
		 * existing file was left by a dead process that had our pid.
		 */
		if (errno != EEXIST || attempt > 0 ||
		    unlinkat(dir->fd, name, 0) != 0)
			break;
	}
	int saved = errno;

	shim_format(why, why_size, "cannot create %s/%s: %s", dir->mount, name,
		    shim_errno_text(saved));
	errno = saved;
	return -1;
}

bool region_build(int fd, mode_t mode, uint64_t region_size, uint64_t map_size,
		  int map_flags_extra, char *why, size_t why_size)
{
	if (fchmod(fd, mode) != 0) {
		shim_format(why, why_size, "fchmod %04o: %s", (unsigned)mode,
			    shim_errno_text(errno));
		return false;
	}
	if (ftruncate(fd, (off_t)region_size) != 0) {
		shim_format(why, why_size, "ftruncate to %llu: %s",
			    (unsigned long long)region_size, shim_errno_text(errno));
		return false;
	}

	struct mshare_create create = {
		.region_offset = 0,
		.size = map_size,
		.offset = 0,
		.prot = PROT_READ | PROT_WRITE | PROT_EXEC,
		.flags = (__u32)(MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS |
				 map_flags_extra),
		.fd = (__u32)-1,
	};

	/* SHM_EXEC attachers need exec in the region too; a policy may forbid it. */
	int rc = ioctl(fd, MSHAREFS_CREATE_MAPPING, &create);

	if (rc != 0 && (errno == EPERM || errno == EACCES)) {
		create.prot = PROT_READ | PROT_WRITE;
		rc = ioctl(fd, MSHAREFS_CREATE_MAPPING, &create);
	}
	if (rc != 0) {
		shim_format(why, why_size,
			    "MSHAREFS_CREATE_MAPPING of %llu bytes: %s",
			    (unsigned long long)map_size, shim_errno_text(errno));
		return false;
	}
	if (!region_seal(fd)) {
		shim_format(why, why_size, "MSHAREFS_SEAL: %s", shim_errno_text(errno));
		return false;
	}
	return true;
}

bool region_seal(int fd)
{
	return ioctl(fd, MSHAREFS_SEAL) == 0 || errno == ENOTTY;
}

bool region_publish(const struct msharefs_dir *dir, key_t key,
		    const char *final_name, char *why, size_t why_size)
{
	char name[SHIM_REGION_NAME_MAX];

	shim_creating_name(name, sizeof(name), key, getpid());
	for (int attempt = 0; attempt < 2; attempt++) {
		if (renameat2(dir->fd, name, dir->fd, final_name,
			      RENAME_NOREPLACE) == 0)
			return true;
		/*
		 * The segment id was just created, so a region under its name
		 * is left over from an older segment with the same id made
		 * by an older process with our pid.
		 */
		if (errno != EEXIST || attempt > 0 ||
		    unlinkat(dir->fd, final_name, 0) != 0)
			break;
	}
	shim_format(why, why_size, "rename %s/%s to %s/%s: %s", dir->mount,
		    name, dir->mount, final_name, shim_errno_text(errno));
	return false;
}

void region_creating_discard(const struct msharefs_dir *dir, key_t key)
{
	char name[SHIM_REGION_NAME_MAX];

	shim_creating_name(name, sizeof(name), key, getpid());
	unlinkat(dir->fd, name, 0);
}

bool region_observe(int fd, struct shim_region_observation *seen)
{
	struct stat st;
	struct statfs fs;

	if (fstat(fd, &st) != 0 || fstatfs(fd, &fs) != 0)
		return false;
	*seen = (struct shim_region_observation) {
		.fs_type = (long)fs.f_type,
		.st_mode = st.st_mode,
		.st_uid = st.st_uid,
		.st_size = (uint64_t)st.st_size,
	};
	return true;
}

enum region_lookup region_open_checked(const struct msharefs_dir *dir,
				       const char *name, bool read_only,
				       const struct shim_region_expectation *expect,
				       int *fd_out, uint64_t *region_size,
				       char *why, size_t why_size)
{
	struct shim_region_observation seen;
	struct stat st;

	/* O_NONBLOCK: a planted FIFO must not hang us before we check it. */
	int fd = openat(dir->fd, name, (read_only ? O_RDONLY : O_RDWR) |
			O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ENOENT)
			return REGION_ABSENT;
		int saved = errno;

		/* Before trusting an open failure, see whose file it is. */
		if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_uid != expect->cuid && st.st_uid != expect->uid) {
			shim_format(why, why_size, "%s/%s is owned by uid %u",
				    dir->mount, name, (unsigned)st.st_uid);
			return REGION_FOREIGN;
		}
		shim_format(why, why_size, "open %s/%s: %s", dir->mount, name,
			    shim_errno_text(saved));
		errno = saved;
		return REGION_ERROR;
	}
	if (!region_observe(fd, &seen)) {
		int saved = errno;

		shim_format(why, why_size, "fstat %s/%s: %s", dir->mount, name,
			    shim_errno_text(saved));
		close(fd);
		errno = saved;
		return REGION_ERROR;
	}

	char detail[192];

	if (!shim_region_check(expect, &seen, detail, sizeof(detail))) {
		shim_format(why, why_size, "%s/%s: %s", dir->mount, name, detail);
		close(fd);
		return REGION_FOREIGN;
	}
	*fd_out = fd;
	*region_size = seen.st_size;
	return REGION_FOUND;
}

bool region_creating_exists(const struct msharefs_dir *dir, key_t key,
			    pid_t creator, uid_t creator_uid)
{
	char name[SHIM_REGION_NAME_MAX];
	struct stat st;

	shim_creating_name(name, sizeof(name), key, creator);
	return fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_uid == creator_uid;
}

int region_unlink(const struct msharefs_dir *dir, const char *name)
{
	return unlinkat(dir->fd, name, 0) == 0 ? 0 : errno;
}

int region_set_owner_mode(const struct msharefs_dir *dir, const char *name,
			  uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	/* chown only when it changes: unprivileged owners cannot chown at all. */
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    fchownat(dir->fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	if ((st.st_mode & 07777) != mode && fchmodat(dir->fd, name, mode, 0) != 0)
		return errno;
	return 0;
}

/* The kernel's getdents64 record; glibc only declares it in <dirent.h>'s dirent64. */
struct linux_dirent64_record {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int region_for_each(const struct msharefs_dir *dir,
		    void (*visit)(const char *name, uid_t owner, void *context),
		    void *context)
{
	/* The root itself, readable: the O_PATH descriptor cannot list. */
	int dirfd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[4096] __attribute__((aligned(8)));

	if (dirfd < 0)
		return errno;
	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));

		if (n <= 0) {
			int err = n < 0 ? errno : 0;

			close(dirfd);
			return err;
		}
		for (long off = 0; off < n;) {
			struct linux_dirent64_record *d = (void *)(buf + off);
			struct stat st;

			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				visit(d->d_name, st.st_uid, context);
		}
	}
}
