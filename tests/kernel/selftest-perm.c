/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File permissions govern who may open and attach a region (UAPI.md
 * "Region files": "any later open() obeys the file mode").  The suite runs
 * once as root and once unprivileged; the cross-user checks need root to
 * become another user, so unprivileged runs skip them with a reason.
 */
#include "selftest.h"

#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

struct stranger {
	const char *path;
	int may_read;	/* expected: 1 = O_RDONLY open and read attach work */
};

/* Runs as uid/gid 65534; exit codes name the expectation that failed. */
static int stranger_main(void *arg)
{
	const struct stranger *s = arg;
	unsigned char *p;
	int fd;

	if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) != 0)
		return 10;
	fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 11;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (!s->may_read)
		return fd < 0 && errno == EACCES ? 0 : 12;
	if (fd < 0)
		return 13;
	p = mshare_attach(fd, st_align(), PROT_READ | PROT_WRITE);
	if (p != MAP_FAILED || errno != EACCES)
		return 14;
	p = mshare_attach(fd, st_align(), PROT_READ);
	if (p == MAP_FAILED)
		return 15;
	if (p[0] != 0xee)
		return 16;
	/* The sticky mount root keeps strangers from removing the region. */
	if (unlink(s->path) == 0)
		return 17;
	return 0;
}

START_TEST(perm_other_uid_obeys_mode)
{
	char path[ST_PATH_MAX], buf[64];
	struct stranger s = { .path = path };
	struct stat root_dir;
	unsigned char *p;
	int fd, status;

	if (geteuid() != 0) {
		st_skip("perm_other_uid_obeys_mode",
			"needs root to switch to uid %d (running as uid %ld)",
			NOBODY, (long)geteuid());
		return;
	}
	ck_assert_int_eq(stat(mshare_mount(), &root_dir), 0);
	fd = st_region_anon(path, "perm", ST_PAGE);	/* mode 0600 */
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0xee;

	s.may_read = 0;
	status = run_child(stranger_main, &s);
	ck_assert_msg(exited_ok(status), "uid %d vs a 0600 region: %s", NOBODY,
		      describe_status(status, buf, sizeof(buf)));

	/* chmod governs later opens. */
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	s.may_read = 1;
	status = run_child(stranger_main, &s);
	if (!(root_dir.st_mode & S_ISVTX) && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 17)
		status = 0;	/* no sticky bit on this mount: unlink may work */
	ck_assert_msg(exited_ok(status), "uid %d vs a 0644 region: %s", NOBODY,
		      describe_status(status, buf, sizeof(buf)));

	ck_assert_int_eq(munmap(p, st_align()), 0);
	unlink(path);	/* may already be gone, see above */
	close(fd);
}
END_TEST

START_TEST(perm_mode_applies_to_owner_too)
{
	char path[ST_PATH_MAX];
	int fd = st_region_sized(path, "perm-owner"), again;

	/* Root overrides file modes; only an unprivileged owner sees this. */
	ck_assert_int_eq(fchmod(fd, 0400), 0);
	again = open(path, O_RDWR | O_CLOEXEC);
	if (geteuid() == 0) {
		ck_assert_int_ge(again, 0);
		close(again);
	} else {
		ck_assert_msg(again < 0 && errno == EACCES,
			      "O_RDWR open of an own 0400 region: %s",
			      again < 0 ? strerror(errno) : "succeeded");
	}
	again = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(again, 0);
	close(again);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

void register_perm_tests(void)
{
	static const struct selftest_group group = { "permissions", 60 };

	selftest_add(&group, perm_other_uid_obeys_mode);
	selftest_add(&group, perm_mode_applies_to_owner_too);
}
