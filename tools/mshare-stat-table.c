/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mshare-stat's tables, lsipc style, through libsmartcols: the regions
 * (columns chosen with --output), the summary and the --gc outcome; as
 * text, raw or JSON.  The JSON document joins libsmartcols' tables under
 * one object that carries the format version.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <libsmartcols.h>

#include "mshare-stat.h"

/*
 * Bumped when a key changes meaning or disappears; new keys do not bump it.
 * 1: {"format_version", "mshare": [summary], "regions" | "gc": [rows]}.
 */
#define JSON_FORMAT_VERSION 1

/* Attachers named one by one in PROCS before "+N more". */
#define PROCS_NAMED 3

static bool json_cells;		/* the table being filled is for JSON */

enum column_id {
	COL_NAME, COL_KIND, COL_SIZE, COL_OWNER, COL_GROUP, COL_PERMS, COL_STATE,
	COL_BACKS, COL_KEY, COL_SHMID, COL_CPID, COL_PATH, COL_MAPPED, COL_RSS,
	COL_PGTABLES, COL_ATTACH, COL_NPROCS, COL_PROCS, COL_PIDS, COL_SAVED,
	COL_METHOD, COL_COUNT
};

struct column_info {
	const char *name;
	double width;		/* libsmartcols width hint */
	int flags;
	int json_type;
	bool is_default;
	const char *help;
};

static const struct column_info columns[COL_COUNT] = {
	[COL_NAME] = { "NAME", 0.2, SCOLS_FL_NOEXTREMES, SCOLS_JSON_STRING, true,
		"region file name" },
	[COL_KIND] = { "KIND", 1, 0, SCOLS_JSON_STRING, true,
		"sysv, file, creating, tmp, other; kernel: a SysV segment whose page tables the kernel shares" },
	[COL_SIZE] = { "SIZE", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
		"region size (its address-space reservation); kernel: the segment's size" },
	[COL_OWNER] = { "OWNER", 5, 0, SCOLS_JSON_STRING, true, "owner" },
	[COL_GROUP] = { "GROUP", 5, 0, SCOLS_JSON_STRING, false, "group" },
	[COL_PERMS] = { "PERMS", 4, 0, SCOLS_JSON_STRING, true, "mode, octal" },
	[COL_STATE] = { "STATE", 6, 0, SCOLS_JSON_STRING, true,
		"sysv: live, gone, reused, unknown; file: mapped, unmapped; creating/tmp: building, stale; unlinked" },
	[COL_ATTACH] = { "ATTACH", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
		"attachments (mshare_attachments, or mappings seen)" },
	[COL_PROCS] = { "PROCS", 0.2, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, true,
		"attached processes, summarised by command" },
	[COL_SAVED] = { "SAVED", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, true,
		"page-table bytes the sharing saves now" },
	[COL_BACKS] = { "BACKS", 0.3, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, true,
		"what the region backs" },
	[COL_KEY] = { "KEY", 10, 0, SCOLS_JSON_STRING, false, "sysv: the key" },
	[COL_SHMID] = { "SHMID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false, "sysv: the id" },
	[COL_CPID] = { "CPID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		"sysv: creator pid; creating/tmp: owner pid" },
	[COL_PATH] = { "PATH", 0.3, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, false,
		"file: the backed file" },
	[COL_MAPPED] = { "MAPPED", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		"bytes mapped in the region" },
	[COL_RSS] = { "RSS", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false, "resident bytes" },
	[COL_PGTABLES] = { "PGTABLES", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		"bytes of the region's one set of page tables" },
	[COL_NPROCS] = { "NPROCS", 3, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, false,
		"number of attached processes" },
	[COL_PIDS] = { "PIDS", 6, SCOLS_FL_WRAP, SCOLS_JSON_ARRAY_NUMBER, false,
		"attached pids, one per line" },
	[COL_METHOD] = { "METHOD", 0.3, SCOLS_FL_TRUNC, SCOLS_JSON_STRING, false,
		"how SAVED is computed" },
};

/* The order of the default set. */
static const enum column_id default_columns[] = {
	COL_NAME, COL_KIND, COL_SIZE, COL_OWNER, COL_PERMS, COL_STATE, COL_ATTACH,
	COL_SAVED, COL_PROCS, COL_BACKS,
};

int print_columns_help(void)
{
	printf("Columns (--output; the default set is marked *):\n");
	for (int i = 0; i < COL_COUNT; i++)
		printf(" %c%-9s %s\n", columns[i].is_default ? '*' : ' ', columns[i].name,
		       columns[i].help);
	return EXIT_OK;
}

static int column_by_name(const char *name, size_t len)
{
	for (int i = 0; i < COL_COUNT; i++)
		if (strlen(columns[i].name) == len && !strncasecmp(columns[i].name, name, len))
			return i;
	return -1;
}

/* --output LIST, or +LIST after the default set, into ids; the count. */
static size_t parse_columns(const char *list, enum column_id *ids, size_t max, bool report)
{
	size_t n = 0;

	if (!list || list[0] == '+') {
		for (size_t i = 0; i < sizeof(default_columns) / sizeof(default_columns[0]); i++)
			ids[n++] = default_columns[i];
		if (!list)
			return n;
		list++;
	}
	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		int id = column_by_name(p, len);

		if (id < 0) {
			if (report)
				fprintf(stderr, "mshare-stat: --output: unknown column '%.*s' (see --help)\n",
					(int)len, p);
			return 0;
		}
		if (n == max) {
			if (report)
				fprintf(stderr, "mshare-stat: --output: too many columns\n");
			return 0;
		}
		ids[n++] = (enum column_id)id;
		if (!p[len])
			return n;
		p += len + 1;
	}
}

bool columns_valid(const char *list)
{
	enum column_id ids[64];

	return parse_columns(list, ids, 64, true) > 0;
}

/* ---- cells ----------------------------------------------------------------- */

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	va_end(ap);
	return s;
}

