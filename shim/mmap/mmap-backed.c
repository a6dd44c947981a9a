/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mmap/mmap-backed.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/errtext.h"
#include "core/mmap-plan.h"
#include "core/size.h"
#include "core/textfmt.h"
#include "msharefs/mmap-region.h"
#include "msharefs/region.h"
#include "support/attach-table.h"
#include "support/log.h"
#include "support/mmap-raw.h"
#include "support/mmap-table.h"
#include "support/shim-state.h"
#include "support/uncancellable.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#define MAP_HUGE_MASK 0x3f
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define WHY_MAX 384

/*
 * Serialises the slow paths and changes to the table; held across fork.
 * Calls on ranges without a backed mapping never take it (see
 * mmap_table_may_overlap()).
 */
static pthread_mutex_t mmap_lock = PTHREAD_MUTEX_INITIALIZER;
static bool swept;
static bool said_anon_backed;	/* under the mmap lock */

static const struct shim_config *config(void)
{
	return &shim_state.config;
}

static size_t page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t page_round(size_t len)
{
	return (len + page_size() - 1) & ~(page_size() - 1);
}

/* A candidate that cannot be backed: the plain call, or ENOMEM (strict). */
static void *unbacked(enum shim_reason reason, const char *why, void *addr,
		      size_t len, int prot, int flags, int fd, off_t offset)
{
	if (config()->mode == SHIM_MODE_STRICT) {
		shim_log_once(reason, SHIM_LOG_ERROR,
			      "refusing mmap(%zu bytes, MAP_SHARED) with ENOMEM: %s: %s",
			      len, shim_reason_text(reason), why);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	shim_log_once(reason, reason == SHIM_REASON_MMAP_FOREIGN ?
		      SHIM_LOG_ERROR : SHIM_LOG_WARN,
		      "shared mappings pass through unbacked: %s: %s",
		      shim_reason_text(reason), why);
	return raw_mmap(addr, len, prot, flags, fd, offset);
}

/* What /proc/self/fd and fstat say about the fd; false if unknowable. */
static bool describe_file(int fd, char *path, size_t path_size,
			  struct shim_mmap_file *file, struct stat *st)
{
	char link[64];

	shim_format(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, path_size - 1);
	int fl = fcntl(fd, F_GETFL);

	if (n <= 0 || (size_t)n >= path_size - 1 || fl < 0 || fstat(fd, st) != 0)
		return false;
	path[n] = '\0';
	file->path = path;
	file->regular = S_ISREG(st->st_mode);
	file->deleted = st->st_nlink == 0;
	file->file_size = (uint64_t)st->st_size;
	file->access_mode = fl & O_ACCMODE;

	struct statvfs vfs;

	file->noexec = fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC);
	file->page_size = page_size();
	return true;
}

/* Room for one more attachment?  Else why not, for unbacked(). */
static bool address_space_left(const struct msharefs_state *ms, char *why,
			       size_t why_size)
{
	unsigned limit = shim_attachment_limit(ms->alignment);
	unsigned held = mmap_table_count() + attach_table_count();

	if (held < limit)
		return true;
	shim_format(why, why_size,
		    "%u attachments of %llu bytes are held; the rest of the address space stays the program's",
		    held, (unsigned long long)ms->alignment);
	return false;
}

static void first_use_sweep(const struct msharefs_dir *dir)
{
	if (swept)
		return;
	swept = true;
	mmap_region_sweep(dir, geteuid());
}

/*
 * The mount's directory for the operation that holds the mmap lock:
 * opened by the first step of it that works on a name, closed by unlock()
 * (msharefs/mount-dir.h).  NULL with why when it cannot be opened.
 */
static struct msharefs_dir op_dir = { .fd = -1 };

static const struct msharefs_dir *mount_dir(char *why, size_t why_size)
{
	if (op_dir.fd >= 0)
		return &op_dir;
	return msharefs_dir_open(&op_dir, config()->mount, why, why_size) ?
	       &op_dir : NULL;
}

/*
 * The first steps of backing a mapping: room for one more attachment,
 * the mount's directory, and this process's first-use sweep.  NULL with
 * the reason and why if the mapping is to stay unbacked.
 */
static const struct msharefs_dir *backing_dir(const struct msharefs_state *ms,
					      enum shim_reason *reason,
					      char *why, size_t why_size)
{
	const struct msharefs_dir *dir;

	if (!address_space_left(ms, why, why_size)) {
		*reason = SHIM_REASON_ADDRESS_SPACE;
		return NULL;
	}
	dir = mount_dir(why, why_size);
	if (!dir) {
		*reason = SHIM_REASON_NO_MSHAREFS;
		return NULL;
	}
	first_use_sweep(dir);
	return dir;
}

/* Is fd (still) the file with this identity? */
static bool fd_is(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
}

/* Is e->file_fd (still) our descriptor of the mapped file? */
static bool file_fd_ours(const struct shim_mapping *e)
{
	return fd_is(e->file_fd, e->file_dev, e->file_ino) &&
	       (e->file_marker < 0 ||
		lseek(e->file_fd, 0, SEEK_CUR) == e->file_marker);
}

