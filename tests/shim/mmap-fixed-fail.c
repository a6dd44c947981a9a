/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mmap(MAP_FIXED) over two backed mappings, with one of the shim's own
 * steps made to fail (ENOMEM from a seccomp filter: the shim's system
 * calls are raw and cannot be interposed).  A failed call must leave the
 * program's memory as it was; a call the shim can make without the
 * failing step must succeed.  For test-fake-mmap.sh and vm-mmap-tests.sh.
 *
 *   mmap-fixed-fail convert FILE1 FILE2
 *       maps FILE1, then FILE2 (8 MiB each; the second attachment lies
 *       right below the first), then MAP_FIXED over the last page of the
 *       lower and the first page of the upper mapping, while mmap(MAP_FIXED)
 *       at the lower attachment fails: both must be converted, the
 *       second conversion fails.  Prints the call's result, whether the
 *       rest of the upper attachment is still mapped, the upper mapping's
 *       permissions, and the lower's and what it reads.
 *   mmap-fixed-fail reserve-lower | reserve-any
 *       the same with two anonymous mappings, and MAP_FIXED over the whole
 *       lower attachment and the upper mapping (whose attachment goes on
 *       beyond the range), while an inaccessible MAP_FIXED reservation
 *       fails at the lower attachment (reserve-lower) or anywhere
 *       (reserve-any).  Prints the call's result and, for each old
 *       mapping, its permissions in /proc/self/maps and what it reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LEN (8UL << 20)
#define PAGE 4096UL

/* What filter_mmap() refuses. */
struct refusal {
	bool prot_none_only;	/* only inaccessible mappings */
	uintptr_t addr;		/* only at this address; 0: anywhere */
};

static int arg_low(int i)
{
	return (int)(offsetof(struct seccomp_data, args) + 8 * i);
}

/* mmap(MAP_FIXED) calls matching r fail with ENOMEM from now on. */
static int filter_mmap(struct refusal r)
{
	struct sock_filter prog[16];
	int n = 0, allow_jumps[8], jumps = 0;

#define STMT(code, k) (prog[n++] = (struct sock_filter)BPF_STMT(code, k))
/* Falls through on a match; jumps to "allow" (patched below) if not. */
#define MATCH_OR_ALLOW(code, k) \
	(allow_jumps[jumps++] = n, \
	 prog[n++] = (struct sock_filter)BPF_JUMP(code, k, 0, 0))

	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	MATCH_OR_ALLOW(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64);
	STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	MATCH_OR_ALLOW(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap);
	STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(3));
	MATCH_OR_ALLOW(BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED);
	if (r.prot_none_only) {
		STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(2));
		MATCH_OR_ALLOW(BPF_JMP | BPF_JEQ | BPF_K, PROT_NONE);
	}
	if (r.addr) {
		STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(0));
		MATCH_OR_ALLOW(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r.addr);
		STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(0) + 4);
		MATCH_OR_ALLOW(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(r.addr >> 32));
	}
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMEM);
	STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (int i = 0; i < jumps; i++)
		prog[allow_jumps[i]].jf = (uint8_t)(n - 1 - allow_jumps[i] - 1);

	struct sock_fprog fprog = { .len = (unsigned short)n, .filter = prog };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
}

/* The line of /proc/self/maps around p: its end and permissions. */
static bool maps_entry(const void *p, uintptr_t *end, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi) {
			*end = hi;
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static const char *perms_of(const void *p)
{
	static char perms[5];
	uintptr_t end;

	return maps_entry(p, &end, perms) ? perms : "none";
}

/* Backed: the mapping at p reaches beyond LEN (an attachment). */
static bool backed(const void *p)
{
	char perms[5];
	uintptr_t end;

	return maps_entry(p, &end, perms) && end - (uintptr_t)p > LEN;
}

static char *map_shared(const char *file)
{
	int fd = file ? open(file, O_RDWR) : -1;

	if (file && fd < 0)
		return MAP_FAILED;

	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (file ? 0 : MAP_ANONYMOUS), fd, 0);

	if (fd >= 0)
		close(fd);
	return p;
}

static void say_result(void *at, void *want)
{
	if (at == want)
		printf("mmap same address\n");
	else
		printf("mmap %s\n", at == MAP_FAILED && errno == ENOMEM ?
		       "ENOMEM" : at == MAP_FAILED ? strerror(errno) : "moved");
}

/* Reads a mapping only where it is readable. */
static void say_reads(const char *name, const char *p)
{
	const char *perms = perms_of(p);

	printf("%s perms %s reads %c\n", name, perms,
	       perms[0] == 'r' ? p[0] : '-');
}

/* upper, then lower right below it: both backed, attachments adjacent. */
static int map_pair(const char *file_upper, const char *file_lower,
		    char **upper, char **lower)
{
	*upper = map_shared(file_upper);
	*lower = map_shared(file_lower);
	if (*upper == MAP_FAILED || *lower == MAP_FAILED)
		return -1;
	if (!backed(*upper) || !backed(*lower)) {
		printf("not backed\n");
		return -1;
	}

	uintptr_t end;
	char perms[5];

	if (!maps_entry(*lower, &end, perms) || end != (uintptr_t)*upper) {
		printf("attachments not adjacent\n");
		return -1;
	}
	(*upper)[0] = 'u';
	(*lower)[0] = 'l';
	return 0;
}

static int convert_case(const char *file1, const char *file2)
{
	char *upper, *lower;

	if (map_pair(file1, file2, &upper, &lower) != 0)
		return 1;
	if (filter_mmap((struct refusal){ .addr = (uintptr_t)lower }) != 0) {
		perror("seccomp");
		return 1;
	}

	char *from = lower + LEN - PAGE;
	void *at = mmap(from, (size_t)(upper + PAGE - from), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			-1, 0);

	say_result(at, from);
	printf("upper's attachment beyond the mapping: %s\n",
	       perms_of(upper + LEN));
	/* Converted or not, it maps the file (on the fake not its data). */
	printf("upper perms %s\n", perms_of(upper));
	say_reads("lower", lower);
	return 0;
}

static int reserve_case(bool lower_only)
{
	char *upper, *lower;

	if (map_pair(NULL, NULL, &upper, &lower) != 0)
		return 1;
	if (filter_mmap((struct refusal){
			.prot_none_only = true,
			.addr = lower_only ? (uintptr_t)lower : 0 }) != 0) {
		perror("seccomp");
		return 1;
	}

	void *at = mmap(lower, (size_t)(upper + LEN - lower), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			-1, 0);

	say_result(at, lower);
	if (at == lower) {
		printf("range reads %d %d\n", lower[0], upper[0]);
		return 0;
	}
	say_reads("upper", upper);
	say_reads("lower", lower);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "convert") == 0)
		return convert_case(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "reserve-lower") == 0)
		return reserve_case(true);
	if (argc == 2 && strcmp(argv[1], "reserve-any") == 0)
		return reserve_case(false);
	fprintf(stderr, "usage: see the comment at the top of mmap-fixed-fail.c\n");
	return 2;
}