/* A byte count: a number for JSON and --bytes, else "64 MiB". */
static char *bytes_cell(uint64_t v, const struct output_options *o)
{
	char h[32];

	if (o->json || o->bytes)
		return xasprintf("%" PRIu64, v);
	return xasprintf("%s", human(v, h, sizeof(h)));
}

static const char *region_state(const struct region *r)
{
	if (r->unlinked)
		return "unlinked";
	switch (r->kind) {
	case KIND_SYSV:
	case KIND_KERNEL:
		return sysv_state_names[r->sysv_state];
	case KIND_FILE:
		return r->nattachers ? "mapped" : "unmapped";
	case KIND_CREATING:
	case KIND_TMP:
		if (r->owner_pid <= 0)
			return "unknown";
		return pid_alive((pid_t)r->owner_pid) ? "building" : "stale";
	case KIND_OTHER:
		break;
	}
	return "unknown";
}

static char *backs_cell(const struct region *r)
{
	switch (r->kind) {
	case KIND_SYSV:
		return xasprintf("SysV key 0x%08" PRIx32 "%s, id %" PRId64 ", creator pid %" PRId64,
				 r->key, r->key ? "" : " (IPC_PRIVATE)", r->shmid, r->cpid);
	case KIND_KERNEL:
		return xasprintf("SysV key 0x%08" PRIx32 "%s, id %" PRId64 ", creator pid %" PRId64 ", page tables shared by the kernel",
				 r->key, r->key ? "" : " (IPC_PRIVATE)", r->shmid, r->cpid);
	case KIND_FILE: {
		char h[32], prot[8] = "";
		char *where = r->path ? xasprintf("%s", r->path) :
			xasprintf("file %u:%u inode %" PRIu64, major(r->dev), minor(r->dev), r->ino);
		char *cell;

		if (r->prot >= 0)
			snprintf(prot, sizeof(prot), ", %s%s%s", r->prot & 1 ? "r" : "-",
				 r->prot & 2 ? "w" : "-", r->prot & 4 ? "x" : "-");
		cell = xasprintf("%s, offset %" PRIu64 ", length %s, euid %" PRIu64 "%s", where,
				 r->offset, human(r->length, h, sizeof(h)), r->euid, prot);
		free(where);
		return cell;
	}
	case KIND_CREATING:
	case KIND_TMP:
		if (r->owner_pid > 0)
			return xasprintf("nothing yet (pid %" PRId64 ")", r->owner_pid);
		return xasprintf("nothing yet");
	case KIND_OTHER:
		break;
	}
	return xasprintf("unknown (not a name libmshare-shim uses)");
}