/*
 * Our own descriptor of the program's file fd: opened again through
 * /proc/self/fd (a description of our own; O_NONBLOCK: a lease is not
 * waited for) at a number of at least 100, with a position no other
 * description of ours has, far beyond any data.  Where reopening fails,
 * a dup() without marker.  Lock held (the counter).
 */
static int own_file_descriptor(int fd, int access_mode, off_t *marker)
{
	static off_t next_marker = (off_t)1 << 40;
	char link[64];

	*marker = -1;
	shim_format(link, sizeof(link), "/proc/self/fd/%d", fd);

	int own = open(link, (access_mode == O_RDWR ? O_RDWR : O_RDONLY) |
		       O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (own < 0) {
		own = fcntl(fd, F_DUPFD_CLOEXEC, 100);
		return own >= 0 ? own : fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	own = mmap_region_high_fd(own);
	if (lseek(own, next_marker, SEEK_SET) == next_marker)
		*marker = next_marker++;
	return own;
}

static void note_identity(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (fstat(fd, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

/* The program closed (and maybe reused) one of our descriptors. */
static void say_descriptor_lost(const struct shim_mapping *e)
{
	shim_log_once(SHIM_REASON_MMAP_UNSUPPORTED, SHIM_LOG_WARN,
		      "the program closed the shim's descriptor of region %s: the region is left alone",
		      e->name);
}

/* Attaches region_fd and records it; MAP_FAILED with why on failure. */
static void *attach(struct shim_mapping *entry, int region_fd,
		    uint64_t region_size, char *why, size_t why_size)
{
	void *at = raw_mmap(NULL, region_size, entry->prot, MAP_SHARED,
			    region_fd, 0);

	if (at == MAP_FAILED) {
		shim_format(why, why_size, "attaching %llu bytes: %s",
			    (unsigned long long)region_size, shim_errno_text(errno));
		return MAP_FAILED;
	}
	entry->addr = (uintptr_t)at;
	entry->region_size = region_size;
	if (!mmap_table_add(entry)) {
		raw_munmap(at, region_size);
		shim_format(why, why_size, "%d mappings are backed already",
			    SHIM_MMAP_MAX);
		errno = ENOMEM;
		return MAP_FAILED;
	}
	/* MAP_POPULATE does not populate an attachment; ask for it. */
	if (entry->flags & MAP_POPULATE)
		raw_madvise(at, entry->len, MADV_POPULATE_READ);
	return at;
}

static void *back_file(const struct msharefs_state *ms, void *addr, size_t len,
		       int prot, int flags, int fd, off_t offset)
{
	char path[PATH_MAX], why[WHY_MAX];
	struct shim_mmap_file file;
	struct stat st;

	if (!describe_file(fd, path, sizeof(path), &file, &st) || offset < 0)
		return raw_mmap(addr, len, prot, flags, fd, offset);
	if (!shim_mmap_file_ok(config(), &file, (uint64_t)offset, len, prot,
			       why, sizeof(why))) {
		shim_log(SHIM_LOG_DEBUG, "mmap passes through: %s", why);
		return raw_mmap(addr, len, prot, flags, fd, offset);
	}

	struct shim_file_range range = {
		.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino,
		.offset = (uint64_t)offset, .len = page_round(len),
		.euid = geteuid(), .prot = prot,
	};
	struct shim_mapping entry = {
		.len = page_round(len), .file_backed = true, .offset = range.offset,
		.prot = prot, .flags = flags, .region_fd = -1, .file_fd = -1,
	};
	uint64_t region_size;
	int region_fd;
	const struct msharefs_dir *dir;
	enum shim_reason reason;

	dir = backing_dir(ms, &reason, why, sizeof(why));
	if (!dir)
		return unbacked(reason, why, addr, len, prot, flags, fd, offset);
	shim_file_region_name(entry.name, sizeof(entry.name), &range);
	switch (mmap_region_file(dir, ms->alignment, &range, fd,
				 &region_fd, &region_size, why, sizeof(why))) {
	case MMAP_REGION_OK:
		break;
	case MMAP_REGION_FOREIGN:
		return unbacked(SHIM_REASON_MMAP_FOREIGN, why, addr, len, prot,
				flags, fd, offset);
	case MMAP_REGION_FAILED:
		return unbacked(SHIM_REASON_MMAP_SETUP_FAILED, why, addr, len,
				prot, flags, fd, offset);
	}
	/* Our own descriptor: the program may close its fd after mmap(). */
	entry.file_fd = own_file_descriptor(fd, file.access_mode,
					    &entry.file_marker);
	entry.region_fd = region_fd;
	/* Same region or file, same number: only dev/ino would not tell. */
	mmap_table_forget_fd(region_fd);
	if (entry.file_fd >= 0)
		mmap_table_forget_fd(entry.file_fd);
	note_identity(region_fd, &entry.region_dev, &entry.region_ino);
	if (entry.file_fd >= 0)
		note_identity(entry.file_fd, &entry.file_dev, &entry.file_ino);

	void *at = entry.file_fd < 0 ? MAP_FAILED :
		   attach(&entry, region_fd, region_size, why, sizeof(why));

	if (at == MAP_FAILED) {
		/* Before the release's flock() sets EWOULDBLOCK. */
		int saved = errno;

		if (entry.file_fd >= 0)
			close(entry.file_fd);
		else
			shim_format(why, sizeof(why), "dup: %s", shim_errno_text(saved));
		mmap_region_release(dir, entry.name, region_fd, true);
		return unbacked(saved == ENOMEM ? SHIM_REASON_MMAP_TABLE_FULL :
				SHIM_REASON_MMAP_SETUP_FAILED, why, addr, len,
				prot, flags, fd, offset);
	}
	shim_log(SHIM_LOG_INFO, "mmap of %s (offset %lld, %zu bytes) backed by %s/%s at %p",
		 path, (long long)offset, len, config()->mount, entry.name, at);
	return at;
}

static void *back_anon(const struct msharefs_state *ms, void *addr, size_t len,
		       int prot, int flags, int fd, off_t offset)
{
	char why[WHY_MAX];
	int extra = flags & (MAP_NORESERVE | MAP_HUGETLB |
			     (MAP_HUGE_MASK << MAP_HUGE_SHIFT));
	size_t unit = page_size();

	if (flags & MAP_HUGETLB) {
		int shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

		/* Without size bits: x86_64's default huge page size. */
		unit = shift ? (size_t)1 << shift : (size_t)2 << 20;
	}

	struct shim_mapping entry = {
		.len = (len + unit - 1) & ~(unit - 1), .file_backed = false,
		.prot = prot, .flags = flags, .region_fd = -1, .file_fd = -1,
	};
	uint64_t region_size;
	int region_fd;
	const struct msharefs_dir *dir;
	enum shim_reason reason;

	dir = backing_dir(ms, &reason, why, sizeof(why));
	if (!dir)
		return unbacked(reason, why, addr, len, prot, flags, fd, offset);
	if (mmap_region_anon(dir, ms->alignment, entry.len, prot,
			     extra, &region_fd, &region_size, why,
			     sizeof(why)) != MMAP_REGION_OK)
		return unbacked(SHIM_REASON_MMAP_SETUP_FAILED, why, addr, len,
				prot, flags, fd, offset);

	void *at = attach(&entry, region_fd, region_size, why, sizeof(why));
	int saved = errno;

	close(region_fd);
	if (at == MAP_FAILED)
		return unbacked(saved == ENOMEM ? SHIM_REASON_MMAP_TABLE_FULL :
				SHIM_REASON_MMAP_SETUP_FAILED, why, addr, len,
				prot, flags, fd, offset);
	/* The first says so at the default level; the rest at info. */
	if (!said_anon_backed) {
		said_anon_backed = true;
		shim_log_notice("anonymous shared memory of %zu bytes is backed by an msharefs region: this process and its fork children share its page tables",
				len);
	}
	shim_log(SHIM_LOG_INFO, "anonymous shared mmap of %zu bytes backed by an msharefs region at %p",
		 len, at);
	return at;
}

/*
 * The mmap lock, held with cancellation off (uncancellable.h).  A signal
 * handler that interrupts its thread inside the locked path and then needs
 * the lock itself would wait for ever: it is refused instead (EDEADLK),
 * which only a handler acting on a backed mapping can meet; everything
 * else takes the lock-free path.
 */
static __thread bool holding_lock __attribute__((tls_model("initial-exec")));
static __thread int cancel_state_before_lock
	__attribute__((tls_model("initial-exec")));

static void take_lock(void)
{
	cancel_state_before_lock = shim_lock_uncancellable(&mmap_lock);
	holding_lock = true;
}

static bool lock(void)
{
	if (holding_lock) {
		shim_log_once(SHIM_REASON_MMAP_UNSUPPORTED, SHIM_LOG_WARN,
			      "a signal handler called a memory-mapping function on a backed mapping while its thread was inside the shim: it fails with EDEADLK");
		errno = EDEADLK;
		return false;
	}
	take_lock();
	return true;
}

static void unlock(void)
{
	msharefs_dir_close(&op_dir);	/* keeps errno */
	holding_lock = false;
	shim_unlock_uncancellable(&mmap_lock, cancel_state_before_lock);
}

/* An address range [lo, hi). */
struct shim_range {
	uintptr_t lo, hi;
};

/* Closes our hold on a file region whose attachment is gone. */
static void release(const struct shim_mapping *e)
{
	if (!e->file_backed)
		return;
	if (file_fd_ours(e))
		close(e->file_fd);
	if (fd_is(e->region_fd, e->region_dev, e->region_ino)) {
		char why[WHY_MAX];

		/* Without the mount: only closed, the name stays for a sweep. */
		mmap_region_release(e->lock_inherited ? NULL :
				    mount_dir(why, sizeof(why)),
				    e->name, e->region_fd, !e->lock_inherited);
	} else
		say_descriptor_lost(e);
}

/*
 * Whether the kernel keeps a mapping mlock()ed ("lo" in its VmFlags): a
 * conversion must carry it over.  Read from /proc/self/smaps without
 * stdio; the mmap lock serialises the static buffers.
 */
static bool has_locked_flag(const char *line)
{
	for (const char *p = line + 8; *p; p++)
		if (p[0] == ' ' && p[1] == 'l' && p[2] == 'o' && (!p[3] || p[3] == ' '))
			return true;
	return false;
}

static bool locked_in_smaps(uintptr_t start)
{
	static char chunk[4096], line[512];
	bool in_target = false;
	size_t used = 0;
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				if (used < sizeof(line) - 1)
					line[used++] = chunk[i];
				continue;
			}
			line[used] = '\0';
			used = 0;
			if (strncmp(line, "VmFlags:", 8) == 0) {
				if (in_target) {
					bool locked = has_locked_flag(line);

					close(fd);
					return locked;
				}
			} else if (strchr(line, '-') && line[0] != ' ' &&
				   strchr(line, ':') > strchr(line, '-')) {
				/* A mapping's first line: "start-end perms ..." */
				uintptr_t a = 0;

				for (const char *p = line; *p && *p != '-'; p++)
					a = a * 16 + (uintptr_t)(*p <= '9' ? *p - '0' :
								 (*p | 0x20) - 'a' + 10);
				in_target = a == start;
			}
		}
	}
	close(fd);
	return false;
}

/*
 * Turns a backed file mapping into a plain one at the same address, so
 * that a call the attachment cannot take (partial munmap, mprotect,
 * mremap) can be applied to it.  The plain mapping replaces the whole
 * attachment in one mmap(MAP_FIXED), so the range is never free for
 * another thread's mmap() to take, and the data stays readable throughout
 * (both views go through the file's page cache).  The part beyond the
 * program's length (the rest of the alignment unit) is unmapped unless
 * *tail is given: then the caller gets that range to unmap itself.
 */
static int convert(int index, struct shim_range *tail)
{
	struct shim_mapping e = *mmap_table_at(index);

	/* Without our descriptor of the file, as for an anonymous one. */
	if (!file_fd_ours(&e)) {
		say_descriptor_lost(&e);
		errno = EINVAL;
		return -1;
	}
	bool locked = locked_in_smaps(e.addr);
	void *at = raw_mmap((void *)e.addr, e.region_size, e.prot,
			    MAP_SHARED | MAP_FIXED, e.file_fd, (off_t)e.offset);

	if (at == (void *)e.addr && e.dontfork)
		raw_madvise(at, e.region_size, MADV_DONTFORK);
	if (at == (void *)e.addr && (locked || e.mlocked))
		raw_mlock(at, e.len);
	if (at != (void *)e.addr) {
		shim_log(SHIM_LOG_ERROR,
			 "cannot remap region %s as a plain mapping: %s",
			 e.name, shim_errno_text(errno));
		return -1;
	}
	shim_log(SHIM_LOG_DEBUG, "region %s replaced by a plain mapping",
		 e.name);
	if (tail) {
		tail->lo = e.addr + e.len;
		tail->hi = e.addr + e.region_size;
	} else if (e.region_size > e.len) {
		raw_munmap((void *)(e.addr + e.len), e.region_size - e.len);
	}
	mmap_table_remove(index);
	release(&e);
	return 0;
}

/* Like the kernel, a length counts in whole pages. */
static bool covers(const struct shim_mapping *e, uintptr_t addr, size_t len)
{
	return addr <= e->addr && addr + page_round(len) >= e->addr + e->len;
}

static void say_unsupported(const char *call)
{
	shim_log_once(SHIM_REASON_MMAP_UNSUPPORTED, SHIM_LOG_WARN,
		      "%s on part of a backed anonymous shared mapping fails: %s",
		      call, shim_reason_text(SHIM_REASON_MMAP_UNSUPPORTED));
}

/* Fails with fail_errno if a call on [addr, addr+len) hits an anonymous one. */
static int check_no_anon(uintptr_t addr, size_t len, const char *call,
			 int fail_errno)
{
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len)) {
		const struct shim_mapping *e = mmap_table_at(i);

		if (!e->file_backed) {
			say_unsupported(call);
			errno = fail_errno;
			return -1;
		}
	}
	return 0;
}

