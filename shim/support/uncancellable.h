/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shim's mutexes are held across calls that are cancellation points
 * (open, read, close, flock).  A pthread_cancel() acting there would leave
 * the mutex held, and every later call that needs it, and fork() (the
 * atfork handlers take it), would wait for ever.  So cancellation is off
 * while one is held; a request made meanwhile acts at the thread's next
 * cancellation point after the shim's call.
 *
 * The caller keeps the returned state (in thread-local storage when lock
 * and unlock are in different functions) and gives it back to unlock.
 */
#ifndef SHIM_UNCANCELLABLE_H
#define SHIM_UNCANCELLABLE_H

#include <pthread.h>

/* Disables cancellation, then locks; returns the cancel state before. */
int shim_lock_uncancellable(pthread_mutex_t *mutex);

/* Unlocks, then restores the cancel state; errno is left as it was. */
void shim_unlock_uncancellable(pthread_mutex_t *mutex, int cancel_state);

#endif
