/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program that closes every descriptor and opens its own data file under
 * the freed numbers, then makes the shim say something, for
 * test-shim-fds.sh (host) and vm-mmap-tests.sh.
 *
 *   fd-reuse log DATA       closes fds 3 and up, opens DATA (it gets 3)
 *                           and dup2()s it onto 100-131, writes "data",
 *                           then shmget(IPC_PRIVATE, 128M): on a host
 *                           without msharefs the shim logs why it passes
 *                           through
 *   fd-reuse stderr DATA    the same with fd 2 closed first, so DATA is
 *                           also stderr
 *   fd-reuse stderrpipe      redirects stderr to a pipe with dup2() (as
 *                           PostgreSQL's logging collector does), makes
 *                           the shim say something (as for log) and
 *                           prints "pipe: " and what came through
 *   fd-reuse mapping FILE DATA   maps FILE (backed by the shim), then
 *                           prints "backed yes|no" (an attachment is
 *                           longer than the file), closes everything and
 *                           puts DATA on fds 3 and 100-131; unmaps the second half (a
 *                           conversion), prints the first byte of the
 *                           first half, unmaps the rest, and prints
 *                           "fds open N" (of 100-131)
 *   fd-reuse remap FILE     maps FILE (backed), closes every descriptor,
 *                           maps FILE again (the shim's new descriptors
 *                           get the numbers of the first mapping's),
 *                           unmaps the first mapping whole, then the
 *                           second half of the second (a conversion,
 *                           which needs the shim's descriptor of FILE):
 *                           prints "backed yes|no" twice, "partial
 *                           munmap N" and "munmap N"
 *   fd-reuse samefile FILE  maps FILE (backed), closes every descriptor,
 *                           opens FILE itself and dup2()s it onto 100-131
 *                           (the numbers of the shim's own descriptors
 *                           of the same file), unmaps the second half
 *                           and the rest: prints "backed yes|no",
 *                           "partial munmap N", "munmap N" and "fds of
 *                           the file N" (of 100-131: a number the shim
 *                           closed may hold its log file again)
 *   fd-reuse emfile LEN     uses up every descriptor, maps LEN bytes of
 *                           anonymous MAP_SHARED memory, frees them and
 *                           maps again: prints "first backed yes|no" and
 *                           "second backed yes|no" (a probe that failed
 *                           with EMFILE must not turn backing off for
 *                           good)
 * The caller then checks that DATA still holds exactly "data".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FIRST_HIGH 100
#define HIGH_COUNT 32

/* Closes 3 and up; puts DATA at the lowest free number and at 100-131. */
static int take_over_fds(const char *data)
{
	syscall(SYS_close_range, 3U, ~0U, 0U);

	int fd = open(data, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	for (int i = 0; i < HIGH_COUNT; i++)
		dup2(fd, FIRST_HIGH + i);
	if (write(fd, "data", 4) != 4)
		return -1;
	return fd;
}

static int count_open_high(void)
{
	int n = 0;

	for (int i = 0; i < HIGH_COUNT; i++)
		n += fcntl(FIRST_HIGH + i, F_GETFD) >= 0;
	return n;
}

static int log_case(const char *data)
{
	if (take_over_fds(data) < 0)
		return 1;

	int id = shmget(IPC_PRIVATE, 128 << 20, IPC_CREAT | 0600);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	return 0;
}

static int stderr_pipe_case(void)
{
	int p[2];
	char buf[512];

	if (pipe(p) != 0 || dup2(p[1], 2) != 2)
		return 1;
	close(p[1]);

	int id = shmget(IPC_PRIVATE, 128 << 20, IPC_CREAT | 0600);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	close(2);

	ssize_t n = read(p[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	printf("pipe: %s", n > 0 ? buf : "nothing\n");
	return 0;
}

/* Is the mapping at p longer than len (an attachment)? */
static const char *backed(const char *p, size_t len)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	const char *result = "no";

	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    (unsigned long)p >= lo && (unsigned long)p < hi) {
			result = hi - lo > len ? "yes" : "no";
			break;
		}
	}
	if (maps)
		fclose(maps);
	return result;
}

static int mapping_case(const char *file, const char *data)
{
	int fd = open(file, O_RDWR);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0)
		return 1;

	size_t len = (size_t)st.st_size, half = len / 2;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return 1;
	printf("backed %s\n", backed(p, len));
	if (take_over_fds(data) < 0)
		return 1;

	int rc = munmap(p + half, len - half);

	printf("partial munmap %d\n", rc);
	if (rc == 0)
		printf("first byte %c\n", p[0]);
	printf("munmap %d\n", munmap(p, rc == 0 ? half : len));
	printf("fds open %d\n", count_open_high());
	return 0;
}

static char *map_whole(const char *file, size_t *len)
{
	int fd = open(file, O_RDWR);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0)
		return MAP_FAILED;
	*len = (size_t)st.st_size;

	char *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	close(fd);
	return p;
}