/*
 * Before mprotect() or mremap(), which an attachment cannot take: converts
 * the file-backed mappings in [addr, addr+len); fails with fail_errno if an
 * anonymous one is hit.  Returns 0 or -1.  Lock held.
 */
static int make_plain(uintptr_t addr, size_t len, const char *call,
		      int fail_errno)
{
	if (check_no_anon(addr, len, call, fail_errno) != 0)
		return -1;
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len))
		if (convert(i, NULL) != 0)
			return -1;
	return 0;
}

/*
 * What clearing the way for a call that replaces or removes [addr, end)
 * did, for finishing or undoing it.  Every range in it is ours until we
 * unmap it, so unmapping it never touches another thread's mapping.
 */
struct clearing {
	/* Converted mappings' plain file mapping beyond the program's length. */
	int tail_count;
	struct shim_range tail[SHIM_MMAP_MAX];
	/* Mappings the call covers whole, taken out of the table. */
	int whole_count;
	struct shim_mapping whole[SHIM_MMAP_MAX];
	/*
	 * munmap() only: the attachment whose mapping ends before the range
	 * starts (the call touches the rest of it alone, which the program
	 * never mapped).  It stays.  Only the start of a range can lie in
	 * such a rest; empty: lo == hi.
	 */
	struct shim_range kept;
};

