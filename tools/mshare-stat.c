/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-stat: what msharefs holds right now, who uses it, what the shared
 * page tables save, and (--gc) removal of regions nothing can reach.
 * Reads /proc and the mount; prints through mshare-stat-table.c
 * (libsmartcols) or mshare-stat-prom.c.  See mshare-stat(8).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <libmount.h>

#include "msharefs-uapi.h"
#include "mshare-stat.h"


static const char *prog = "mshare-stat";

/* ---- small helpers ------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(EXIT_ERROR);
	}
	return q;
}

/* Grow *array (of *count elements of size each) by one zeroed element. */
static void *grow(void *array, size_t *count, size_t size)
{
	char *a = xrealloc(array, (*count + 1) * size);

	memset(a + *count * size, 0, size);
	(*count)++;
	return a;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
	char *end;

	if (!*s || !isxdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool parse_dec(const char *s, uint64_t *out)
{
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return parse_u64(s, 10, out);
}

/* "64 MiB" when exact, else one decimal ("1.5 GiB"), or "123 bytes". */
const char *human(uint64_t b, char *buf, size_t size)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = -1;
	double v = (double)b;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRIu64 " bytes", b);
	else if (b % (1ULL << (10 * (u + 1))) == 0)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/*
 * File names are bytes; JSON and the Prometheus format are UTF-8 (and
 * libsmartcols passes bytes on), so there an invalid byte becomes U+FFFD.
 * Frees data.
 */
char *valid_utf8(char *data)
{
	char *out = malloc(strlen(data) * 3 + 1), *o = out;

	if (!out) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	for (const unsigned char *p = (const unsigned char *)data; *p;) {
		size_t n = utf8_len(p);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	free(data);
	return out;
}

/* Reads a small file into buf (NUL-terminated); false with errno. */
static bool read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return false;
	while (len + 1 < size) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return false;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	close(fd);
	return true;
}

bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- what is asked, and the conditions that stop it ------------------------ */

enum run_mode { MODE_TABLE, MODE_GC, MODE_PROMETHEUS };
static enum run_mode run_mode;
static struct output_options output;
static bool mount_given;
static struct mount_state state;

static const char *mount_dir;
static int mount_fd = -1;
static uint64_t alignment;

/*
 * Prints the condition and exits.  Without msharefs there is nothing to
 * collect or export, which is no error for a cron job: --gc says so and
 * exits 0, --prometheus exports mshare_supported/mshare_mounted.
 */
static void fatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void fatal(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	bool absent = code == EXIT_UNSUPPORTED ||
		      (code == EXIT_NOT_MOUNTED && !mount_given);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	state.supported = code != EXIT_UNSUPPORTED;
	state.mounted = false;
	state.dir = mount_dir;
	if (run_mode == MODE_PROMETHEUS && (code == EXIT_UNSUPPORTED || code == EXIT_NOT_MOUNTED)) {
		printf("# %s: %s\n", prog, msg);
		exit(print_prometheus(&state));
	}
	if (run_mode == MODE_GC && absent) {
		if (output.json)
			exit(print_gc(&state, NULL, 0, false, &output));
		printf("note: %s: nothing to collect\n", msg);
		exit(EXIT_OK);
	}
	fprintf(stderr, "%s: %s\n", prog, msg);
	if (output.json)
		print_error_json(state.supported, false, msg, code);
	exit(code);
}

/* ---- the SysV table --------------------------------------------------------- */


static struct segment *segments;
static size_t nsegments;
static bool sysv_readable;

static void load_sysv(void)
{
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];

	if (!f)
		return;
	sysv_readable = true;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		long long key, shmid, cpid, lpid;
		unsigned perms, uid = 0, gid = 0;
		unsigned long long size, nattch, rss = 0;
		int n = sscanf(line, "%lld %lld %o %llu %lld %lld %llu %u %u %*u %*u %*u %*u %*u %llu",
			       &key, &shmid, &perms, &size, &cpid, &lpid, &nattch,
			       &uid, &gid, &rss);

		if (n < 7)
			continue;
		segments = grow(segments, &nsegments, sizeof(*segments));
		struct segment *s = &segments[nsegments - 1];
		s->key = (uint32_t)key;
		s->shmid = shmid;
		s->perms = perms;
		s->size = size;
		s->cpid = cpid;
		s->nattch = nattch;
		s->uid = (uid_t)uid;
		s->gid = (gid_t)gid;
		s->has_rss = n == 10;
		s->rss = rss;
	}
	fclose(f);
}

static const struct segment *find_segment(int64_t shmid)
{
	for (size_t i = 0; i < nsegments; i++)
		if (segments[i].shmid == shmid)
			return &segments[i];
	return NULL;
}

