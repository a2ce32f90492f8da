/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One lazily restored task as the daemon sees it: its userfaultfd, the
 * pages it still misses, and the work on them: answering faults, following
 * fork/mremap/munmap/madvise events, filling in the background.
 */
#ifndef RELIVE_LAZY_TASK_H
#define RELIVE_LAZY_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "range.h"

struct page_source;

struct lp_stats {
	uint64_t tasks;
	uint64_t faults;
	uint64_t pages_fault; /* copied to answer faults (run included) */
	uint64_t pages_bg;    /* copied in the background */
	uint64_t zero_pages;
	uint64_t eexist;
	uint64_t eagain;
	uint64_t events;
	uint64_t fault_ns; /* daemon CPU time spent answering faults */
	uint64_t bg_ns;	   /* and filling in the background */
};

/* The daemon thread's CPU time in ns, for the statistics. */
uint64_t lp_cpu_ns(void);

#define LP_MAX_RETRY 64

struct lp_task {
	uint64_t id;	    /* daemon-wide, for the watchdog and logs */
	uint32_t image_pid; /* whose pages (a fork child keeps its parent's) */
	pid_t pid;	    /* real pid, 0 when unknown (a fork child) */
	int uffd;
	int pidfd; /* -1 for a fork child */
	bool fork_child;
	struct lazy_ranges missing;
	uint64_t last_fault_end; /* sequential faults grow the run */
	uint64_t cursor;	 /* background fill continues here */
	unsigned run_pages;
	/* Faults whose copy met EAGAIN (the mm was changing): served again. */
	uint64_t retry[LP_MAX_RETRY];
	unsigned nr_retry;
	struct lp_task *next;
};

/* What a task needs from the daemon while it works. */
struct lp_env {
	struct page_source *src;
	struct lp_stats *stats;
	bool have_poison; /* UFFDIO_POISON is usable */
	/* A fork child appeared: the daemon takes it (and its uffd). */
	int (*adopt)(void *daemon, struct lp_task *child);
	void *daemon;
};

/* A new task; takes uffd and pidfd. The caller fills missing. */
struct lp_task *lp_task_new(uint64_t id, uint32_t image_pid, pid_t pid, int uffd, int pidfd);
/* Close and free. Only once nothing is missing or the task is dead. */
void lp_task_free(struct lp_task *t);

/*
 * Read and handle everything pending on the uffd. Returns 0, -ESRCH when
 * the task is gone, or another -errno (the task can't be served any more).
 */
int lp_task_handle_uffd(struct lp_task *t, const struct lp_env *env);
/* Serve again the faults that met EAGAIN. Same returns. */
int lp_task_retry(struct lp_task *t, const struct lp_env *env);
/* Copy up to max_pages missing pages from the cursor on. Returns pages
 * copied, or the same errors. */
long lp_task_fill(struct lp_task *t, const struct lp_env *env, uint64_t max_pages);
/* Make every missing page raise SIGBUS when touched (UFFDIO_POISON):
 * for tasks that must be failed but whose pid is unknown. */
int lp_task_poison(struct lp_task *t);

#endif