/*
 * A failed step: the conversions made stay (the program's memory reads
 * and behaves the same through a plain mapping of the file), their tails
 * go.  Nothing else was touched.
 */
static void undo_clearing(const struct clearing *c)
{
	for (int i = 0; i < c->tail_count; i++)
		raw_munmap((void *)c->tail[i].lo, c->tail[i].hi - c->tail[i].lo);
}

/*
 * The attachment of a mapping the call covers whole, but which goes on
 * beyond the call's range, is swapped for an inaccessible reservation:
 * MAP_FIXED cannot replace part of an attachment.  At most one attachment
 * goes on beyond a range (the one holding its end), so this is the last
 * step that can fail, and it loses nothing when it does.
 */
static int reserve_instead(const struct shim_mapping *e)
{
	return raw_mmap((void *)e->addr, e->region_size, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			-1, 0) == (void *)e->addr ? 0 : -1;
}

/* Does [addr, end) touch what the program mapped of e, not only the rest? */
static bool touches(const struct shim_mapping *e, uintptr_t addr, uintptr_t end)
{
	return addr < e->addr + e->len && e->addr < end;
}

/*
 * Clears the way for a call that replaces or removes [addr, end): nothing
 * changes until every check has passed, then partly covered file mappings
 * are converted (their tails are left for later), then (with reserve, for
 * a MAP_FIXED mmap() or MREMAP_FIXED) the one attachment reaching beyond
 * end is reserved, and last the mappings covered whole come out of the
 * table.  Without reserve (munmap), a mapping the range touches only
 * past its end is kept as it is.  A failure undoes what it can
 * (undo_clearing()) and returns -1 with errno.  Lock held.
 */