/* ---- regions ---------------------------------------------------------------- */

const char *const kind_names[] = { "sysv", "file", "creating", "tmp", "other", "kernel" };
const char *const sysv_state_names[] = { "live", "gone", "reused", "unknown" };

static const char *const info_fields[] = {
	"mshare_size", "mshare_mapped", "mshare_rss", "mshare_pgtables",
	"mshare_attachments",
};

static struct region *regions;
static size_t nregions;

/* Unlinked regions still mapped: "NAME (deleted)" in maps. */
static struct region *unlinked;
static size_t nunlinked;


/* Splits "a.b.c" at dots into at most max fields (in place). */
static size_t split_dots(char *s, char **fields, size_t max)
{
	size_t n = 0;

	while (n < max) {
		fields[n++] = s;
		s = strchr(s, '.');
		if (!s)
			break;
		*s++ = '\0';
	}
	return s ? max + 1 : n;
}

static void classify(struct region *r)
{
	char copy[NAME_MAX + 1], *f[8];
	size_t n;
	uint64_t v[6] = { 0 };

	r->kind = KIND_OTHER;
	r->owner_pid = -1;
	snprintf(copy, sizeof(copy), "%s", r->name);
	if (!strncmp(r->name, "sysv.", 5)) {
		n = split_dots(copy, f, 4);
		if (n == 4 && strlen(f[1]) == 8 && parse_u64(f[1], 16, &v[0]) &&
		    parse_dec(f[2], &v[1]) && parse_dec(f[3], &v[2]) &&
		    v[1] <= INT32_MAX && v[2] <= INT32_MAX) {
			r->kind = KIND_SYSV;
			r->key = (uint32_t)v[0];
			r->shmid = (int64_t)v[1];
			r->cpid = (int64_t)v[2];
		}
	} else if (!strncmp(r->name, "file.", 5)) {
		/* file.DEV.INO.OFFSET.LENGTH.EUID[.PROT] */
		n = split_dots(copy, f, 7);
		if ((n == 6 || n == 7) && parse_u64(f[1], 16, &v[0]) && parse_dec(f[2], &v[1]) &&
		    parse_u64(f[3], 16, &v[2]) && parse_u64(f[4], 16, &v[3]) &&
		    parse_dec(f[5], &v[4]) && (n == 6 || (parse_dec(f[6], &v[5]) && v[5] <= 7))) {
			r->kind = KIND_FILE;
			r->dev = v[0];
			r->ino = v[1];
			r->offset = v[2];
			r->length = v[3];
			r->euid = v[4];
			r->prot = n == 7 ? (int)v[5] : -1;
		}
	} else if (!strncmp(r->name, ".mmap.", 6)) {
		/* .mmap.PID.SEQ: a file region being built */
		r->kind = KIND_TMP;
		n = split_dots(copy, f, 4);
		if (n == 4 && parse_dec(f[2], &v[0]) && parse_dec(f[3], &v[1]) &&
		    v[0] > 0 && v[0] <= INT32_MAX)
			r->owner_pid = (int64_t)v[0];
	} else if (!strncmp(r->name, ".creating.", 10) ||
		   !strncmp(r->name, ".tmp.", 5)) {
		r->kind = r->name[1] == 'c' ? KIND_CREATING : KIND_TMP;
		const char *dot = strrchr(r->name, '.');
		if (dot && parse_dec(dot + 1, &v[0]) && v[0] > 0 && v[0] <= INT32_MAX)
			r->owner_pid = (int64_t)v[0];
	}
}

/* fdinfo of an open region file: the mshare_* fields it has. */
static void read_fdinfo(struct region *r, int fd)
{
	char path[64], buf[2048];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!read_small(path, buf, sizeof(buf)))
		return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		for (int i = 0; i < 5; i++) {
			size_t len = strlen(info_fields[i]);
			uint64_t v;

			if (!strncmp(line, info_fields[i], len) && line[len] == ':') {
				const char *p = line + len + 1;
				while (*p == ' ' || *p == '\t')
					p++;
				if (parse_dec(p, &v)) {
					r->has[i] = true;
					r->info[i] = v;
				}
			}
		}
	}
}

