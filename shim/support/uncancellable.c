/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "support/uncancellable.h"

#include <errno.h>

int shim_lock_uncancellable(pthread_mutex_t *mutex)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(mutex);
	return old;
}

void shim_unlock_uncancellable(pthread_mutex_t *mutex, int cancel_state)
{
	int saved = errno;

	pthread_mutex_unlock(mutex);
	pthread_setcancelstate(cancel_state, NULL);
	errno = saved;
}
