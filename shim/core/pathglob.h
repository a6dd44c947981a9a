/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Glob patterns for MSHARE_SHIM_FILES, matched against canonical paths.
 * Written here rather than taken from fnmatch(3) because fnmatch may
 * allocate (locale, multibyte classes), and matching runs inside mmap(),
 * which allocators themselves call.
 *
 * Syntax (as fnmatch with FNM_PATHNAME): '*' matches any run of characters
 * but '/', '?' one character but '/', '[...]' one character from a set
 * ('!' or '^' first negates, 'a-z' ranges, ']' first is literal; never
 * '/'), '\' makes the next character literal.
 */
#ifndef SHIM_PATHGLOB_H
#define SHIM_PATHGLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Does path match the pattern pattern[0..pattern_len)? */
bool shim_glob_match(const char *pattern, size_t pattern_len, const char *path);

/* Does path match any of the colon-separated patterns in list? */
bool shim_glob_list_match(const char *list, const char *path);

/*
 * Checks one pattern: non-empty, absolute (canonical paths are), every
 * '[' closed, no trailing '\'.  Returns false with why.
 */
bool shim_glob_check(const char *pattern, size_t pattern_len,
		     char *why, size_t why_size);

#endif