static void load_regions(void)
{
	int dfd = dup(mount_fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;

	if (!d) {
		if (errno == EACCES || errno == EPERM)
			fatal(EXIT_PERMISSION, "cannot list %s: %s", mount_dir, strerror(errno));
		fatal(EXIT_ERROR, "cannot list %s: %s", mount_dir, strerror(errno));
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "mshare_info") ||
		    !strcmp(de->d_name, "mshare_generation"))
			continue;
		if (fstatat(mount_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		regions = grow(regions, &nregions, sizeof(*regions));
		struct region *r = &regions[nregions - 1];
		snprintf(r->name, sizeof(r->name), "%s", de->d_name);
		r->st = st;
		classify(r);
		int fd = openat(mount_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			r->open_errno = errno;
		} else {
			read_fdinfo(r, fd);
			close(fd);
		}
	}
	closedir(d);
}

static struct region *region_by_ino(uint64_t ino)
{
	for (size_t i = 0; i < nregions; i++)
		if ((uint64_t)regions[i].st.st_ino == ino)
			return &regions[i];
	return NULL;
}

/* ---- processes: attachments and file paths --------------------------------- */

static char self_ipc_ns[64], self_pid_ns[64];
static unsigned procs_unreadable;
static dev_t mount_dev;

static void ns_link(pid_t pid, const char *ns, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void add_attacher(struct region *r, pid_t pid)
{
	for (size_t i = 0; i < r->nattachers; i++) {
		if (r->attachers[i].pid == pid) {
			r->attachers[i].vmas++;
			r->vmas++;
			return;
		}
	}
	r->attachers = grow(r->attachers, &r->nattachers, sizeof(*r->attachers));
	struct attacher *a = &r->attachers[r->nattachers - 1];
	char path[64], ipc[64], pidns[64];

	a->pid = pid;
	a->vmas = 1;
	r->vmas++;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, a->comm, sizeof(a->comm)))
		a->comm[strcspn(a->comm, "\n")] = '\0';
	ns_link(pid, "ipc", ipc, sizeof(ipc));
	ns_link(pid, "pid_for_children", pidns, sizeof(pidns));
	if (!*pidns)
		ns_link(pid, "pid", pidns, sizeof(pidns));
	a->foreign_ns = (*ipc && strcmp(ipc, self_ipc_ns)) ||
			(*pidns && *self_pid_ns && strcmp(pidns, self_pid_ns));
}

/* A file region whose file is (dev, ino): remember the path if unknown. */
static void note_file_path(uint64_t dev, uint64_t ino, const char *path)
{
	for (size_t i = 0; i < nregions; i++) {
		struct region *r = &regions[i];

		if (r->kind == KIND_FILE && !r->path && r->dev == dev && r->ino == ino) {
			r->path = strdup(path);
			if (!r->path)
				fatal(EXIT_ERROR, "out of memory");
		}
	}
}

static bool unresolved_files(void)
{
	for (size_t i = 0; i < nregions; i++)
		if (regions[i].kind == KIND_FILE && !regions[i].path)
			return true;
	return false;
}

/* ---- SysV segments whose page tables the kernel shares --------------------- */

/*
 * A shared attachment spans whole SHM_SHARE_MMU_UNITs; a plain one only the
 * segment, rounded up to its page size (at most 1 GiB).
 */
#define PLAIN_ROUNDING (1ULL << 30)

/* One row per segment, as segments[]; those attached shared are kept. */
static struct region *kernel_rows;
/* The kernel has SHM_SHARE_MMU (its sysctl exists); read once, in main(). */
static bool kernel_sysv;

static void load_kernel_rows(void)
{
	kernel_rows = xrealloc(NULL, nsegments * sizeof(*kernel_rows));
	memset(kernel_rows, 0, nsegments * sizeof(*kernel_rows));
	for (size_t i = 0; i < nsegments; i++) {
		const struct segment *seg = &segments[i];
		struct region *r = &kernel_rows[i];

		r->kind = KIND_KERNEL;
		snprintf(r->name, sizeof(r->name), "sysv-kernel.%08" PRIx32 ".%" PRId64,
			 seg->key, seg->shmid);
		r->key = seg->key;
		r->shmid = seg->shmid;
		r->cpid = seg->cpid;
		r->segment = seg;
		r->sysv_state = SYSV_LIVE;
		r->owner_pid = -1;
		r->prot = -1;
		r->st.st_size = (off_t)seg->size;
		r->st.st_uid = seg->uid;
		r->st.st_gid = seg->gid;
		r->st.st_mode = seg->perms & 0777;	/* not SHM_DEST, SHM_LOCKED */
		r->has[INFO_RSS] = seg->has_rss;
		r->info[INFO_RSS] = seg->rss;
	}
}

/* "/SYSV" and 8 hex digits, maybe " (deleted)": how maps names shmat(). */
static bool sysv_mapping_name(const char *name)
{
	if (strncmp(name, "/SYSV", 5))
		return false;
	for (int i = 5; i < 13; i++)
		if (!isxdigit((unsigned char)name[i]))
			return false;
	return name[13] == '\0' || name[13] == ' ';
}

