/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's watchdog: a small process forked at start that holds a
 * duplicate of every task's userfaultfd and a pidfd of the task. If the
 * daemon dies without cleaning up (SIGKILL, a crash), the watchdog sees its
 * end of their socket close and kills every task it still holds. Because it
 * keeps the uffds open until then, a task faulting in the meantime waits
 * instead of reading zeros where its memory should be.
 */
#ifndef RELIVE_LAZY_WATCHDOG_H
#define RELIVE_LAZY_WATCHDOG_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Fork the watchdog. close_fd (or -1) is an fd of the caller the watchdog
 * must not keep open (the status fd). Returns 0 with the caller's end of
 * the socket in *ret_sock and the watchdog's pid in *ret_pid.
 */
int lp_watchdog_start(int close_fd, int *ret_sock, pid_t *ret_pid);
/* Hand the watchdog task id's uffd and pidfd (both duplicated by
 * SCM_RIGHTS); pidfd -1 for a forked child, whose pid is not known: it is
 * killed as a descendant of the served tasks. */
int lp_watchdog_add(int sock, uint64_t id, int uffd, int pidfd);
/* The task is complete or gone: the watchdog closes what it held. */
int lp_watchdog_drop(int sock, uint64_t id);

#endif