/* "postgres x1498, psql x2, +3 more": the commands, most frequent first. */
static char *procs_cell(const struct region *r)
{
	struct {
		const char *comm;
		size_t count;
	} *tally = calloc(r->nattachers ? r->nattachers : 1, sizeof(*tally));
	size_t ncomm = 0, len = 0;
	char *out;

	if (!tally) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	for (size_t i = 0; i < r->nattachers; i++) {
		size_t j;

		for (j = 0; j < ncomm && strcmp(tally[j].comm, r->attachers[i].comm); j++)
			;
		if (j == ncomm)
			tally[ncomm++].comm = r->attachers[i].comm;
		tally[j].count++;
	}
	/* A few names: a selection of the largest is enough. */
	for (size_t i = 0; i < ncomm && i < PROCS_NAMED; i++)
		for (size_t j = i + 1; j < ncomm; j++)
			if (tally[j].count > tally[i].count) {
				__typeof__(*tally) t = tally[i];

				tally[i] = tally[j];
				tally[j] = t;
			}
	out = xasprintf("%s", "");
	for (size_t i = 0; i < ncomm && i < PROCS_NAMED; i++) {
		char *next;

		if (tally[i].count > 1)
			next = xasprintf("%s%s%s x%zu", out, len ? ", " : "", tally[i].comm,
					 tally[i].count);
		else
			next = xasprintf("%s%s%s", out, len ? ", " : "", tally[i].comm);
		free(out);
		out = next;
		len = strlen(out);
	}
	if (ncomm > PROCS_NAMED) {
		char *next = xasprintf("%s, +%zu more", out, ncomm - PROCS_NAMED);

		free(out);
		out = next;
	}
	free(tally);
	return out;
}

static char *pids_cell(const struct region *r)
{
	size_t size = r->nattachers * 12 + 1, len = 0;
	char *out = malloc(size);

	if (!out) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	out[0] = '\0';
	for (size_t i = 0; i < r->nattachers; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%d", i ? "\n" : "",
					(int)r->attachers[i].pid);
	return out;
}

static char *user_cell(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? xasprintf("%s", pw->pw_name) : xasprintf("%u", (unsigned)uid);
}

static char *group_cell(gid_t gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? xasprintf("%s", gr->gr_name) : xasprintf("%u", (unsigned)gid);
}

/* The cell, or NULL for none (null in JSON). */
static char *region_cell(const struct region *r, enum column_id id,
			 const struct output_options *o)
{
	bool linked = !r->unlinked;
	bool sysv = r->kind == KIND_SYSV || r->kind == KIND_KERNEL;

	switch (id) {
	case COL_NAME: return xasprintf("%s", r->name);
	case COL_KIND: return xasprintf("%s", kind_names[r->kind]);
	case COL_SIZE: return linked ? bytes_cell((uint64_t)r->st.st_size, o) : NULL;
	case COL_OWNER: return linked ? user_cell(r->st.st_uid) : NULL;
	case COL_GROUP: return linked ? group_cell(r->st.st_gid) : NULL;
	case COL_PERMS:
		return linked ? xasprintf("%04o", (unsigned)(r->st.st_mode & 07777)) : NULL;
	case COL_STATE: return xasprintf("%s", region_state(r));
	case COL_BACKS: return backs_cell(r);
	case COL_KEY:
		return sysv ? xasprintf("0x%08" PRIx32, r->key) : NULL;
	case COL_SHMID:
		return sysv ? xasprintf("%" PRId64, r->shmid) : NULL;
	case COL_CPID:
		if (sysv)
			return xasprintf("%" PRId64, r->cpid);
		return r->owner_pid > 0 ? xasprintf("%" PRId64, r->owner_pid) : NULL;
	case COL_PATH: return r->path ? xasprintf("%s", r->path) : NULL;
	case COL_MAPPED:
		return r->has[INFO_MAPPED] ? bytes_cell(r->info[INFO_MAPPED], o) : NULL;
	case COL_RSS: return r->has[INFO_RSS] ? bytes_cell(r->info[INFO_RSS], o) : NULL;
	case COL_PGTABLES:
		return r->saving_known ? bytes_cell(r->pgtables_used, o) : NULL;
	case COL_ATTACH:
		return linked ? xasprintf("%" PRIu64, r->attachments_used) : NULL;
	case COL_NPROCS: return xasprintf("%zu", r->nattachers);
	case COL_PROCS: return procs_cell(r);
	case COL_PIDS: return pids_cell(r);
	case COL_SAVED: return r->saving_known ? bytes_cell(r->saved, o) : NULL;
	case COL_METHOD: return linked ? xasprintf("%s", r->method) : NULL;
	case COL_COUNT: break;
	}
	return NULL;
}