/* Does smaps give the VMA at start the "st" flag (shared page tables)? */
static bool vmflags_share_tables(pid_t pid, unsigned long long start)
{
	char path[64], line[512], head[32];
	bool in_vma = false, shared = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	snprintf(head, sizeof(head), "%llx-", start);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, head, strlen(head))) {
			in_vma = true;
		} else if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			shared = strstr(line, " st ") || strstr(line, " st\n");
			break;
		}
	}
	fclose(f);
	return shared;
}

static bool shared_attachment(pid_t pid, unsigned long long start,
			      unsigned long long end, uint64_t size)
{
	unsigned long long len = end - start;

	if (start % SHM_SHARE_MMU_UNIT || len % SHM_SHARE_MMU_UNIT)
		return false;
	if (len > (size + PLAIN_ROUNDING - 1) / PLAIN_ROUNDING * PLAIN_ROUNDING)
		return true;
	/* As long as a plain one could be (a segment of whole units): ask. */
	return vmflags_share_tables(pid, start);
}

/* A SysV mapping in maps: its inode number is the shmid. */
static void note_kernel_attachment(pid_t pid, unsigned long long start,
				   unsigned long long end, unsigned long long shmid,
				   int *same_ipc_ns)
{
	struct region *r = NULL;

	for (size_t i = 0; i < nsegments && !r; i++)
		if ((unsigned long long)kernel_rows[i].shmid == shmid)
			r = &kernel_rows[i];
	if (!r)
		return;
	/* Another IPC namespace's ids are not the ones we read. */
	if (*same_ipc_ns < 0) {
		char ipc[64];

		ns_link(pid, "ipc", ipc, sizeof(ipc));
		*same_ipc_ns = !*ipc || !*self_ipc_ns || !strcmp(ipc, self_ipc_ns);
	}
	if (*same_ipc_ns && shared_attachment(pid, start, end, r->segment->size))
		add_attacher(r, pid);
}

/* The segments attached with shared tables become rows of the table. */
static void adopt_kernel_rows(void)
{
	for (size_t i = 0; kernel_rows && i < nsegments; i++) {
		if (!kernel_rows[i].nattachers)
			continue;
		regions = grow(regions, &nregions, sizeof(*regions));
		regions[nregions - 1] = kernel_rows[i];
	}
	free(kernel_rows);
	kernel_rows = NULL;
}

static void scan_maps(pid_t pid)
{
	char path[64], line[PATH_MAX + 256];
	size_t mlen = mount_dir ? strlen(mount_dir) : 0;
	bool want_files = unresolved_files();
	int same_ipc_ns = -1;	/* not looked up yet */
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == EACCES || errno == EPERM)
			procs_unreadable++;
		return;
	}
	/* Reading can fail with EACCES only now (ptrace check at read). */
	int c = fgetc(f);
	if (c == EOF) {
		if (ferror(f) && (errno == EACCES || errno == EPERM))
			procs_unreadable++;
		fclose(f);
		return;
	}
	ungetc(c, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long start, end, ino;
		int off = 0;
		char *name;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu %n", &start, &end, &maj, &min,
			   &ino, &off) < 5 || !off)
			continue;
		name = line + off;
		if (*name != '/')
			continue;
		if (kernel_rows && sysv_mapping_name(name)) {
			note_kernel_attachment(pid, start, end, ino, &same_ipc_ns);
		} else if (mount_dir && makedev(maj, min) == mount_dev &&
			   !strncmp(name, mount_dir, mlen) && name[mlen] == '/') {
			/* The shim maps mshare_generation: not a region. */
			if (!strcmp(name + mlen + 1, "mshare_generation") ||
			    !strcmp(name + mlen + 1, "mshare_info"))
				continue;
			struct region *r = region_by_ino(ino);
			if (!r) {
				/* Unlinked (or renamed away): keep by inode. */
				for (size_t i = 0; i < nunlinked; i++)
					if ((uint64_t)unlinked[i].st.st_ino == ino)
						r = &unlinked[i];
				if (!r) {
					unlinked = grow(unlinked, &nunlinked, sizeof(*unlinked));
					r = &unlinked[nunlinked - 1];
					r->st.st_ino = (ino_t)ino;
					snprintf(r->name, sizeof(r->name), "%s", name + mlen + 1);
					classify(r);
					r->unlinked = true;
				}
			}
			add_attacher(r, pid);
		} else if (want_files) {
			note_file_path(makedev(maj, min), ino, name);
		}
	}
	fclose(f);
}

