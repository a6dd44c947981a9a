/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shim's configuration: MSHARE_SHIM_* variables from the environment,
 * or the same KEY=VALUE lines in the file named by MSHARE_SHIM_CONFIG (the
 * environment wins, variable by variable).  Everything lives in fixed
 * buffers so the result can sit in static storage and be read from any
 * interposed call without allocation.
 */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/keymatch.h"

enum shim_mode {
	SHIM_MODE_OFF,		/* no behaviour change at all */
	SHIM_MODE_TRY,		/* back what can be backed, else the system call */
	SHIM_MODE_STRICT,	/* back what is configured, else fail the call */
};

/* How configured SysV segments share page tables (MSHARE_SHIM_SYSV). */
enum shim_sysv_tables {
	SHIM_SYSV_AUTO,		/* the kernel's where it has them, else regions */
	SHIM_SYSV_KERNEL,	/* only shmat(SHM_SHARE_MMU) */
	SHIM_SYSV_REGIONS,	/* only the shim's msharefs regions */
};

enum shim_log_level {
	SHIM_LOG_ERROR,
	SHIM_LOG_WARN,
	SHIM_LOG_INFO,
	SHIM_LOG_DEBUG,
};

/*
 * Why 64 MiB: every backed segment is a region that takes one alignment unit
 * (512 GiB on x86_64) of address space in each attaching process, and only
 * about 250 such units fit in a 47-bit address space; a small segment saves
 * little page-table memory (1/512 of its size per process) for that price.
 */
#define SHIM_DEFAULT_MIN_SIZE (64ULL << 20)

#define SHIM_EXE_LIST_MAX 512
#define SHIM_FILES_MAX 2048
#define SHIM_ERROR_MAX 512

struct shim_config {
	enum shim_mode mode;
	enum shim_sysv_tables sysv_tables;
	enum shim_log_level log_level;
	struct shim_keylist shm;
	uint64_t min_size;
	char exe_list[SHIM_EXE_LIST_MAX];	/* "" = every executable */
	char files[SHIM_FILES_MAX];		/* MSHARE_SHIM_FILES; "" = none */
	bool anon_set;				/* MSHARE_SHIM_ANON given */
	uint64_t anon_min;			/* its threshold */
	char mount[PATH_MAX];
	char log_file[PATH_MAX];		/* "" = stderr */
	bool malformed;
	char error[SHIM_ERROR_MAX];		/* the first problem found */
	char syslog_socket[PATH_MAX];		/* MSHARE_SHIM_SYSLOG; "" = none */
};

/* Where values come from; the tests substitute their own environment. */
typedef const char *(*shim_getenv_fn)(const char *name, void *context);

/* Never fails: problems set malformed + error and keep safe defaults. */
void shim_config_load(struct shim_config *config,
		      shim_getenv_fn getenv_fn, void *context);

/*
 * Is there an MSHARE_SHIM_* name in envp ("NAME=value" strings) that is no
 * variable of the shim's (a misspelling, say)?  Copies the first such name
 * to name (size bytes).
 */
bool shim_config_unknown_variable(const char *const *envp, char *name,
				  size_t size);

/*
 * May a set-user-ID program read its configuration from this file?  Only
 * if it is a regular file owned by root that no one else may write, in a
 * directory owned by root that no one else may write (file: lstat()).
 */
struct stat;
bool shim_config_file_trusted(const struct stat *file, const struct stat *dir);

/* Is this executable basename one the shim should act in? */
bool shim_config_exe_selected(const struct shim_config *config,
			      const char *exe_basename);

#endif
