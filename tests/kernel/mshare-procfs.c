/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Readers for /proc numbers, and writers; see mshare-procfs.h. */
#include "mshare-procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Scans "KEY<SEP>value ..." lines of FILE ("Key: 12 kB" in status and
 * meminfo, "key 12" in vmstat) for KEY and returns the number, or -1.
 */
static long keyed_number(const char *file, const char *key, char sep)
{
	char line[256];
	size_t keylen = strlen(key);
	long value = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, keylen) == 0 && line[keylen] == sep) {
			value = strtol(line + keylen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

long proc_self_status_kb(const char *key)
{
	return keyed_number("/proc/self/status", key, ':');
}

long meminfo_kb(const char *key)
{
	return keyed_number("/proc/meminfo", key, ':');
}

long vmstat_count(const char *key)
{
	return keyed_number("/proc/vmstat", key, ' ');
}

long percpu_free_kb(void)
{
	char line[256];
	long pages = 0, count;
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f)
		return -1;
	/* "count:" appears only in the per-CPU pagesets of each zone. */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &count) == 1)
			pages += count;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

long file_number(const char *path)
{
	long value = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &value) != 1)
		value = -1;
	fclose(f);
	return value;
}

long nr_hugepages(void)
{
	return file_number("/proc/sys/vm/nr_hugepages");
}

size_t default_hugepage_size(void)
{
	long kb = meminfo_kb("Hugepagesize");

	return kb > 0 ? (size_t)kb * 1024 : 0;
}

int smaps_shares_tables(const void *addr)
{
	char line[4352];
	int found = -1;
	bool in_vma = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_vma = lo == (unsigned long)addr;
			continue;
		}
		if (in_vma && strncmp(line, "VmFlags:", 8) == 0) {
			found = strstr(line, " st ") || strstr(line, " st\n");
			break;
		}
	}
	fclose(f);
	return found;
}

int maps_lookup(const void *addr, unsigned long *end, char *path,
		size_t pathlen)
{
	char line[4352];
	int found = -1;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		int name_at = 0;

		/* start-end perms offset dev inode [path] */
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi,
			   &name_at) < 2)
			continue;
		if (lo != (unsigned long)addr)
			continue;
		*end = hi;
		if (name_at > 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, pathlen, "%s", line + name_at);
		} else if (pathlen) {
			path[0] = '\0';
		}
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

int find_hugetlbfs_mount(char *dir, size_t dirlen)
{
	char src[256], mnt[4096], type[64];
	int found = -1;
	FILE *f = fopen("/proc/mounts", "re");

	if (!f)
		return -1;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", src, mnt, type) == 3) {
		if (strcmp(type, "hugetlbfs") == 0) {
			snprintf(dir, dirlen, "%s", mnt);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

bool write_text_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, (size_t)len) == len;
	close(fd);
	return ok;
}

const char *cgroup_memory_setup(void)
{
	if (access(CGROUP_ROOT "/cgroup.controllers", R_OK) != 0 &&
	    mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL) != 0)
		return "no cgroup2 file system (CONFIG_CGROUPS)";
	if (!write_text_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return "no memory controller (CONFIG_MEMCG)";
	return NULL;
}

bool cgroup_memory_create(const char *dir)
{
	return !cgroup_memory_setup() && mkdir(dir, 0755) == 0;
}

bool cgroup_join(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	return write_text_file(path, "0");
}

int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}
