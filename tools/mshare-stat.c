/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-stat: what msharefs holds right now, who uses it, what the shared
 * page tables save, and (--gc) removal of regions nothing can reach.
 * Needs nothing but libc and /proc.  See mshare-stat(8).
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

#define MSHARE_MAGIC 0x4d534852
#define DEFAULT_MOUNT "/sys/fs/mshare"

enum exit_code {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_UNSUPPORTED = 3,
	EXIT_NOT_MOUNTED = 4,
	EXIT_PERMISSION = 5,
};

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
static const char *human(uint64_t b, char *buf, size_t size)
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

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- JSON output ---------------------------------------------------------- */

static bool json;

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
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string; invalid UTF-8 bytes become U+FFFD. */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", stdout);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, stdout);
			p += n;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
		p++;
	}
	putchar('"');
}

/* Field separators: each object/array level remembers whether it is empty. */
static bool json_first[16] = { true };
static int json_depth;

static void json_sep(void)
{
	if (!json_first[json_depth])
		putchar(',');
	json_first[json_depth] = false;
}

static void json_key(const char *key)
{
	json_sep();
	if (key) {
		json_str(key);
		putchar(':');
	}
}

static void json_open(const char *key, char c)
{
	json_key(key);
	putchar(c);
	json_first[++json_depth] = true;
}

static void json_close(char c)
{
	putchar(c);
	json_depth--;
}

static void json_kstr(const char *key, const char *v)
{
	json_key(key);
	if (v)
		json_str(v);
	else
		fputs("null", stdout);
}

static void json_ku64(const char *key, uint64_t v)
{
	json_key(key);
	printf("%" PRIu64, v);
}

static void json_kbool(const char *key, bool v)
{
	json_key(key);
	fputs(v ? "true" : "false", stdout);
}

static void json_knull(const char *key)
{
	json_key(key);
	fputs("null", stdout);
}

/* ---- messages and fatal conditions ------------------------------------- */

/* Prints the condition (as JSON too with --json) and exits. */
static void fatal(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog, msg);
	if (json) {
		json_depth = 0;
		json_first[0] = true;
		json_open(NULL, '{');
		json_kbool("supported", code != EXIT_UNSUPPORTED);
		json_kbool("mounted", code != EXIT_UNSUPPORTED && code != EXIT_NOT_MOUNTED);
		json_kstr("error", msg);
		json_ku64("exit_status", (uint64_t)code);
		json_close('}');
		putchar('\n');
	}
	exit(code);
}

/* ---- the SysV table --------------------------------------------------------- */

struct segment {
	uint32_t key;
	int64_t shmid;
	unsigned perms;
	uint64_t size;
	int64_t cpid;
	uint64_t nattch;
};

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
		unsigned perms;
		unsigned long long size, nattch;

		if (sscanf(line, "%lld %lld %o %llu %lld %lld %llu", &key, &shmid,
			   &perms, &size, &cpid, &lpid, &nattch) != 7)
			continue;
		segments = grow(segments, &nsegments, sizeof(*segments));
		struct segment *s = &segments[nsegments - 1];
		s->key = (uint32_t)key;
		s->shmid = shmid;
		s->perms = perms;
		s->size = size;
		s->cpid = cpid;
		s->nattch = nattch;
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

enum kind { KIND_SYSV, KIND_FILE, KIND_CREATING, KIND_TMP, KIND_OTHER };
static const char *const kind_names[] = { "sysv", "file", "creating", "tmp", "other" };

enum sysv_state { SYSV_LIVE, SYSV_GONE, SYSV_REUSED, SYSV_UNKNOWN };
static const char *const sysv_state_names[] = { "live", "gone", "reused", "unknown" };

struct attacher {
	pid_t pid;
	unsigned vmas;
	bool foreign_ns;	/* another IPC or pid namespace than ours */
	char comm[32];
};

