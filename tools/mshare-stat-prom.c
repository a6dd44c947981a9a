/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-stat --prometheus: the Prometheus text exposition format, for
 * node-exporter's textfile collector (write to a .prom file, then rename).
 * Totals per mount, and per region; sizes in bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mshare-stat.h"

/* A label value: UTF-8, backslash, double quote and newline escaped. */
static void label_value(const char *value)
{
	char *copy = strdup(value), *clean;

	if (!copy) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	clean = valid_utf8(copy);
	putchar('"');
	for (const char *s = clean; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
	putchar('"');
	free(clean);
}

static void header(const char *metric, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

static void mount_sample(const char *metric, const struct mount_state *m, uint64_t value)
{
	printf("%s{mount=", metric);
	label_value(m->dir ? m->dir : "");
	printf("} %" PRIu64 "\n", value);
}

static void region_sample(const char *metric, const struct mount_state *m,
			  const struct region *r, uint64_t value)
{
	printf("%s{mount=", metric);
	label_value(m->dir ? m->dir : "");
	printf(",region=");
	label_value(r->name);
	printf(",kind=\"%s\"} %" PRIu64 "\n", kind_names[r->kind], value);
}

int print_prometheus(const struct mount_state *m)
{
	header("mshare_supported", "1 if the kernel supports msharefs.");
	printf("mshare_supported %d\n", m->supported ? 1 : 0);
	header("mshare_mounted", "1 if msharefs is mounted (and mshare-stat could read it).");
	mount_sample("mshare_mounted", m, m->mounted ? 1 : 0);
	header("mshare_kernel_shares_sysv",
	       "1 if the kernel shares SysV segments' page tables itself (shmat() with SHM_SHARE_MMU).");
	printf("mshare_kernel_shares_sysv %d\n", m->kernel_sysv ? 1 : 0);
	if (!m->mounted && !m->kernel_sysv)
		return EXIT_OK;

	header("mshare_regions",
	       "Regions: those in the msharefs mount and SysV segments attached with page tables the kernel shares.");
	mount_sample("mshare_regions", m, m->nregions);
	header("mshare_bytes", "Total size of the regions in bytes.");
	mount_sample("mshare_bytes", m, m->total_bytes);
	header("mshare_attachments", "Attachments of all regions.");
	mount_sample("mshare_attachments", m, m->total_attachments);
	header("mshare_pgtables_saved_bytes",
	       "Page-table bytes saved now by sharing, all regions ((attachments - 1) x the region's page tables).");
	mount_sample("mshare_pgtables_saved_bytes", m, m->total_saved);
	header("mshare_pgtables_saved_complete",
	       "1 if every region reported its page-table usage (else the saving is a lower bound).");
	mount_sample("mshare_pgtables_saved_complete", m, m->total_saved_complete ? 1 : 0);

	header("mshare_region_bytes", "Size of the region in bytes.");
	for (size_t i = 0; i < m->nregions; i++)
		region_sample("mshare_region_bytes", m, &m->regions[i],
			      (uint64_t)m->regions[i].st.st_size);
	header("mshare_region_attachments", "Attachments of the region.");
	for (size_t i = 0; i < m->nregions; i++)
		region_sample("mshare_region_attachments", m, &m->regions[i],
			      m->regions[i].attachments_used);
	header("mshare_region_pgtables_saved_bytes",
	       "Page-table bytes the region's sharing saves now (regions that report usage).");
	for (size_t i = 0; i < m->nregions; i++)
		if (m->regions[i].saving_known)
			region_sample("mshare_region_pgtables_saved_bytes", m, &m->regions[i],
				      m->regions[i].saved);
	return EXIT_OK;
}