static int clear_the_way(uintptr_t addr, uintptr_t end, const char *call,
			 bool reserve, struct clearing *c)
{
	size_t len = end - addr;

	c->tail_count = 0;
	c->whole_count = 0;
	c->kept.lo = c->kept.hi = 0;
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len)) {
		const struct shim_mapping *e = mmap_table_at(i);

		if (!reserve && !touches(e, addr, end))
			continue;
		/* An attachment cannot be split, nor an anonymous one converted. */
		if (!e->file_backed && !covers(e, addr, len)) {
			say_unsupported(call);
			errno = EINVAL;
			return -1;
		}
	}
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len)) {
		const struct shim_mapping *e = mmap_table_at(i);

		if (covers(e, addr, len))
			continue;
		if (!reserve && !touches(e, addr, end)) {
			c->kept.lo = e->addr;
			c->kept.hi = e->addr + e->region_size;
			continue;
		}
		if (convert(i, &c->tail[c->tail_count]) != 0) {
			undo_clearing(c);
			return -1;
		}
		c->tail_count++;
	}
	/* Left in the range: mappings covered whole, and the kept one. */
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len)) {
		const struct shim_mapping *e = mmap_table_at(i);

		if (reserve && covers(e, addr, len) &&
		    e->addr + e->region_size > end && reserve_instead(e) != 0) {
			undo_clearing(c);
			return -1;
		}
	}
	for (int i = mmap_table_find_overlap(-1, addr, len); i >= 0;
	     i = mmap_table_find_overlap(i, addr, len)) {
		if (!covers(mmap_table_at(i), addr, len))
			continue;
		c->whole[c->whole_count++] = *mmap_table_at(i);
		mmap_table_remove(i);
	}
	return 0;
}

/* Unmaps the part of [lo, hi) outside [addr, end). */
static void unmap_outside(uintptr_t lo, uintptr_t hi, uintptr_t addr,
			  uintptr_t end)
{
	if (lo < addr)
		raw_munmap((void *)lo, (hi < addr ? hi : addr) - lo);
	if (hi > end) {
		uintptr_t from = lo > end ? lo : end;

		raw_munmap((void *)from, hi - from);
	}
}

/*
 * After the call that replaced or removed [addr, end): unmaps what of
 * ours lies outside it and releases the mappings taken out of the table.
 * If the call failed, everything of ours goes, inside the range too: the
 * whole mappings' memory with it, as a failed MAP_FIXED may leave the
 * kernel's own mappings unmapped (their reservation or their attachment,
 * whichever the kernel left, is nobody's now).
 */
static void finish_clearing(const struct clearing *c, uintptr_t addr,
			    uintptr_t end, bool call_failed)
{
	if (call_failed)
		addr = end;	/* an empty range: nothing is the call's */
	for (int i = 0; i < c->tail_count; i++)
		unmap_outside(c->tail[i].lo, c->tail[i].hi, addr, end);
	for (int i = 0; i < c->whole_count; i++) {
		const struct shim_mapping *e = &c->whole[i];

		unmap_outside(e->addr, e->addr + e->region_size, addr, end);
		release(e);
	}
}