struct region {
	char name[NAME_MAX + 1];
	enum kind kind;
	struct stat st;
	int open_errno;			/* 0: fdinfo was read */
	bool has[5];			/* size mapped rss pgtables attachments */
	uint64_t info[5];
	/* sysv */
	uint32_t key;
	int64_t shmid;
	int64_t cpid;
	enum sysv_state sysv_state;
	const struct segment *segment;
	/* file */
	uint64_t dev, ino, offset, length, euid;
	int prot;			/* PROT_* bits, -1: not in the name */
	char *path;			/* resolved, or NULL */
	/* creating / tmp */
	int64_t owner_pid;		/* -1: unknown */
	/* attachments seen in /proc/PID/maps */
	struct attacher *attachers;
	size_t nattachers;
	unsigned vmas;
	/* the saving */
	bool saving_known;
	uint64_t pgtables_used;
	uint64_t attachments_used;
	uint64_t saved;
	const char *method;
};

enum { INFO_SIZE, INFO_MAPPED, INFO_RSS, INFO_PGTABLES, INFO_ATTACHMENTS };
static const char *const info_fields[] = {
	"mshare_size", "mshare_mapped", "mshare_rss", "mshare_pgtables",
	"mshare_attachments",
};

static struct region *regions;
static size_t nregions;

/* Unlinked regions still mapped: "NAME (deleted)" in maps. */
static struct region *unlinked;
static size_t nunlinked;

static const char *mount_dir;
static int mount_fd = -1;
static uint64_t alignment;

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

