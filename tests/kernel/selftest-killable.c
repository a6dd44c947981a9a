// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Faults that wait for I/O must end on SIGKILL, as in a plain mapping.
 * A file page being read is locked until the read completes; a fault on
 * it waits for the lock, killably when the fault may retry.  Before patch
 * 0024 the fault through an attachment ran the region's fault without the
 * retry and kill flags: it waited uninterruptibly, holding the process's
 * and the region's mmap_lock, for as long as the file server (here a FUSE
 * server holding its reads, in life a hung NFS server or a failing disk)
 * took.
 */
#include "selftest.h"
#include "stalled-fuse.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a killed process may take to go; the held read lasts longer. */
#define KILL_GRACE_MS 5000

/* The scheduler state letter of PID ('D', 'S', ...), or 0 if it is gone. */
static char proc_state(pid_t pid)
{
	char path[64], text[512], *close_paren;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	text[len] = '\0';
	close_paren = strrchr(text, ')');
	return close_paren && close_paren[1] ? close_paren[2] : 0;
}

/* Waits until PID sleeps uninterruptibly ('D'); false after 20 s. */
static bool wait_blocked(pid_t pid)
{
	for (int i = 0; i < 2000; i++) {
		if (proc_state(pid) == 'D')
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* Kills PID; true if it is gone within KILL_GRACE_MS (reaped then). */
static bool killed_in_time(pid_t pid, long *ms)
{
	int status;

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	for (*ms = 0; *ms < KILL_GRACE_MS; *ms += 10) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		ck_assert_int_ge(got, 0);
		if (got == pid) {
			ck_assert_msg(WIFSIGNALED(status) &&
				      WTERMSIG(status) == SIGKILL,
				      "the child ended with status 0x%x, not by SIGKILL",
				      status);
			return true;
		}
		usleep(10 * 1000);
	}
	return false;
}

/* Reads the file's first byte through the page cache (the read is held) */
static void *read_first_byte(void *arg)
{
	static unsigned char byte;
	int fd = *(int *)arg;

	if (pread(fd, &byte, 1, 0) != 1)
		fprintf(stderr, "# reader: pread: %s\n", strerror(errno));
	return NULL;
}

/* A child that maps the page (region attachment or plain) and loads it. */
static pid_t fork_loader(int region_fd, int file_fd)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const volatile unsigned char *p;

		if (region_fd >= 0)
			p = mshare_attach(region_fd, st_align(), PROT_READ);
		else
			p = mmap(NULL, ST_PAGE, PROT_READ, MAP_SHARED,
				 file_fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		_exit(p[0] == stalled_fuse_byte(0) ? 0 : 3);
	}
	return pid;
}

START_TEST(killable_fault_on_locked_file_page)
{
	const char *test = "killable_fault_on_locked_file_page";
	const char *want = getenv("MSHARE_EXPECT_FUSE");
	char dir[ST_PATH_MAX], file[ST_PATH_MAX + 16], path[ST_PATH_MAX];
	struct stalled_fuse *fs;
	pthread_t reader;
	pid_t plain, attached;
	long plain_ms, attached_ms;
	bool plain_gone, attached_gone;
	int ffd, fd, status;

	snprintf(dir, sizeof(dir), "%s/fuse-%d", st_tmpdir(), (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	fs = stalled_fuse_mount(dir, ST_PAGE);
	if (!fs) {
		ck_assert_msg(!want || strcmp(want, "1") != 0,
			      "booted to test FUSE, but mount: %s",
			      strerror(errno));
		st_skip(test, "FUSE mount: %s (no CONFIG_FUSE_FS, or not root)",
			strerror(errno));
		rmdir(dir);
		return;
	}
	snprintf(file, sizeof(file), "%s/%s", dir, STALLED_FUSE_FILE);
	ffd = open(file, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(ffd >= 0, "open %s: %s", file, strerror(errno));
	fd = st_region_sized(path, "fuse");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ, ffd, 0), 0);

	/* The file's first page is being read, and locked, until released */
	stalled_fuse_hold_reads(fs);
	ck_assert_int_eq(pthread_create(&reader, NULL, read_first_byte, &ffd),
			 0);
	for (int i = 0; i < 2000 && stalled_fuse_held(fs) == 0; i++)
		usleep(10 * 1000);
	ck_assert_msg(stalled_fuse_held(fs) > 0, "no READ reached the server");

	/* The kernel's reference: a plain mapping's fault dies on SIGKILL */
	plain = fork_loader(-1, ffd);
	ck_assert_msg(wait_blocked(plain), "the plain loader never blocked");
	plain_gone = killed_in_time(plain, &plain_ms);

	attached = fork_loader(fd, -1);
	ck_assert_msg(wait_blocked(attached),
		      "the attached loader never blocked");
	attached_gone = killed_in_time(attached, &attached_ms);
	fprintf(stderr, "# %s: after SIGKILL, plain mapping %s (%ld ms), attachment %s (%ld ms)\n",
		test, plain_gone ? "gone" : "still there", plain_ms,
		attached_gone ? "gone" : "still there", attached_ms);

	/* Let the read finish so that whatever waits can end */
	stalled_fuse_release(fs);
	pthread_join(reader, NULL);
	if (!plain_gone)
		ck_assert_int_eq(waitpid(plain, &status, 0), plain);
	if (!attached_gone)
		ck_assert_int_eq(waitpid(attached, &status, 0), attached);

	ck_assert_msg(plain_gone, "a plain mapping's fault outlived SIGKILL by %d ms",
		      KILL_GRACE_MS);
	ck_assert_msg(attached_gone,
		      "a fault through the attachment outlived SIGKILL by %d ms: it waits uninterruptibly for the locked page",
		      KILL_GRACE_MS);

	/* The page reads right once the server answers, both ways */
	plain = fork_loader(-1, ffd);
	ck_assert_int_eq(waitpid(plain, &status, 0), plain);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "plain loader after release: status 0x%x", status);
	attached = fork_loader(fd, -1);
	ck_assert_int_eq(waitpid(attached, &status, 0), attached);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "attached loader after release: status 0x%x", status);

	ck_assert_int_eq(unlink(path), 0);
	close(fd);
	close(ffd);
	stalled_fuse_unmount(fs);
	rmdir(dir);
}
END_TEST

void register_killable_tests(void)
{
	static const struct selftest_group group = { "killable", 120 };

	selftest_add(&group, killable_fault_on_locked_file_page);
}
