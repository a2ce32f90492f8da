/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lazy-pages daemon: receives the userfaultfds of lazily restored
 * tasks on WORKDIR/lazy-pages.socket and fills their memory, faults first,
 * the rest in the background, from one image set. Single-threaded, one
 * epoll loop. See Documentation/lazy-pages.md.
 */
#ifndef RELIVE_LAZY_DAEMON_H
#define RELIVE_LAZY_DAEMON_H

struct lp_config {
	const char *images_dir;
	const char *work_dir; /* where the socket goes */
	/* --page-server: lazy pages come from address:port, not images_dir. */
	const char *address;
	int port;
	/* Called once the socket listens (status fd, -d parent). May be NULL. */
	int (*ready)(void *arg);
	void *ready_arg;
	/* An fd the watchdog process must not keep open, or -1. */
	int close_in_watchdog;
};

/*
 * Check the image set, listen, serve until every task handed over has all
 * its pages (or is gone), print a summary. Returns 0, or -errno when it had
 * to stop early (the tasks it served are killed, with a message).
 */
int lazy_pages_run(const struct lp_config *cfg);

#endif
