/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SysV shared memory backed by msharefs regions.  The real kernel segment
 * always exists at full size and answers everything a program can observe
 * (ids, keys, errors, IPC_STAT, ipcs, shm_nattch); a segment whose creator
 * made a region "sysv.<key>.<id>.<cpid>" is attached through that region.
 */
#ifndef SHIM_SYSV_H
#define SHIM_SYSV_H

#include <stddef.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int sysv_shmget(key_t key, size_t size, int shmflg);
void *sysv_shmat(int shmid, const void *shmaddr, int shmflg);
int sysv_shmdt(const void *shmaddr);
int sysv_shmctl(int shmid, int cmd, struct shmid_ds *buf);

/*
 * SysV through the kernel's shared tables (sysv-kernel.c): the value of
 * kernel.shm_share_mmu, or -1 if the kernel has no SHM_SHARE_MMU.
 */
int sysv_kernel_share_mmu(void);
int sysv_kernel_shmget(key_t key, size_t size, int shmflg);
void *sysv_kernel_shmat(int shmid, const void *shmaddr, int shmflg);
/* After IPC_RMID by this process: the id may come back as another segment. */
void sysv_kernel_forget(int shmid);
/* In the child after fork(): see shim_unbacked_after_fork_child(). */
void sysv_kernel_after_fork_child(void);

/* fork() handlers for the creation lock. */
void sysv_lock_for_fork(void);
void sysv_unlock_after_fork(void);
/* In the child: clears a cache slot another thread was filling. */
void sysv_after_fork_child(void);

#endif