/*
 * After the replacing call (mmap(MAP_FIXED) or mremap(MREMAP_FIXED)) over
 * [a, end) was made: finishes the clearing and drops the lock.  Returns
 * AT, with the call's errno.
 */
static void *finish_replacement(void *at, const struct clearing *c,
				uintptr_t a, uintptr_t end)
{
	int saved = errno;

	finish_clearing(c, a, end, at == MAP_FAILED);
	errno = saved;
	unlock();
	return at;
}

static bool range_ok(uintptr_t addr, size_t len, uintptr_t *end)
{
	*end = addr + page_round(len);
	return len != 0 && (addr & (page_size() - 1)) == 0 && *end > addr;
}

static void *mmap_fixed(void *addr, size_t len, int prot, int flags, int fd,
			off_t offset)
{
	static struct clearing clearing;
	uintptr_t a = (uintptr_t)addr, end;

	if (!range_ok(a, len, &end))
		return raw_mmap(addr, len, prot, flags, fd, offset);
	/*
	 * The kernel checks the call (fd, access, offset) before it unmaps
	 * anything; clearing the way does not.  So the same mapping is tried
	 * elsewhere first: a call that would fail leaves ours in place.
	 */
	void *trial = raw_mmap(NULL, len, prot,
			       flags & ~(MAP_FIXED | MAP_POPULATE | MAP_LOCKED),
			       fd, offset);

	if (trial == MAP_FAILED)
		return MAP_FAILED;
	raw_munmap(trial, len);
	if (!lock())
		return MAP_FAILED;
	/* clearing is static: the lock serialises its users. */
	if (clear_the_way(a, end, "mmap(MAP_FIXED)", true, &clearing) != 0) {
		unlock();
		return MAP_FAILED;
	}
	return finish_replacement(raw_mmap(addr, len, prot, flags, fd, offset),
				  &clearing, a, end);
}

void *mmap_backed_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t offset)
{
	/* MAP_FIXED over a backed mapping replaces (part of) it. */
	if ((flags & MAP_FIXED) && mmap_table_may_overlap((uintptr_t)addr, len))
		return mmap_fixed(addr, len, prot, flags, fd, offset);

	enum shim_mmap_verdict verdict = shim_mmap_screen(config(), len, prot,
							  flags);

	if (verdict == SHIM_MMAP_PASS)
		return raw_mmap(addr, len, prot, flags, fd, offset);
	if (verdict == SHIM_MMAP_REFUSE) {
		shim_log_once(SHIM_REASON_CONFIG_MALFORMED, SHIM_LOG_ERROR,
			      "refusing mmap(MAP_SHARED) (ENOMEM): MSHARE_SHIM_MODE=strict and the configuration is malformed: %s",
			      config()->error);
		errno = ENOMEM;
		return MAP_FAILED;
	}

	struct msharefs_state probed;
	const struct msharefs_state *ms = msharefs_probe(config()->mount,
							 &probed);

	if (!ms->available)
		return unbacked(SHIM_REASON_NO_MSHAREFS, ms->why, addr, len, prot,
				flags, fd, offset);

	if (!lock())
		return MAP_FAILED;
	void *at = verdict == SHIM_MMAP_FILE ?
		   back_file(ms, addr, len, prot, flags, fd, offset) :
		   back_anon(ms, addr, len, prot, flags, fd, offset);

	unlock();
	return at;
}

/*
 * One munmap() of the caller's range, stretched over the tails and
 * attachments of ours it touches, so that no address is unmapped twice:
 * between two munmap() calls another thread's mmap() could get the range,
 * and the second would take its mapping away.  The range starts after
 * the kept attachment, if any: to the program, the rest of an attachment
 * beyond its mapping is unmapped already, and unmapping it is no error.
 */
int mmap_backed_munmap(void *addr, size_t len)
{
	static struct clearing clearing;
	uintptr_t a = (uintptr_t)addr, end, hi;

	if (!range_ok(a, len, &end))
		return raw_munmap(addr, len);
	if (!lock())
		return -1;
	/* clearing is static: the lock serialises its users. */
	if (clear_the_way(a, end, "munmap", false, &clearing) != 0) {
		unlock();
		return -1;
	}
	hi = end;
	for (int i = 0; i < clearing.tail_count; i++)
		if (clearing.tail[i].lo <= end && clearing.tail[i].hi > hi)
			hi = clearing.tail[i].hi;
	for (int i = 0; i < clearing.whole_count; i++) {
		const struct shim_mapping *e = &clearing.whole[i];

		if (e->addr + e->region_size > hi)
			hi = e->addr + e->region_size;
	}

	uintptr_t from = clearing.kept.hi > a ? clearing.kept.hi : a;
	int rc = from < hi ? raw_munmap((void *)from, hi - from) : 0;
	int saved = errno;

	finish_clearing(&clearing, a, hi, false);
	unlock();
	errno = saved;
	return rc;
}

/*
 * MREMAP_FIXED replaces what is at [new_addr, +new_size) as mmap(MAP_FIXED)
 * does: backed mappings there are cleared the same way, or their entries
 * would outlive their attachments.
 */
