/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one way the shim's Check programs run: TAP on stdout, a count on stderr. */
#ifndef TESTS_SHIM_CHECK_RUNNER_H
#define TESTS_SHIM_CHECK_RUNNER_H

#include <check.h>

/* Runs SUITE (and frees it); returns main()'s exit status. */
int check_run_tap(Suite *suite, const char *program);

#endif
