/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exercises SysV shared memory the way programs do and prints what it saw,
 * one fact per line, with nothing that differs between runs (no ids, no
 * addresses, no times).  test-passthrough.sh runs it with and without the
 * shim and requires identical output.
 *
 * Usage: shm-ops KEY   (a key no other segment uses; KEY+1 is used too)
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (4u << 20)

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* Prints "label: ok" or "label: ERRNO" for a call returning -1 on error. */
static int report(const char *label, int rc)
{
	if (rc == -1)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: ok\n", label);
	return rc;
}

static void *report_attach(const char *label, void *addr)
{
	if (addr == (void *)-1)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: ok\n", label);
	return addr;
}

static void print_stat(const char *label, int id)
{
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds) != 0) {
		printf("%s: IPC_STAT %s\n", label, errname(errno));
		return;
	}
	printf("%s: segsz=%zu mode=%04o dest=%d nattch=%lu cpid_is_me=%d uid_is_me=%d cuid_is_me=%d\n",
	       label, (size_t)ds.shm_segsz, ds.shm_perm.mode & 0777,
	       !!(ds.shm_perm.mode & SHM_DEST), (unsigned long)ds.shm_nattch,
	       ds.shm_cpid == getpid(), ds.shm_perm.uid == geteuid(),
	       ds.shm_perm.cuid == geteuid());
}

static sigjmp_buf segv_jump;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jump, 1);
}

/* Does writing to p fault? */
static int write_faults(volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	int faulted = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jump, 1) == 0)
		*p = 1;
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s KEY\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	key_t key = (key_t)strtoul(argv[1], NULL, 0);
	int id = report("create excl", shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0600));

	if (id < 0)
		return 1;
	report("create excl again", shmget(key, SIZE, IPC_CREAT | IPC_EXCL | 0600));
	printf("create again same id: %d\n",
	       shmget(key, SIZE, IPC_CREAT | 0600) == id);
	printf("lookup smaller same id: %d\n", shmget(key, 56, 0600) == id);
	report("lookup larger", shmget(key, SIZE * 2, 0600));
	report("lookup absent", shmget(key + 1, SIZE, 0600));
	report("create zero size", shmget(key + 1, 0, IPC_CREAT | 0600));
	print_stat("fresh", id);

	char *p = report_attach("attach", shmat(id, NULL, 0));

	if (p == (void *)-1)
		return 1;
	printf("attach page aligned: %d\n", ((uintptr_t)p & 4095) == 0);
	printf("zero filled: %d\n", p[0] == 0 && p[SIZE - 1] == 0);
	strcpy(p, "hello from the parent");
	p[SIZE - 1] = 'z';
	print_stat("attached once", id);

	pid_t child = fork();

	if (child == 0) {
		print_stat("child inherits", id);
		char *q = shmat(id, NULL, 0);

		printf("child second attach sees data: %d\n",
		       q != (void *)-1 && strcmp(q, "hello from the parent") == 0);
		print_stat("child attached twice", id);
		strcpy(p, "hello from the child");
		shmdt(q);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	printf("parent sees child write: %d\n", strcmp(p, "hello from the child") == 0);
	print_stat("after child exit", id);

	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	usleep(100000);
	print_stat("child alive", id);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	print_stat("child killed", id);

	char *ro = report_attach("attach read-only", shmat(id, NULL, SHM_RDONLY));

	if (ro != (void *)-1) {
		printf("read-only sees data: %d\n", ro[SIZE - 1] == 'z');
		printf("read-only write faults: %d\n", write_faults(ro));
		report("detach read-only", shmdt(ro));
	}
	report("attach unaligned", shmat(id, p + 1, 0) == (void *)-1 ? -1 : 0);
	report("detach not attached", shmdt(p + 4096));
	report("attach bad id", shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0);

	struct shmid_ds ds;

	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0640;
	report("IPC_SET", shmctl(id, IPC_SET, &ds));
	print_stat("after IPC_SET", id);
	report("IPC_INFO", shmctl(id, IPC_INFO, (struct shmid_ds *)&(struct shminfo){0}) < 0 ? -1 : 0);
	report("bad cmd", shmctl(id, 12345, &ds));

	report("IPC_RMID", shmctl(id, IPC_RMID, NULL));
	print_stat("removed, attached", id);
	report("lookup removed", shmget(key, SIZE, 0600));
	printf("data survives removal: %d\n", strcmp(p, "hello from the child") == 0);
	report("detach", shmdt(p));
	print_stat("removed, detached", id);
	report("IPC_RMID again", shmctl(id, IPC_RMID, NULL));

	int priv = report("private", shmget(IPC_PRIVATE, SIZE, 0600));

	if (priv >= 0) {
		printf("private is new: %d\n", priv != id);
		char *pp = report_attach("attach private", shmat(priv, NULL, 0));

		if (pp != (void *)-1) {
			pp[0] = 'p';
			report("detach private", shmdt(pp));
		}
		print_stat("private", priv);
		report("remove private", shmctl(priv, IPC_RMID, NULL));
	}
	return 0;
}