/* ---- tables ---------------------------------------------------------------- */

static struct libscols_table *new_table(const char *name, const struct output_options *o)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	scols_table_set_name(tb, name);
	json_cells = o->json;
	scols_table_enable_json(tb, o->json);
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_noheadings(tb, o->noheadings);
	return tb;
}

static struct libscols_column *add_column(struct libscols_table *tb, const char *name,
					  double width, int flags, int json_type)
{
	struct libscols_column *cl = scols_table_new_column(tb, name, width, flags);

	if (!cl) {
		fprintf(stderr, "mshare-stat: out of memory\n");
		exit(EXIT_ERROR);
	}
	scols_column_set_json_type(cl, json_type);
	return cl;
}

static void set_cell(struct libscols_line *ln, size_t n, char *data)
{
	if (data)
		scols_line_refer_data(ln, n, json_cells ? valid_utf8(data) : data);
}

static struct libscols_table *regions_table(const struct mount_state *m,
					    const struct output_options *o)
{
	enum column_id ids[64];
	size_t ncols = parse_columns(o->columns, ids, 64, false);
	struct libscols_table *tb = new_table("regions", o);

	for (size_t c = 0; c < ncols; c++) {
		const struct column_info *ci = &columns[ids[c]];

		struct libscols_column *cl = add_column(tb, ci->name, ci->width, ci->flags,
							ci->json_type);

		/* A multi-line cell: one value per line (an array in JSON). */
		if (ci->flags & SCOLS_FL_WRAP) {
			scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize,
						  scols_wrapnl_nextchunk, NULL);
			scols_column_set_safechars(cl, "\n");
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct region *rs = pass ? m->unlinked : m->regions;
		size_t count = pass ? m->nunlinked : m->nregions;

		for (size_t i = 0; i < count; i++) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);

			for (size_t c = 0; c < ncols; c++)
				set_cell(ln, c, region_cell(&rs[i], ids[c], o));
		}
	}
	return tb;
}

/*
 * One row: what mshare-stat found as a whole (always a JSON table).  A
 * boolean cell is "1" or "0": libsmartcols reads any other text as true.
 */
static struct libscols_table *summary_table(const struct mount_state *m,
					    const char *error, int code)
{
	struct output_options json = { .json = true };
	struct libscols_table *tb = new_table("mshare", &json);
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	size_t c = 0;

	add_column(tb, "supported", 0, 0, SCOLS_JSON_BOOLEAN);
	set_cell(ln, c++, xasprintf("%s", m->supported ? "1" : "0"));
	add_column(tb, "mounted", 0, 0, SCOLS_JSON_BOOLEAN);
	set_cell(ln, c++, xasprintf("%s", m->mounted ? "1" : "0"));
	add_column(tb, "mount", 0, 0, SCOLS_JSON_STRING);
	set_cell(ln, c++, m->dir ? xasprintf("%s", m->dir) : NULL);
	if (error) {
		add_column(tb, "error", 0, 0, SCOLS_JSON_STRING);
		set_cell(ln, c++, xasprintf("%s", error));
		add_column(tb, "exit_status", 0, 0, SCOLS_JSON_NUMBER);
		set_cell(ln, c++, xasprintf("%d", code));
		return tb;
	}
	add_column(tb, "kernel_shares_sysv", 0, 0, SCOLS_JSON_BOOLEAN);
	set_cell(ln, c++, xasprintf("%s", m->kernel_sysv ? "1" : "0"));
	if (!m->mounted && !m->kernel_sysv)
		return tb;
	add_column(tb, "alignment", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, m->mounted ? xasprintf("%" PRIu64, m->alignment) : NULL);
	add_column(tb, "regions", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, xasprintf("%zu", m->nregions));
	add_column(tb, "bytes", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, xasprintf("%" PRIu64, m->total_bytes));
	add_column(tb, "attachments", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, xasprintf("%" PRIu64, m->total_attachments));
	add_column(tb, "saved", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, xasprintf("%" PRIu64, m->total_saved));
	add_column(tb, "saved_complete", 0, 0, SCOLS_JSON_BOOLEAN);
	set_cell(ln, c++, xasprintf("%s", m->total_saved_complete ? "1" : "0"));
	add_column(tb, "processes_not_readable", 0, 0, SCOLS_JSON_NUMBER);
	set_cell(ln, c++, xasprintf("%u", m->procs_unreadable));
	return tb;
}

