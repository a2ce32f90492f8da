/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the lazy-pages daemon gets page contents: local images today, a
 * page server over TCP next. Addresses are image addresses (as dumped) and
 * tasks are named by their image pid.
 */
#ifndef RELIVE_PAGE_SOURCE_H
#define RELIVE_PAGE_SOURCE_H

#include <stdint.h>

/* A homogeneous run answered by fetch: data for every page, or a hole. */
struct page_run {
	const void *data;  /* NULL: a hole, the pages read as zeros */
	uint64_t nr_pages; /* >= 1, <= what was asked */
};

/* Called once per lazy run of a task: pages to be filled in the task. */
typedef int (*page_source_add_fn)(void *arg, uint64_t vaddr, uint64_t nr_pages);

struct page_source;

struct page_source_ops {
	const char *name;
	/*
	 * Load what the source knows about task pid (checking it), and report
	 * its lazy runs through add(). Returns 0 or -errno, logged.
	 */
	int (*open_task)(struct page_source *src, uint32_t pid, page_source_add_fn add, void *arg);
	/*
	 * The pages at [vaddr, vaddr + nr_pages * 4096) of task pid: sets
	 * *ret to the longest leading run that is all data or all hole. The
	 * data stays valid until the next fetch or close. Returns 0 or -errno.
	 */
	int (*fetch)(struct page_source *src, uint32_t pid, uint64_t vaddr, uint64_t nr_pages,
		     struct page_run *ret);
	void (*close)(struct page_source *src);
};

struct page_source {
	const struct page_source_ops *ops;
};

static inline void page_source_close(struct page_source *src)
{
	if (src)
		src->ops->close(src);
}

/*
 * The local-images source: pagemap-PID.img answers where pages are, and
 * pages-PID.img holds them (read with pread, see source-local.c for why).
 * dirfd is duplicated.
 */
int page_source_local_open(int dirfd, struct page_source **ret);

/*
 * The TCP source (source-tcp.c): pages come from `dump --lazy-pages` at
 * addr:port, which must serve image set id; pagemap-PID.img in dirfd says
 * which runs are remote. Two connections: faults on one (request, reply),
 * background batches pipelined on the other.
 */
int page_source_tcp_open(int dirfd, const char *addr, int port, const char *id,
			 struct page_source **ret);
/* Tell the server the restored tree runs: from now on it is never resumed. */
int page_source_tcp_running(struct page_source *src);
/* Every page is in place: the final acknowledgement, so the source exits. */
int page_source_tcp_done(struct page_source *src);


#endif