/* Open files of a process: cheap path resolution for file regions. */
static void scan_fds(pid_t pid)
{
	char path[64], fdpath[NAME_MAX + 80], target[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && unresolved_files()) {
		struct stat st;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, de->d_name);
		if (stat(fdpath, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		n = readlink(fdpath, target, sizeof(target) - 1);
		if (n <= 0 || target[0] != '/')
			continue;
		target[n] = '\0';
		note_file_path(st.st_dev, st.st_ino, target);
	}
	closedir(d);
}

/* /dev/shm holds most shared files: one directory read resolves them. */
static void scan_dev_shm(void)
{
	struct stat dst;
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];

	if (!unresolved_files() || stat("/dev/shm", &dst) < 0)
		return;
	d = opendir("/dev/shm");
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dst.st_dev)
			note_file_path(st.st_dev, st.st_ino, path);
	}
	closedir(d);
}

static void scan_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		fatal(EXIT_ERROR, "cannot read /proc: %s", strerror(errno));
	ns_link(0, "ipc", self_ipc_ns, sizeof(self_ipc_ns));
	ns_link(0, "pid_for_children", self_pid_ns, sizeof(self_pid_ns));
	if (!*self_pid_ns)
		ns_link(0, "pid", self_pid_ns, sizeof(self_pid_ns));
	scan_dev_shm();
	while ((de = readdir(d))) {
		uint64_t pid;

		if (!parse_dec(de->d_name, &pid) || pid > INT32_MAX)
			continue;
		scan_maps((pid_t)pid);
		if (unresolved_files())
			scan_fds((pid_t)pid);
	}
	closedir(d);
}

/* ---- analysis ------------------------------------------------------------------ */

/*
 * Page tables for `bytes` of memory in base pages if it were mapped without
 * sharing: one PTE page per 2 MiB, one PMD page per 1 GiB, one PUD page per
 * 512 GiB (x86_64, 4 KiB pages; the P4D entry is the attachment's own).
 */
static uint64_t pgtables_for(uint64_t bytes)
{
	const uint64_t page = 4096;
	uint64_t pte = (bytes + (2ULL << 20) - 1) >> 21;
	uint64_t pmd = (bytes + (1ULL << 30) - 1) >> 30;
	uint64_t pud = (bytes + (512ULL << 30) - 1) >> 39;

	return (pte + pmd + pud) * page;
}

static void analyse(struct region *r)
{
	if (r->kind == KIND_SYSV) {
		if (!sysv_readable) {
			r->sysv_state = SYSV_UNKNOWN;
		} else {
			r->segment = find_segment(r->shmid);
			if (!r->segment)
				r->sysv_state = SYSV_GONE;
			else if (r->segment->key != r->key || r->segment->cpid != r->cpid)
				r->sysv_state = SYSV_REUSED;
			else
				r->sysv_state = SYSV_LIVE;
		}
	}

	r->attachments_used = r->has[INFO_ATTACHMENTS] ? r->info[INFO_ATTACHMENTS] : r->vmas;
	if (r->kind == KIND_KERNEL) {
		/* No region file to report usage: the segment's own figures. */
		bool rss = r->has[INFO_RSS];

		r->pgtables_used = pgtables_for(rss ? r->info[INFO_RSS] : r->segment->size);
		r->method = rss ? "(attachments - 1) x page tables estimated from the segment's resident memory (/proc/sysvipc/shm)" :
				  "(attachments - 1) x page tables estimated from the segment's size (upper bound)";
	} else if (r->has[INFO_PGTABLES]) {
		r->pgtables_used = r->info[INFO_PGTABLES];
		r->method = "(attachments - 1) x mshare_pgtables";
	} else if (r->has[INFO_RSS]) {
		r->pgtables_used = pgtables_for(r->info[INFO_RSS]);
		r->method = "(attachments - 1) x page tables estimated from mshare_rss";
	} else if (r->has[INFO_MAPPED]) {
		r->pgtables_used = pgtables_for(r->info[INFO_MAPPED]);
		r->method = "(attachments - 1) x page tables estimated from mshare_mapped (upper bound)";
	} else {
		r->method = r->open_errno ? "unknown: the region file could not be opened" :
			    "unknown: the kernel reports no mshare_* fields in fdinfo";
		return;
	}
	r->saving_known = true;
	r->saved = r->attachments_used > 1 ? (r->attachments_used - 1) * r->pgtables_used : 0;
}

/* ---- garbage collection ------------------------------------------------------------ */

static bool attached_from_elsewhere(const struct region *r)
{
	for (size_t i = 0; i < r->nattachers; i++)
		if (r->attachers[i].foreign_ns)
			return true;
	return false;
}

/*
 * Decides whether a region is unreachable; fills why either way.  For
 * file regions, on true, *lock_fd holds an exclusive flock to keep while
 * unlinking.
 */
