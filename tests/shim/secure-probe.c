/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linked against libmshare-shim.so (not preloaded: the loader ignores a
 * preload path in secure execution), so that a set-user-ID copy of it runs
 * the shim with AT_SECURE set.  Makes one 128 MiB IPC_PRIVATE segment and
 * removes it; whatever the shim has to say goes to stderr.
 * test-shim-secure.sh runs it.
 */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void)
{
	int id = shmget(IPC_PRIVATE, 128 << 20, IPC_CREAT | 0600);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	printf("secure %lu shmget %s\n", getauxval(AT_SECURE), id >= 0 ? "ok" : "failed");
	return 0;
}
