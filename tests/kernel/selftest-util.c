/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-test helpers of msharefs-selftest: names, regions, scratch files. */
#include "selftest.h"

#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

pid_t st_runner_pid;

uint64_t st_align(void)
{
	static uint64_t align;
	int err;

	if (align)
		return align;
	err = mshare_read_alignment(mshare_mount(), &align);
	ck_assert_msg(err == 0, "cannot read %s/%s: %s", mshare_mount(),
		      MSHAREFS_INFO_NAME, strerror(err));
	return align;
}

void st_region_path(char *buf, size_t len, const char *tag)
{
	static unsigned counter;

	snprintf(buf, len, "%s/st-%ld-%ld-%u-%s", mshare_mount(),
		 (long)st_runner_pid, (long)getpid(), counter++, tag);
}

int st_region_new(char *path, const char *tag)
{
	int fd;

	st_region_path(path, ST_PATH_MAX, tag);
	fd = mshare_create(path, 0600);
	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	return fd;
}

int st_region_sized(char *path, const char *tag)
{
	int fd = st_region_new(path, tag);

	ck_assert_msg(ftruncate(fd, (off_t)st_align()) == 0,
		      "ftruncate %s: %s", path, strerror(errno));
	return fd;
}

int st_region_anon(char *path, const char *tag, uint64_t map_size)
{
	int fd = st_region_sized(path, tag);

	ST_ASSERT_RC(mshare_map_anon(fd, 0, map_size, PROT_READ | PROT_WRITE),
		     0);
	return fd;
}

void *st_attach(int fd, int prot)
{
	struct stat st;
	void *p;

	ck_assert_msg(fstat(fd, &st) == 0, "fstat: %s", strerror(errno));
	p = mshare_attach(fd, (uint64_t)st.st_size, prot);
	ck_assert_msg(p != MAP_FAILED, "attach %lld bytes: %s",
		      (long long)st.st_size, strerror(errno));
	return p;
}

const char *st_tmpdir(void)
{
	static char dir[ST_PATH_MAX / 2];	/* room for file names below it */
	const char *base;

	if (dir[0])
		return dir;
	base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%.200s/msharefs-selftest.%ld", base,
		 (long)st_runner_pid);
	return dir;
}

int st_tmpfile(char *path, const char *tag, off_t size)
{
	static unsigned counter;
	int fd;

	snprintf(path, ST_PATH_MAX, "%s/%ld-%u-%s", st_tmpdir(),
		 (long)getpid(), counter++, tag);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	ck_assert_msg(ftruncate(fd, size) == 0, "ftruncate %s: %s", path,
		      strerror(errno));
	return fd;
}

void st_skip(const char *test, const char *fmt, ...)
{
	char line[512], path[ST_PATH_MAX];
	int n, fd;
	va_list ap;

	n = snprintf(line, sizeof(line), "SKIP %s: ", test);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "# %s\n", line);
	/* Also for the runner, which repeats it in the TAP stream. */
	snprintf(path, sizeof(path), "%s/%s", st_tmpdir(), ST_SKIP_LOG);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%s\n", line);
		close(fd);
	}
}

/* A cheap position- and seed-dependent value for each 8-byte word. */
static uint64_t pattern_word(size_t index, uint32_t seed)
{
	uint64_t x = ((uint64_t)seed << 32) ^ (index * 0x9e3779b97f4a7c15ull);

	return x ^ (x >> 29) ^ 0x5555;	/* never 0 for small index: 0 means "untouched" */
}

void fill_pattern(void *p, size_t len, uint32_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = pattern_word(i, seed);
}

size_t pattern_mismatches(const void *p, size_t len, uint32_t seed)
{
	const uint64_t *w = p;
	size_t i, bad = 0;

	for (i = 0; i < len / sizeof(*w); i++)
		bad += w[i] != pattern_word(i, seed);
	return bad;
}

void st_check_fixed_file_mode(const char *name)
{
	char path[ST_PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", mshare_mount(), name);
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
		      strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode), "mode 0%o is not a regular file",
		      st.st_mode);
	ck_assert_msg((st.st_mode & 07777) == 0444, "mode 0%o, want 0444",
		      st.st_mode & 07777);
	ck_assert_int_eq(st.st_uid, 0);
}

void st_check_fixed_file_stays(const char *name)
{
	char path[ST_PATH_MAX], other[ST_PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", mshare_mount(), name);
	ST_ASSERT_ERRNO(unlink(path), EPERM);

	st_region_path(other, sizeof(other), "fixed-away");
	ST_ASSERT_ERRNO(rename(path, other), EPERM);

	/* Replacing it by renaming a region onto it is refused as well. */
	fd = st_region_new(other, "fixed-over");
	ST_ASSERT_ERRNO(rename(other, path), EPERM);
	ck_assert_int_eq(unlink(other), 0);
	close(fd);
	ck_assert_int_eq(access(path, R_OK), 0);
}

void st_smaps_field(const void *addr, const char *field, char *value,
		    size_t len)
{
	char line[512];
	unsigned long start, end;
	bool in_vma = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	ck_assert_ptr_nonnull(f);
	value[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		/* A VMA's first line: "start-end perms ..." */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in_vma = start == (unsigned long)addr;
		if (in_vma && strncmp(line, field, strlen(field)) == 0) {
			snprintf(value, len, "%s", line + strlen(field));
			break;
		}
	}
	fclose(f);
}

int st_become_nobody(void)
{
	if (setgroups(0, NULL) != 0 || setresgid(ST_NOBODY, ST_NOBODY, ST_NOBODY) != 0 ||
	    setresuid(ST_NOBODY, ST_NOBODY, ST_NOBODY) != 0)
		return -1;
	return 0;
}

const unsigned char st_code_ret42[6] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 };

int st_call_code(void *arg)
{
	int (*fn)(void) = (int (*)(void))arg;

	return fn() == 42 ? 0 : 20;
}