static bool unreachable(const struct region *r, char *why, size_t size, int *lock_fd)
{
	*lock_fd = -1;
	switch (r->kind) {
	case KIND_SYSV:
		if (r->sysv_state == SYSV_UNKNOWN) {
			snprintf(why, size, "/proc/sysvipc/shm is not readable");
			return false;
		}
		if (r->sysv_state == SYSV_LIVE) {
			snprintf(why, size, "its SysV segment exists");
			return false;
		}
		if (attached_from_elsewhere(r)) {
			snprintf(why, size, "attached from another IPC or pid namespace");
			return false;
		}
		if (r->sysv_state == SYSV_GONE)
			snprintf(why, size, "SysV id %" PRId64 " is gone", r->shmid);
		else
			snprintf(why, size, "SysV id %" PRId64 " now names another segment (key 0x%08" PRIx32 ", creator pid %" PRId64 ")",
				 r->shmid, r->segment->key, r->segment->cpid);
		return true;
	case KIND_FILE: {
		if (r->nattachers || (r->has[INFO_ATTACHMENTS] && r->info[INFO_ATTACHMENTS])) {
			snprintf(why, size, "attached");
			return false;
		}
		int fd = openat(mount_fd, r->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			snprintf(why, size, "cannot open it to test its lock: %s", strerror(errno));
			return false;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			snprintf(why, size, errno == EWOULDBLOCK ? "held (locked) by a process" :
				 "cannot lock it");
			close(fd);
			return false;
		}
		if (procs_unreadable) {
			snprintf(why, size, "not held, but the maps of %u processes are not readable, so it may be mapped",
				 procs_unreadable);
			close(fd);
			return false;
		}
		*lock_fd = fd;
		snprintf(why, size, "nobody holds or maps it");
		return true;
	}
	case KIND_CREATING:
	case KIND_TMP:
		if (r->owner_pid <= 0) {
			snprintf(why, size, "cannot tell which process made it");
			return false;
		}
		if (pid_alive((pid_t)r->owner_pid)) {
			snprintf(why, size, "pid %" PRId64 " is running", r->owner_pid);
			return false;
		}
		if (r->nattachers) {
			snprintf(why, size, "attached");
			return false;
		}
		snprintf(why, size, "%s file of dead pid %" PRId64,
			 r->kind == KIND_CREATING ? "creating" : "temporary", r->owner_pid);
		return true;
	case KIND_OTHER:
		snprintf(why, size, "not a name libmshare-shim uses: never removed");
		return false;
	case KIND_KERNEL:
		snprintf(why, size, "kept by the kernel with its segment");
		return false;
	}
	return false;
}

static int gc(bool dry_run, bool verbose)
{
	struct gc_result *results = calloc(nregions ? nregions : 1, sizeof(*results));
	int status = EXIT_OK;
	size_t removable = 0, removed = 0;

	if (!results)
		fatal(EXIT_ERROR, "out of memory");
	for (size_t i = 0; i < nregions; i++) {
		struct region *r = &regions[i];
		struct gc_result *res = &results[i];
		int lock_fd;
		bool go = unreachable(r, res->reason, sizeof(res->reason), &lock_fd);

		res->name = r->name;
		res->action = !go ? GC_KEPT : dry_run ? GC_WOULD_REMOVE : GC_REMOVED;
		if (go)
			removable++;
		if (go && !dry_run) {
			if (unlinkat(mount_fd, r->name, 0) == 0) {
				removed++;
			} else {
				res->action = GC_FAILED;
				res->err = errno;
				if (errno == EACCES || errno == EPERM) {
					if (status == EXIT_OK)
						status = EXIT_PERMISSION;
				} else if (errno != ENOENT) {
					status = EXIT_ERROR;
				}
				fprintf(stderr, "%s: cannot remove %s/%s: %s\n", prog, mount_dir,
					r->name, strerror(res->err));
			}
		}
		if (lock_fd >= 0)
			close(lock_fd);
		if (output.json)
			continue;
		switch (res->action) {
		case GC_WOULD_REMOVE:
			printf("would remove %s: %s\n", r->name, res->reason);
			break;
		case GC_REMOVED:
			printf("removed %s: %s\n", r->name, res->reason);
			break;
		case GC_FAILED:
			printf("could not remove %s (%s): %s\n", r->name, res->reason,
			       strerror(res->err));
			break;
		case GC_KEPT:
			if (verbose)
				printf("kept %s: %s\n", r->name, res->reason);
			break;
		}
	}
	if (output.json) {
		int printed = print_gc(&state, results, nregions, dry_run, &output);

		free(results);
		return printed != EXIT_OK ? printed : status;
	}
	if (dry_run)
		printf("%zu of %zu regions would be removed\n", removable, nregions);
	else
		printf("%zu of %zu regions removed\n", removed, nregions);
	if (procs_unreadable && !dry_run)
		printf("note: %u processes could not be inspected; file regions were kept\n",
		       procs_unreadable);
	free(results);
	return status;
}