static void scan_maps(pid_t pid)
{
	char path[64], line[PATH_MAX + 256];
	size_t mlen = strlen(mount_dir);
	bool want_files = unresolved_files();
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
		unsigned long long ino;
		int off = 0;
		char *name;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) < 3 || !off)
			continue;
		name = line + off;
		if (*name != '/')
			continue;
		if (makedev(maj, min) == mount_dev && !strncmp(name, mount_dir, mlen) &&
		    name[mlen] == '/') {
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
	if (r->has[INFO_PGTABLES]) {
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

/* ---- output ---------------------------------------------------------------------- */

/* NAME, or the number ID where the id has no name. */
static const char *name_or_id(const char *name, unsigned id, char *buf, size_t size)
{
	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%u", id);
	return buf;
}

static const char *user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	return name_or_id(pw ? pw->pw_name : NULL, (unsigned)uid, buf, size);
}

static const char *group_name(gid_t gid, char *buf, size_t size)
{
	struct group *gr = getgrgid(gid);

	return name_or_id(gr ? gr->gr_name : NULL, (unsigned)gid, buf, size);
}

static void text_backs(const struct region *r)
{
	char h[32];

	switch (r->kind) {
	case KIND_SYSV:
		printf("  backs        SysV key 0x%08" PRIx32 "%s, id %" PRId64 ", created by pid %" PRId64 ": ",
		       r->key, r->key ? "" : " (IPC_PRIVATE)", r->shmid, r->cpid);
		switch (r->sysv_state) {
		case SYSV_LIVE:
			printf("segment exists (%s, %" PRIu64 " attached)\n",
			       human(r->segment->size, h, sizeof(h)), r->segment->nattch);
			break;
		case SYSV_GONE:
			printf("segment is gone (stale region)\n");
			break;
		case SYSV_REUSED:
			printf("id %" PRId64 " now names another segment (key 0x%08" PRIx32 ", creator pid %" PRId64 "): stale region\n",
			       r->shmid, r->segment->key, r->segment->cpid);
			break;
		case SYSV_UNKNOWN:
			printf("cannot tell (/proc/sysvipc/shm not readable)\n");
			break;
		}
		break;
	case KIND_FILE:
		printf("  backs        file %s (device %u:%u, inode %" PRIu64 "), offset %" PRIu64 ", length %s, for euid %" PRIu64,
		       r->path ? r->path : "with unknown path",
		       major(r->dev), minor(r->dev), r->ino, r->offset,
		       human(r->length, h, sizeof(h)), r->euid);
		if (r->prot >= 0)
			printf(", %s%s%s", r->prot & 1 ? "r" : "-", r->prot & 2 ? "w" : "-",
			       r->prot & 4 ? "x" : "-");
		putchar('\n');
		break;
	case KIND_CREATING:
	case KIND_TMP:
		if (r->owner_pid > 0)
			printf("  backs        nothing yet: %s file of pid %" PRId64 " (%s)\n",
			       r->kind == KIND_CREATING ? "creating" : "temporary", r->owner_pid,
			       pid_alive((pid_t)r->owner_pid) ? "running" : "dead: stale");
		else
			printf("  backs        nothing yet: temporary file\n");
		break;
	case KIND_OTHER:
		printf("  backs        unknown (not a name libmshare-shim uses)\n");
		break;
	}
}

static void text_region(const struct region *r, bool linked)
{
	char h[32], u[64], g[64];

	printf("\n%s%s\n", r->name, linked ? "" : " (unlinked, still attached)");
	if (linked) {
		printf("  size         %s\n", human((uint64_t)r->st.st_size, h, sizeof(h)));
		printf("  owner        %s:%s (%u:%u), mode %04o\n",
		       user_name(r->st.st_uid, u, sizeof(u)), group_name(r->st.st_gid, g, sizeof(g)),
		       (unsigned)r->st.st_uid, (unsigned)r->st.st_gid,
		       (unsigned)(r->st.st_mode & 07777));
	}
	text_backs(r);
	if (linked && r->open_errno) {
		printf("  usage        not readable: %s (run as root or as the owner)\n",
		       strerror(r->open_errno));
	} else if (linked) {
		static const char *const labels[] = { NULL, "mapped", "resident", "pgtables", NULL };
		for (int i = INFO_MAPPED; i <= INFO_PGTABLES; i++) {
			if (r->has[i])
				printf("  %-12s %s\n", labels[i], human(r->info[i], h, sizeof(h)));
		}
		if (r->has[INFO_ATTACHMENTS])
			printf("  attachments  %" PRIu64 "\n", r->info[INFO_ATTACHMENTS]);
		if (!r->has[INFO_MAPPED] && !r->has[INFO_RSS] && !r->has[INFO_PGTABLES])
			printf("  usage        not reported (no mshare_* fields in fdinfo)\n");
	}
	printf("  attached by ");
	if (!r->nattachers)
		printf(" no process%s\n", procs_unreadable ? " that this user can see" : "");
	for (size_t i = 0; i < r->nattachers; i++) {
		const struct attacher *a = &r->attachers[i];
		printf("%s pid %d (%s)", i ? "," : "", (int)a->pid, a->comm);
		if (a->vmas > 1)
			printf(" x%u", a->vmas);
		if (i + 1 == r->nattachers)
			putchar('\n');
	}
	if (!linked)
		return;
	if (r->saving_known) {
		printf("  saved now    %s = (%" PRIu64 " attachments - 1) x %s\n",
		       human(r->saved, h, sizeof(h)),
		       r->attachments_used ? r->attachments_used : 1,
		       human(r->pgtables_used, u, sizeof(u)));
		if (!r->has[INFO_PGTABLES])
			printf("               (%s)\n", r->method);
	} else {
		printf("  saved now    %s\n", r->method);
	}
}

static void json_region(const struct region *r, bool linked)
{
	char buf[64];

	json_open(NULL, '{');
	json_kstr("name", r->name);
	json_kstr("kind", kind_names[r->kind]);
	if (linked) {
		json_ku64("inode", (uint64_t)r->st.st_ino);
		json_ku64("size", (uint64_t)r->st.st_size);
		json_ku64("uid", r->st.st_uid);
		json_kstr("user", user_name(r->st.st_uid, buf, sizeof(buf)));
		json_ku64("gid", r->st.st_gid);
		json_kstr("group", group_name(r->st.st_gid, buf, sizeof(buf)));
		snprintf(buf, sizeof(buf), "%04o", (unsigned)(r->st.st_mode & 07777));
		json_kstr("mode", buf);
	}
	switch (r->kind) {
	case KIND_SYSV:
		json_open("sysv", '{');
		snprintf(buf, sizeof(buf), "0x%08" PRIx32, r->key);
		json_kstr("key", buf);
		json_ku64("shmid", (uint64_t)r->shmid);
		json_ku64("creator_pid", (uint64_t)r->cpid);
		json_kstr("state", sysv_state_names[r->sysv_state]);
		if (r->segment) {
			json_ku64("segment_size", r->segment->size);
			json_ku64("segment_nattch", r->segment->nattch);
		}
		json_close('}');
		break;
	case KIND_FILE:
		json_open("file", '{');
		snprintf(buf, sizeof(buf), "%u:%u", major(r->dev), minor(r->dev));
		json_kstr("dev", buf);
		json_ku64("ino", r->ino);
		json_ku64("offset", r->offset);
		json_ku64("length", r->length);
		json_ku64("euid", r->euid);
		if (r->prot >= 0)
			json_ku64("prot", (uint64_t)r->prot);
		json_kstr("path", r->path);
		json_close('}');
		break;
	case KIND_CREATING:
	case KIND_TMP:
		if (r->owner_pid > 0) {
			json_ku64("owner_pid", (uint64_t)r->owner_pid);
			json_kbool("owner_alive", pid_alive((pid_t)r->owner_pid));
		} else {
			json_knull("owner_pid");
		}
		break;
	case KIND_OTHER:
		break;
	}
	if (linked) {
		if (r->open_errno) {
			json_knull("fdinfo");
			json_kstr("fdinfo_error", strerror(r->open_errno));
		} else {
			json_open("fdinfo", '{');
			for (int i = 0; i < 5; i++)
				if (r->has[i])
					json_ku64(info_fields[i] + 7, r->info[i]);
			json_close('}');
		}
	}
	json_open("attached", '[');
	for (size_t i = 0; i < r->nattachers; i++) {
		json_open(NULL, '{');
		json_ku64("pid", (uint64_t)r->attachers[i].pid);
		json_kstr("comm", r->attachers[i].comm);
		json_ku64("vmas", r->attachers[i].vmas);
		json_close('}');
	}
	json_close(']');
	if (linked) {
		if (r->saving_known) {
			json_ku64("attachments", r->attachments_used);
			json_ku64("pgtables", r->pgtables_used);
			json_ku64("saved", r->saved);
		} else {
			json_knull("saved");
		}
		json_kstr("saved_method", r->method);
	}
	json_close('}');
}

/* ---- garbage collection ------------------------------------------------------------ */

struct gc_result {
	const char *name;
	char reason[256];
	int err;	/* removal failed with this errno */
	bool removed;
};

static struct gc_result *gc_results;
static size_t ngc;

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
	}
	return false;
}

