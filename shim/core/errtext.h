/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The text of an errno value for the shim's messages, from a fixed table
 * of the C locale's wording (as strerror() gives it there).  strerror()
 * itself may translate through gettext, which allocates and takes locks:
 * no use inside an interposed call that may run in a signal handler, in a
 * fork child of a threaded program, or with the shim's own locks held.
 * This lookup touches nothing but the table: async-signal-safe.
 */
#ifndef SHIM_ERRTEXT_H
#define SHIM_ERRTEXT_H

/* Never NULL; "Unknown error" for a number Linux does not define. */
const char *shim_errno_text(int err);

#endif