/* ---- finding msharefs ------------------------------------------------------------ */

static bool kernel_supports(void)
{
	char buf[8192];

	if (!read_small("/proc/filesystems", buf, sizeof(buf)))
		return false;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *t = strrchr(line, '\t');
		if (!strcmp(t ? t + 1 : line, "msharefs"))
			return true;
	}
	return false;
}

/* The msharefs mount point: MSHAREFS_DEFAULT_MOUNT when mounted there, else the first. */
static char *find_mount(void)
{
	struct libmnt_table *table = mnt_new_table_from_file("/proc/self/mountinfo");
	struct libmnt_iter *iter = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	char *found = NULL;

	while (table && iter && mnt_table_next_fs(table, iter, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs);
		const char *target = mnt_fs_get_target(fs);

		if (!type || !target || strcmp(type, "msharefs"))
			continue;
		if (!found || !strcmp(target, MSHAREFS_DEFAULT_MOUNT)) {
			free(found);
			found = strdup(target);
		}
	}
	mnt_free_iter(iter);
	mnt_unref_table(table);
	return found;
}

static void open_mount(const char *given)
{
	bool supported = kernel_supports();
	struct statfs sfs;
	struct stat st;
	char *found = NULL;
	char buf[64];

	if (given) {
		mount_dir = given;
	} else {
		found = find_mount();
		if (!found) {
			/* SysV page tables the kernel shares need no mount. */
			if (run_mode != MODE_GC && kernel_sysv)
				return;
			if (!supported)
				fatal(EXIT_UNSUPPORTED, "msharefs is not supported by this kernel (no msharefs in /proc/filesystems)");
			fatal(EXIT_NOT_MOUNTED, "msharefs is supported by this kernel but not mounted (mount -t msharefs msharefs %s)",
			      MSHAREFS_DEFAULT_MOUNT);
		}
		mount_dir = found;
	}
	mount_fd = open(mount_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mount_fd < 0) {
		int e = errno;
		if (!supported)
			fatal(EXIT_UNSUPPORTED, "msharefs is not supported by this kernel (no msharefs in /proc/filesystems)");
		if (e == EACCES || e == EPERM)
			fatal(EXIT_PERMISSION, "cannot open %s: %s", mount_dir, strerror(e));
		fatal(EXIT_NOT_MOUNTED, "msharefs is not mounted at %s (%s)", mount_dir, strerror(e));
	}
	if (fstatfs(mount_fd, &sfs) < 0 || (unsigned long)sfs.f_type != MSHARE_MAGIC) {
		if (!supported)
			fatal(EXIT_UNSUPPORTED, "msharefs is not supported by this kernel (no msharefs in /proc/filesystems)");
		fatal(EXIT_NOT_MOUNTED, "%s is not an msharefs mount (mount -t msharefs msharefs %s)",
		      mount_dir, mount_dir);
	}
	if (fstat(mount_fd, &st) == 0)
		mount_dev = st.st_dev;
	int fd = openat(mount_fd, "mshare_info", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		fatal(e == EACCES || e == EPERM ? EXIT_PERMISSION : EXIT_ERROR,
		      "cannot read %s/mshare_info: %s", mount_dir, n == 0 ? "empty" : strerror(e));
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!parse_dec(buf, &alignment) || !alignment)
		fatal(EXIT_ERROR, "%s/mshare_info holds '%s', not an alignment", mount_dir, buf);
}

