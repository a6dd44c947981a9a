/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process state, defined below the layers that read it: entry/ fills
 * it in at setup, sysv/ and mmap/ only read it.
 */
#include "support/shim-state.h"

struct shim_state shim_state;

/*
 * Set while the shim itself runs, so a call it makes that comes back
 * through an exported symbol (through another interposer, say) goes
 * straight to libc.  initial-exec: a lazily allocated TLS block could call
 * malloc.
 */
__thread bool shim_inside_call __attribute__((tls_model("initial-exec")));