static void *mremap_fixed(void *old, size_t old_size, size_t new_size,
			  int flags, void *new_addr)
{
	static struct clearing clearing;
	uintptr_t a = (uintptr_t)new_addr, end;

	/* The kernel's EINVAL for such a target; nothing of ours is touched. */
	if (!range_ok(a, new_size, &end)) {
		unlock();
		return raw_mremap(old, old_size, new_size, flags, new_addr);
	}
	/* clearing is static: the lock serialises its users. */
	if (clear_the_way(a, end, "mremap(MREMAP_FIXED)", true, &clearing) != 0) {
		unlock();
		return MAP_FAILED;
	}
	return finish_replacement(raw_mremap(old, old_size, new_size, flags,
					     new_addr),
				  &clearing, a, end);
}

/* Does addr lie in the rest of an attachment, past what the program mapped? */
static bool past_a_mapping(uintptr_t addr)
{
	int i = mmap_table_find_overlap(-1, addr, 1);

	return i >= 0 && addr >= mmap_table_at(i)->addr + mmap_table_at(i)->len;
}

void *mmap_backed_mremap(void *old, size_t old_size, size_t new_size,
			 int flags, void *new_addr)
{
	if (!lock())
		return MAP_FAILED;
	/* Unmapped to the program: the kernel's answer, nothing converted. */
	if (past_a_mapping((uintptr_t)old)) {
		unlock();
		errno = shim_mremap_unmapped_errno((uintptr_t)old, old_size,
						   new_size, flags, page_size());
		return MAP_FAILED;
	}
	/* old_size 0 duplicates a shared mapping: it still concerns old. */
	int rc = make_plain((uintptr_t)old, old_size ? old_size : 1, "mremap",
			    ENOMEM);

	if (rc == 0 && (flags & MREMAP_FIXED))
		return mremap_fixed(old, old_size, new_size, flags, new_addr);
	unlock();
	if (rc != 0)
		return MAP_FAILED;
	return raw_mremap(old, old_size, new_size, flags, new_addr);
}

int mmap_backed_mprotect(void *addr, size_t len, int prot)
{
	uintptr_t a = (uintptr_t)addr, end;

	if (!lock())
		return -1;
	/* Unmapped to the program: the kernel's ENOMEM, nothing converted. */
	if (range_ok(a, len, &end) && past_a_mapping(a) &&
	    !(prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))) {
		unlock();
		errno = ENOMEM;
		return -1;
	}
	int i = mmap_table_find_overlap(-1, (uintptr_t)addr, len);

	/* The protection it already has: nothing to do, keep the region. */
	if (i >= 0 && mmap_table_find_overlap(i, (uintptr_t)addr, len) < 0) {
		const struct shim_mapping *e = mmap_table_at(i);

		if (e->addr == (uintptr_t)addr && page_round(len) == e->len &&
		    e->prot == prot) {
			unlock();
			return 0;
		}
	}

	int rc = make_plain((uintptr_t)addr, len, "mprotect", EINVAL);

	unlock();
	if (rc != 0)
		return -1;
	return raw_mprotect(addr, len, prot);
}

/* madvise() on [a, a+len) inside backed mapping e.  Lock held. */
static int advise_backed(const struct shim_mapping *e, uintptr_t a, size_t len,
			 int advice)
{
	enum shim_madvise_rule rule = shim_madvise_rule(advice, covers(e, a, len),
							e->file_backed);

	switch (rule) {
	case SHIM_MADV_SUCCEED:
		return 0;
	case SHIM_MADV_WHOLE:
		return raw_madvise((void *)e->addr, e->region_size, advice);
	case SHIM_MADV_KERNEL:
		return raw_madvise((void *)a, len, advice);
	case SHIM_MADV_PUNCH:
		/* What MADV_REMOVE does to a shared file mapping. */
		if (!(e->prot & PROT_WRITE)) {
			errno = EACCES;
			return -1;
		}
		if (!file_fd_ours(e)) {
			say_descriptor_lost(e);
			errno = EINVAL;
			return -1;
		}
		return fallocate(e->file_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)(e->offset + (a - e->addr)),
				 (off_t)page_round(len));
	case SHIM_MADV_EINVAL:
		break;
	}
	shim_log_once(SHIM_REASON_MMAP_UNSUPPORTED, SHIM_LOG_WARN,
		      "madvise(advice %d) on part of a backed mapping fails with EINVAL",
		      advice);
	errno = EINVAL;
	return -1;
}

/* The entry overlapping [pos, end) that starts lowest; -1 if none. */
static int lowest_overlap(uintptr_t pos, uintptr_t end)
{
	int best = -1;

	for (int i = mmap_table_find_overlap(-1, pos, end - pos); i >= 0;
	     i = mmap_table_find_overlap(i, pos, end - pos))
		if (best < 0 || mmap_table_at(i)->addr < mmap_table_at(best)->addr)
			best = i;
	return best;
}

/*
 * Like the kernel, a range may span several mappings: plain parts go to
 * the kernel, backed parts follow the rules of shim_madvise_rule(), and a
 * hole (also the rest of an attachment beyond what the program mapped)
 * makes the result ENOMEM after everything else was applied.  Another
 * error stops the walk.
 */