static int remap_case(const char *file)
{
	size_t len;
	char *first = map_whole(file, &len);

	if (first == MAP_FAILED)
		return 1;
	printf("backed %s\n", backed(first, len));
	syscall(SYS_close_range, 3U, ~0U, 0U);

	char *second = map_whole(file, &len);

	if (second == MAP_FAILED)
		return 1;
	printf("backed %s\n", backed(second, len));
	munmap(first, len);

	int rc = munmap(second + len / 2, len - len / 2);

	printf("partial munmap %d\n", rc);
	printf("munmap %d\n", munmap(second, rc == 0 ? len / 2 : len));
	return 0;
}

/* How many of 100-131 are still the file open as ref. */
static int count_same_file(int ref)
{
	struct stat want, st;
	int n = 0;

	if (fstat(ref, &want) != 0)
		return -1;
	for (int i = 0; i < HIGH_COUNT; i++)
		n += fstat(FIRST_HIGH + i, &st) == 0 && st.st_dev == want.st_dev &&
		     st.st_ino == want.st_ino;
	return n;
}

static int samefile_case(const char *file)
{
	size_t len;
	char *p = map_whole(file, &len);

	if (p == MAP_FAILED)
		return 1;
	printf("backed %s\n", backed(p, len));
	syscall(SYS_close_range, 3U, ~0U, 0U);

	int fd = open(file, O_RDWR);

	if (fd < 0)
		return 1;
	for (int i = 0; i < HIGH_COUNT; i++)
		dup2(fd, FIRST_HIGH + i);

	int rc = munmap(p + len / 2, len - len / 2);

	printf("partial munmap %d\n", rc);
	printf("munmap %d\n", munmap(p, rc == 0 ? len / 2 : len));
	printf("fds of the file %d\n", count_same_file(fd));
	return 0;
}

static int emfile_case(size_t len)
{
	struct rlimit few = { 64, 64 };
	int first = -1, last = -1;

	if (setrlimit(RLIMIT_NOFILE, &few) != 0)
		return 1;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0)
			break;
		if (first < 0)
			first = fd;
		last = fd;
	}

	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	for (int fd = first; first >= 0 && fd <= last; fd++)
		close(fd);
	if (p == MAP_FAILED)
		return 1;
	printf("first backed %s\n", backed(p, len));
	munmap(p, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return 1;
	printf("second backed %s\n", backed(p, len));
	munmap(p, len);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "log") == 0)
		return log_case(argv[2]);
	if (argc == 3 && strcmp(argv[1], "stderr") == 0) {
		close(2);
		return log_case(argv[2]);
	}
	if (argc == 2 && strcmp(argv[1], "stderrpipe") == 0)
		return stderr_pipe_case();
	if (argc == 3 && strcmp(argv[1], "emfile") == 0)
		return emfile_case(strtoull(argv[2], NULL, 0));
	if (argc == 3 && strcmp(argv[1], "samefile") == 0)
		return samefile_case(argv[2]);
	if (argc == 3 && strcmp(argv[1], "remap") == 0)
		return remap_case(argv[2]);
	if (argc == 4 && strcmp(argv[1], "mapping") == 0)
		return mapping_case(argv[2], argv[3]);
	fprintf(stderr, "usage: see the comment at the top of fd-reuse.c\n");
	return 2;
}
