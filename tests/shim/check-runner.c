/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-runner.h"

#include <stdio.h>
#include <stdlib.h>

int check_run_tap(Suite *suite, const char *program)
{
	SRunner *sr = srunner_create(suite);

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);

	int failed = srunner_ntests_failed(sr);

	fprintf(stderr, "%s: %d failed\n", program, failed);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