int mmap_backed_madvise(void *addr, size_t len, int advice)
{
	uintptr_t a = (uintptr_t)addr, end = a + page_round(len), pos = a;
	bool hole = false;

	if (len == 0 || (a & (page_size() - 1)) || end < a)
		return raw_madvise(addr, len, advice);
	if (!lock())
		return -1;
	for (int i = lowest_overlap(pos, end); pos < end && i >= 0;
	     i = pos < end ? lowest_overlap(pos, end) : -1) {
		const struct shim_mapping e = *mmap_table_at(i);
		uintptr_t lo = e.addr > pos ? e.addr : pos;
		uintptr_t hi = e.addr + e.len < end ? e.addr + e.len : end;

		if (pos < e.addr && raw_madvise((void *)pos, e.addr - pos, advice) != 0) {
			if (errno != ENOMEM)
				goto fail;
			hole = true;
		}
		if (lo < hi && advise_backed(&e, lo, hi - lo, advice) != 0)
			goto fail;
		/* Applied (to the whole mapping only): the child needs to know. */
		if (lo < hi && (advice == MADV_DONTFORK || advice == MADV_DOFORK))
			mmap_table_at(i)->dontfork = advice == MADV_DONTFORK;
		if (end > e.addr + e.len)
			hole = true;	/* the attachment beyond the mapping */
		pos = e.addr + e.region_size < end ? e.addr + e.region_size : end;
	}
	if (pos < end && raw_madvise((void *)pos, end - pos, advice) != 0) {
		if (errno != ENOMEM)
			goto fail;
		hole = true;
	}
	unlock();
	if (hole) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
fail:
	unlock();
	return -1;
}

void mmap_backed_note_mlock(const void *addr, size_t len, bool locked)
{
	uintptr_t a = (uintptr_t)addr;

	if (len == SIZE_MAX)
		a = 0;
	if (!lock())
		return;
	for (int i = mmap_table_find_overlap(-1, a, len); i >= 0;
	     i = mmap_table_find_overlap(i, a, len))
		mmap_table_at(i)->mlocked = locked;
	unlock();
}

void mmap_backed_lock_for_fork(void)
{
	take_lock();
}

void mmap_backed_unlock_in_parent(void)
{
	unlock();
}

/*
 * A MADV_DONTFORK mapping did not come along: its range is free in the
 * child, which may map its own things there.  Forgets it, closing our
 * descriptors (the parent's lock and the region's name stay the parent's).
 */
static void forget_in_child(int index)
{
	struct shim_mapping *e = mmap_table_at(index);

	if (file_fd_ours(e))
		close(e->file_fd);
	if (fd_is(e->region_fd, e->region_dev, e->region_ino))
		close(e->region_fd);
	mmap_table_remove(index);
}

/*
 * flock() locks belong to the open file description, which fork shares:
 * a child letting go must not convert the lock its parent holds.  So the
 * child opens each region again (a new description) and locks that.
 */
void mmap_backed_after_fork_in_child(void)
{
	for (int i = mmap_table_find_overlap(-1, 0, UINTPTR_MAX); i >= 0;
	     i = mmap_table_find_overlap(i, 0, UINTPTR_MAX)) {
		struct shim_mapping *e = mmap_table_at(i);
		char link[64];

		if (e->dontfork) {
			forget_in_child(i);
			continue;
		}
		if (!e->file_backed || e->lock_inherited)
			continue;
		if (!fd_is(e->region_fd, e->region_dev, e->region_ino)) {
			e->lock_inherited = true;	/* leave it alone */
			continue;
		}
		shim_format(link, sizeof(link), "/proc/self/fd/%d", e->region_fd);

		int fd = open(link, O_RDONLY | O_CLOEXEC);

		if (fd >= 0 && flock(fd, LOCK_SH) == 0 &&
		    dup3(fd, e->region_fd, O_CLOEXEC) >= 0) {
			close(fd);
			continue;
		}
		if (fd >= 0)
			close(fd);
		e->lock_inherited = true;
	}
	unlock();
}

void mmap_backed_release_at_exit(void)
{
	if (!mmap_table_in_use() || !lock())
		return;
	for (int i = mmap_table_find_overlap(-1, 0, UINTPTR_MAX); i >= 0;
	     i = mmap_table_find_overlap(i, 0, UINTPTR_MAX)) {
		struct shim_mapping *e = mmap_table_at(i);

		/*
		 * The mapping stays (code running after us may use it); only
		 * the name goes when nobody else holds the region.  The fd
		 * stays open until exit closes it.
		 */
		char why[WHY_MAX];
		const struct msharefs_dir *dir;

		if (e->file_backed && !e->lock_inherited &&
		    fd_is(e->region_fd, e->region_dev, e->region_ino) &&
		    (dir = mount_dir(why, sizeof(why))) != NULL &&
		    mmap_region_unlink_if_unheld(dir, e->name, e->region_fd))
			e->lock_inherited = true;
	}
	unlock();
}