/* ---- main ----------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [--mount DIR] [--json | --raw] [--noheadings] [--bytes] [--output COLUMNS]\n"
		"       %s --prometheus [--mount DIR]\n"
		"       %s --gc [--dry-run] [--mount DIR] [--json] [-v]\n"
		"\n"
		"Lists the msharefs regions (what each backs, who attaches it, the page-table\n"
		"memory its sharing saves now) and the SysV segments whose page tables the\n"
		"kernel shares, with a summary line; --gc removes the regions nothing can\n"
		"reach any more.\n"
		"\n"
		"  --mount DIR        the msharefs mount (default: found in /proc/self/mountinfo)\n"
		"  -o, --output LIST  the columns to show (comma-separated; +LIST adds to the default)\n"
		"  -J, --json         JSON (with a format version) on stdout\n"
		"  -r, --raw          raw output: no alignment, no summary line\n"
		"      --noheadings   no column headings and no summary line\n"
		"  -b, --bytes        sizes in bytes\n"
		"      --prometheus   node-exporter textfile collector format\n"
		"      --gc           remove unreachable regions (see mshare-stat(8))\n"
		"  -n, --dry-run      with --gc: say what would be removed, remove nothing\n"
		"  -v, --verbose      with --gc: also list the regions kept, and why\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n",
		prog, prog, prog);
	if (out == stdout)
		print_columns_help();
	fprintf(out,
		"\nExit status: 0 success, 1 error, 2 usage error, 3 msharefs not supported by\n"
		"this kernel, 4 msharefs not mounted, 5 permission denied.  --gc without\n"
		"msharefs and --prometheus without msharefs exit 0.\n");
}

static void total_up(void)
{
	state.dir = mount_dir;
	state.alignment = alignment;
	state.supported = mount_fd >= 0 || kernel_supports();
	state.mounted = mount_fd >= 0;
	state.kernel_sysv = kernel_sysv;
	state.regions = regions;
	state.nregions = nregions;
	state.unlinked = unlinked;
	state.nunlinked = nunlinked;
	state.procs_unreadable = procs_unreadable;
	state.total_saved_complete = true;
	for (size_t i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];

		state.total_bytes += (uint64_t)r->st.st_size;
		state.total_attachments += r->attachments_used;
		state.total_saved += r->saved;
		state.total_saved_complete = state.total_saved_complete && r->saving_known;
	}
}

int main(int argc, char **argv)
{
	enum { OPT_NOHEADINGS = 256, OPT_PROMETHEUS, OPT_GC, OPT_VERSION };
	static const struct option options[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "raw", no_argument, NULL, 'r' },
		{ "noheadings", no_argument, NULL, OPT_NOHEADINGS },
		{ "bytes", no_argument, NULL, 'b' },
		{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
		{ "gc", no_argument, NULL, OPT_GC },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *given_mount = NULL;
	bool dry_run = false, verbose = false, gc_asked = false, prom_asked = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:m:o:JrbnvhV", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!*optarg)
				goto bad_value;
			given_mount = optarg;
			break;
		case 'o':
			if (!*optarg)
				goto bad_value;
			output.columns = optarg;
			break;
		case 'J': output.json = true; break;
		case 'r': output.raw = true; break;
		case OPT_NOHEADINGS: output.noheadings = true; break;
		case 'b': output.bytes = true; break;
		case OPT_PROMETHEUS: prom_asked = true; break;
		case OPT_GC: gc_asked = true; break;
		case 'n': dry_run = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case OPT_VERSION:
			printf("mshare-stat (libmshare-shim) %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n", prog, argv[optind - 1]);
			goto usage_error;
		default:
			if (optopt)
				fprintf(stderr, "%s: unknown option: -%c\n", prog, optopt);
			else
				fprintf(stderr, "%s: unknown option: %s\n", prog, argv[optind - 1]);
			goto usage_error;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", prog, argv[optind]);
		goto usage_error;
	}
	if (dry_run && !gc_asked) {
		fprintf(stderr, "%s: --dry-run goes with --gc\n", prog);
		goto usage_error;
	}
	if (prom_asked && (gc_asked || output.json || output.raw || output.columns)) {
		fprintf(stderr, "%s: --prometheus goes with no other output option and not with --gc\n", prog);
		goto usage_error;
	}
	if (output.json && output.raw) {
		fprintf(stderr, "%s: --json and --raw exclude each other\n", prog);
		goto usage_error;
	}
	if (output.columns && !columns_valid(output.columns))
		goto usage_error;
	run_mode = gc_asked ? MODE_GC : prom_asked ? MODE_PROMETHEUS : MODE_TABLE;
	mount_given = given_mount != NULL;

	kernel_sysv = access(SHM_SHARE_MMU_SYSCTL, F_OK) == 0;
	open_mount(given_mount);
	load_sysv();
	if (mount_fd >= 0)
		load_regions();
	if (run_mode != MODE_GC && kernel_sysv)
		load_kernel_rows();
	scan_processes();
	adopt_kernel_rows();
	for (size_t i = 0; i < nregions; i++)
		analyse(&regions[i]);
	total_up();

	switch (run_mode) {
	case MODE_GC:
		return gc(dry_run, verbose);
	case MODE_PROMETHEUS:
		return print_prometheus(&state);
	case MODE_TABLE:
		break;
	}
	return print_regions(&state, &output);

bad_value:
	fprintf(stderr, "%s: %s needs a non-empty value\n", prog, argv[optind - 1]);
usage_error:
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return EXIT_USAGE;
}