/*
 * The lists of --gc --json.  In gc_results, err is 0 for a region removed
 * (or, with --dry-run, that would be), its errno for one that could not be,
 * and -1 for one kept.
 */
enum gc_list { GC_REMOVED, GC_FAILED, GC_KEPT };

static enum gc_list gc_list_of(const struct gc_result *res)
{
	if (res->err == -1)
		return GC_KEPT;
	return res->err ? GC_FAILED : GC_REMOVED;
}

static void json_gc_list(const char *key, enum gc_list list)
{
	json_open(key, '[');
	for (size_t i = 0; i < ngc; i++) {
		const struct gc_result *res = &gc_results[i];

		if (gc_list_of(res) != list)
			continue;
		json_open(NULL, '{');
		json_kstr("name", res->name);
		json_kstr("reason", res->reason);
		if (list == GC_FAILED)
			json_kstr("error", strerror(res->err));
		json_close('}');
	}
	json_close(']');
}

static int gc(bool dry_run, bool verbose)
{
	int status = EXIT_OK;
	size_t removable = 0, removed = 0;

	for (size_t i = 0; i < nregions; i++) {
		struct region *r = &regions[i];
		struct gc_result res = { .name = r->name };
		int lock_fd;
		bool go = unreachable(r, res.reason, sizeof(res.reason), &lock_fd);

		if (go) {
			removable++;
			if (!dry_run) {
				if (unlinkat(mount_fd, r->name, 0) == 0) {
					res.removed = true;
					removed++;
				} else {
					res.err = errno;
					if (errno == EACCES || errno == EPERM) {
						if (status == EXIT_OK)
							status = EXIT_PERMISSION;
					} else if (errno != ENOENT) {
						status = EXIT_ERROR;
					}
				}
			}
			if (lock_fd >= 0)
				close(lock_fd);
		}
		if (!json) {
			if (go && dry_run)
				printf("would remove %s: %s\n", r->name, res.reason);
			else if (go && res.removed)
				printf("removed %s: %s\n", r->name, res.reason);
			else if (go)
				printf("could not remove %s (%s): %s\n", r->name, res.reason,
				       strerror(res.err));
			else if (verbose)
				printf("kept %s: %s\n", r->name, res.reason);
		}
		if (go && res.err && !json)
			fprintf(stderr, "%s: cannot remove %s/%s: %s\n", prog, mount_dir,
				r->name, strerror(res.err));
		res.removed = res.removed || (go && dry_run);
		if (go || verbose || json) {
			gc_results = grow(gc_results, &ngc, sizeof(*gc_results));
			gc_results[ngc - 1] = res;
			if (!go)
				gc_results[ngc - 1].removed = false;
			gc_results[ngc - 1].err = go ? res.err : -1;
		}
	}
	if (json) {
		json_open(NULL, '{');
		json_kstr("mount", mount_dir);
		json_kbool("dry_run", dry_run);
		json_gc_list("removed", GC_REMOVED);
		json_gc_list("failed", GC_FAILED);
		json_gc_list("kept", GC_KEPT);
		json_ku64("exit_status", (uint64_t)status);
		json_close('}');
		putchar('\n');
	} else {
		if (dry_run)
			printf("%zu of %zu regions would be removed\n", removable, nregions);
		else
			printf("%zu of %zu regions removed\n", removed, nregions);
		if (procs_unreadable && !dry_run)
			printf("note: %u processes could not be inspected; file regions were kept\n",
			       procs_unreadable);
	}
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

/* Undoes the octal escapes of /proc/self/mounts (\040 for a space). */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The msharefs mount point: DEFAULT_MOUNT when mounted there, else the first. */
static char *find_mount(void)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[PATH_MAX * 2], *found = NULL;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char *dev = strtok(line, " "), *dir = strtok(NULL, " "), *type = strtok(NULL, " ");

		if (!dev || !dir || !type || strcmp(type, "msharefs"))
			continue;
		unescape(dir);
		if (!found || !strcmp(dir, DEFAULT_MOUNT)) {
			free(found);
			found = strdup(dir);
		}
	}
	fclose(f);
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
			if (!supported)
				fatal(EXIT_UNSUPPORTED, "msharefs is not supported by this kernel (no msharefs in /proc/filesystems)");
			fatal(EXIT_NOT_MOUNTED, "msharefs is supported by this kernel but not mounted (mount -t msharefs msharefs %s)",
			      DEFAULT_MOUNT);
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
		"Usage: %s [--mount DIR] [--json] [-v]\n"
		"       %s --gc [--dry-run] [--mount DIR] [--json] [-v]\n"
		"\n"
		"Shows msharefs: kernel support, the mount, the alignment, every region\n"
		"(size, owner, mode, what it backs, usage, attached processes) and the\n"
		"page-table memory sharing saves now.  --gc removes regions nothing can\n"
		"reach any more.\n"
		"\n"
		"  --mount DIR   the msharefs mount (default: found in /proc/self/mounts)\n"
		"  --json        machine-readable output on stdout\n"
		"  --gc          remove unreachable regions (see mshare-stat(8))\n"
		"  -n, --dry-run with --gc: say what would be removed, remove nothing\n"
		"  -v, --verbose with --gc: also list the regions kept, and why\n"
		"  -h, --help    this text\n"
		"  --version     print the version\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 usage error, 3 msharefs not supported by\n"
		"this kernel, 4 msharefs not mounted, 5 permission denied.\n",
		prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "gc", no_argument, NULL, 'g' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *given_mount = NULL;
	bool do_gc = false, dry_run = false, verbose = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:m:nvh", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!*optarg)
				goto bad_value;
			given_mount = optarg;
			break;
		case 'j': json = true; break;
		case 'g': do_gc = true; break;
		case 'n': dry_run = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("mshare-stat (libmshare-shim) %s\n", PACKAGE_VERSION); return EXIT_OK;
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
	if (dry_run && !do_gc) {
		fprintf(stderr, "%s: --dry-run goes with --gc\n", prog);
		goto usage_error;
	}

	open_mount(given_mount);
	load_sysv();
	load_regions();
	scan_processes();
	for (size_t i = 0; i < nregions; i++)
		analyse(&regions[i]);

	if (do_gc)
		return gc(dry_run, verbose);

	uint64_t total = 0;
	bool total_known = true;
	char h[32];

	for (size_t i = 0; i < nregions; i++) {
		total += regions[i].saved;
		total_known = total_known && regions[i].saving_known;
	}
	if (json) {
		json_open(NULL, '{');
		json_kstr("version", PACKAGE_VERSION);
		json_kbool("supported", true);
		json_kbool("mounted", true);
		json_kstr("mount", mount_dir);
		json_ku64("alignment", alignment);
		json_open("regions", '[');
		for (size_t i = 0; i < nregions; i++)
			json_region(&regions[i], true);
		json_close(']');
		json_open("unlinked_attached", '[');
		for (size_t i = 0; i < nunlinked; i++)
			json_region(&unlinked[i], false);
		json_close(']');
		json_ku64("saved_total", total);
		json_kbool("saved_total_complete", total_known);
		json_kstr("saved_method", "sum over regions of (attachments - 1) x the region's shared page-table bytes (mshare_pgtables)");
		json_ku64("processes_not_readable", procs_unreadable);
		json_close('}');
		putchar('\n');
		return EXIT_OK;
	}

	printf("msharefs: supported by this kernel, mounted at %s\n", mount_dir);
	printf("alignment: %s (%" PRIu64 " bytes)\n", human(alignment, h, sizeof(h)), alignment);
	printf("regions: %zu\n", nregions);
	for (size_t i = 0; i < nregions; i++)
		text_region(&regions[i], true);
	for (size_t i = 0; i < nunlinked; i++)
		text_region(&unlinked[i], false);
	printf("\npage tables saved now: %s%s\n", human(total, h, sizeof(h)),
	       total_known ? "" : " (at least: some regions report no usage)");
	printf("  computed per region as (attachments - 1) x mshare_pgtables: every attached\n"
	       "  process uses the region's one set of page tables; unshared, each would\n"
	       "  need its own copy of them.\n");
	if (procs_unreadable)
		printf("note: the maps of %u processes could not be read (permission denied): the lists of attached processes may be incomplete\n",
		       procs_unreadable);
	return EXIT_OK;

bad_value:
	fprintf(stderr, "%s: --mount needs a non-empty value\n", prog);
usage_error:
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return EXIT_USAGE;
}
