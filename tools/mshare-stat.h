/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-stat's model of a msharefs mount, shared by the collection
 * (mshare-stat.c) and the outputs: tables and JSON through libsmartcols
 * (mshare-stat-table.c) and the Prometheus text format (mshare-stat-prom.c).
 */
#ifndef MSHARE_STAT_H
#define MSHARE_STAT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum exit_code {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_UNSUPPORTED = 3,
	EXIT_NOT_MOUNTED = 4,
	EXIT_PERMISSION = 5,
};

/* A row of /proc/sysvipc/shm. */
struct segment {
	uint32_t key;
	int64_t shmid;
	unsigned perms;
	uint64_t size;
	int64_t cpid;
	uint64_t nattch;
	uid_t uid;
	gid_t gid;
	bool has_rss;		/* the rss column is there */
	uint64_t rss;		/* resident bytes of the segment */
};

/*
 * KIND_KERNEL: not a file in the mount but a SysV segment whose page tables
 * the kernel shares itself (shmat() with SHM_SHARE_MMU), found through the
 * attachments in /proc/PID/maps.
 */
enum kind { KIND_SYSV, KIND_FILE, KIND_CREATING, KIND_TMP, KIND_OTHER, KIND_KERNEL };
extern const char *const kind_names[];

enum sysv_state { SYSV_LIVE, SYSV_GONE, SYSV_REUSED, SYSV_UNKNOWN };
extern const char *const sysv_state_names[];

struct attacher {
	pid_t pid;
	unsigned vmas;
	bool foreign_ns;	/* another IPC or pid namespace than ours */
	char comm[32];
};

enum { INFO_SIZE, INFO_MAPPED, INFO_RSS, INFO_PGTABLES, INFO_ATTACHMENTS, INFO_COUNT };

struct region {
	char name[NAME_MAX + 1];
	enum kind kind;
	bool unlinked;			/* gone from the directory, still mapped */
	struct stat st;
	int open_errno;			/* 0: fdinfo was read */
	bool has[INFO_COUNT];		/* size mapped rss pgtables attachments */
	uint64_t info[INFO_COUNT];
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

/* What was found: the mount, its regions and the totals over them. */
struct mount_state {
	bool supported;			/* msharefs in /proc/filesystems */
	bool mounted;
	bool kernel_sysv;		/* the kernel shares SysV page tables */
	const char *dir;		/* NULL when not mounted */
	uint64_t alignment;
	struct region *regions;
	size_t nregions;
	struct region *unlinked;	/* unlinked regions still mapped */
	size_t nunlinked;
	unsigned procs_unreadable;
	uint64_t total_bytes;
	uint64_t total_attachments;
	uint64_t total_saved;
	bool total_saved_complete;	/* every region reported its usage */
};

/* One region's --gc outcome. */
enum gc_action { GC_REMOVED, GC_WOULD_REMOVE, GC_FAILED, GC_KEPT };

struct gc_result {
	const char *name;
	char reason[256];
	enum gc_action action;
	int err;			/* GC_FAILED: the errno */
};

/* Output options, as given on the command line. */
struct output_options {
	const char *columns;		/* --output, NULL: the default set */
	bool json, raw, noheadings, bytes;
};

/* mshare-stat.c */
bool pid_alive(pid_t pid);
const char *human(uint64_t bytes, char *buf, size_t size);
/* data (malloc'd, freed) as valid UTF-8 (malloc'd). */
char *valid_utf8(char *data);

/* mshare-stat-table.c: each returns an exit code. */
int print_columns_help(void);
bool columns_valid(const char *list);
int print_regions(const struct mount_state *m, const struct output_options *o);
int print_gc(const struct mount_state *m, const struct gc_result *results,
	     size_t count, bool dry_run, const struct output_options *o);
/* The condition that stops mshare-stat, as JSON (--json). */
void print_error_json(bool supported, bool mounted, const char *message, int code);

/* mshare-stat-prom.c */
int print_prometheus(const struct mount_state *m);

#endif