/*
 * libsmartcols prints each table as a JSON object of its own; the document
 * is their members in one object, after the format version.
 */
static int print_json(struct libscols_table **tables, size_t count)
{
	printf("{\n   \"format_version\": %d", JSON_FORMAT_VERSION);
	for (size_t i = 0; i < count; i++) {
		char *text = NULL;

		if (scols_print_table_to_string(tables[i], &text) < 0 || !text) {
			fprintf(stderr, "mshare-stat: cannot format the JSON output\n");
			return EXIT_ERROR;
		}
		char *open = strchr(text, '{'), *close = strrchr(text, '}');

		if (!open || !close || close < open) {
			free(text);
			fprintf(stderr, "mshare-stat: unexpected JSON from libsmartcols\n");
			return EXIT_ERROR;
		}
		*close = '\0';
		/* Members without their braces; trailing blanks trimmed. */
		size_t len = strlen(open + 1);

		while (len && isspace((unsigned char)open[len]))
			open[len--] = '\0';
		printf(",%s", open + 1);
		free(text);
		scols_unref_table(tables[i]);
	}
	printf("\n}\n");
	return EXIT_OK;
}

void print_error_json(bool supported, bool mounted, const char *message, int code)
{
	struct mount_state m = { .supported = supported, .mounted = mounted };
	struct libscols_table *tb = summary_table(&m, message, code);

	print_json(&tb, 1);
}

int print_regions(const struct mount_state *m, const struct output_options *o)
{
	struct libscols_table *tb = regions_table(m, o);
	char h[32], s[32], a[32];

	if (o->json) {
		struct libscols_table *tables[] = { summary_table(m, NULL, 0), tb };

		return print_json(tables, 2);
	}
	/* The summary line is for people: --raw and --noheadings leave it out. */
	bool summary = !o->raw && !o->noheadings;

	if (summary && !m->mounted)
		printf("msharefs is not mounted; SysV segments whose page tables the kernel shares: %zu, %s, %" PRIu64 " attachment%s, page tables saved now: %s\n",
		       m->nregions, human(m->total_bytes, h, sizeof(h)), m->total_attachments,
		       m->total_attachments == 1 ? "" : "s", human(m->total_saved, s, sizeof(s)));
	else if (summary)
		printf("msharefs at %s, alignment %s: %zu region%s, %s, %" PRIu64 " attachment%s, page tables saved now: %s%s\n",
		       m->dir, human(m->alignment, a, sizeof(a)), m->nregions,
		       m->nregions == 1 ? "" : "s", human(m->total_bytes, h, sizeof(h)),
		       m->total_attachments, m->total_attachments == 1 ? "" : "s",
		       human(m->total_saved, s, sizeof(s)),
		       m->total_saved_complete ? "" : " (at least: some regions report no usage)");
	if (m->nregions || m->nunlinked)
		scols_print_table(tb);
	scols_unref_table(tb);
	if (summary && m->procs_unreadable)
		printf("note: the maps of %u processes could not be read (permission denied): the lists of attached processes may be incomplete\n",
		       m->procs_unreadable);
	return EXIT_OK;
}

static const char *const gc_action_names[] = {
	[GC_REMOVED] = "removed",
	[GC_WOULD_REMOVE] = "would-remove",
	[GC_FAILED] = "failed",
	[GC_KEPT] = "kept",
};

int print_gc(const struct mount_state *m, const struct gc_result *results,
	     size_t count, bool dry_run, const struct output_options *o)
{
	struct libscols_table *tb = new_table("gc", o);

	(void)dry_run;		/* the actions say it: would-remove */
	add_column(tb, "NAME", 0.3, 0, SCOLS_JSON_STRING);
	add_column(tb, "ACTION", 6, 0, SCOLS_JSON_STRING);
	add_column(tb, "REASON", 0.5, 0, SCOLS_JSON_STRING);
	add_column(tb, "ERROR", 0.2, 0, SCOLS_JSON_STRING);
	for (size_t i = 0; i < count; i++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		set_cell(ln, 0, xasprintf("%s", results[i].name));
		set_cell(ln, 1, xasprintf("%s", gc_action_names[results[i].action]));
		set_cell(ln, 2, xasprintf("%s", results[i].reason));
		if (results[i].action == GC_FAILED)
			set_cell(ln, 3, xasprintf("%s", strerror(results[i].err)));
	}

	struct libscols_table *tables[] = { summary_table(m, NULL, 0), tb };

	return print_json(tables, 2);
}
