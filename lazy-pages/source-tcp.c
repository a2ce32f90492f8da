// SPDX-License-Identifier: GPL-2.0-or-later
/* Page source over TCP: the lazy pages come from `dump --lazy-pages` on the source host. */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img.h"
#include "log.h"
#include "page-server.h"
#include "page-source.h"
#include "pagemap-load.h"
#include "pagemap.pb-c.h"
#include "util.h"

/*
 * Background requests in flight on the bulk connection. The daemon fills
 * in address order, so the next requests are predicted and sent ahead:
 * the server streams while the daemon copies, with no round trip per
 * batch. 4 MiB in flight covers the loopback and LAN bandwidth-delay
 * products; a wrong guess costs reading and dropping what is in flight,
 * so a pipeline starts only where two long fetches in a row were
 * contiguous (the daemon filling in order, not jumping after faults).
 */
#define PIPELINE_DEPTH 4
/* A fetch this long may be a background round, or a long fault run. */
#define PIPELINE_MIN_PAGES 32
/* Long fetches in a row outside the pipeline before it is given up. */
#define PIPELINE_MAX_MISSES 3

struct tcp_task {
	uint32_t pid;
	struct pagemap_run *runs; /* PE_LAZY|PE_REMOTE entries, sorted */
	size_t nr;
};

struct inflight {
	uint32_t pid;
	uint64_t vaddr;
	uint32_t nr_pages;
};

struct tcp_source {
	struct page_source src;
	int dirfd;
	char addr[256];
	int port;
	int fault_fd, bulk_fd;
	struct tcp_task *tasks;
	size_t nr_tasks;
	uint8_t *fault_buf, *bulk_buf; /* PX_MAX_PAGES pages each */
	struct inflight q[PIPELINE_DEPTH];
	size_t q_head, q_len;
	/* Where the next prediction starts. */
	uint32_t next_pid;
	uint64_t next_vaddr;
	/* Where the last long fetch on the fault connection ended. */
	uint32_t long_pid;
	uint64_t long_end;
	/* Long fetches in a row that the pipeline did not hold. */
	unsigned misses;
	int failed; /* sticky: the server is lost */
	bool running_sent;
	uint64_t dropped_pages;
};

static struct tcp_task *find_task(struct tcp_source *ts, uint32_t pid)
{
	for (size_t i = 0; i < ts->nr_tasks; i++)
		if (ts->tasks[i].pid == pid)
			return &ts->tasks[i];
	return NULL;
}

/* The remote runs of pagemap-PID.img, checked: sorted, disjoint, aligned, in range. */
static int load_runs(int dirfd, uint32_t pid, struct tcp_task *t)
{
	uint64_t file_pages, head_file_pages;

	return pagemap_load(dirfd, pid, PAGEMAP_FLAG__PE_REMOTE | PAGEMAP_FLAG__PE_LAZY, &t->runs,
			    &t->nr, &file_pages, &head_file_pages);
}

static int tcp_open_task(struct page_source *src, uint32_t pid, page_source_add_fn add, void *arg)
{
	struct tcp_source *ts = (struct tcp_source *)src;
	struct tcp_task *t = find_task(ts, pid);
	int r;

	if (!t) {
		struct tcp_task nt = {.pid = pid}, *n;

		r = load_runs(ts->dirfd, pid, &nt);
		if (r < 0)
			return r;
		n = reallocarray(ts->tasks, ts->nr_tasks + 1, sizeof(*n));
		if (!n) {
			free(nt.runs);
			return -ENOMEM;
		}
		ts->tasks = n;
		ts->tasks[ts->nr_tasks] = nt;
		t = &ts->tasks[ts->nr_tasks++];
	}
	for (size_t i = 0; i < t->nr; i++) {
		r = add(arg, t->runs[i].vaddr, t->runs[i].nr_pages);
		if (r < 0)
			return r;
	}
	return 0;
}

static int lost(struct tcp_source *ts, int r, const char *what)
{
	if (!ts->failed) {
		pr_err("the page server at %s port %d is lost (%s: %s): the tasks it served can't "
		       "get their pages\n",
		       ts->addr, ts->port, what,
		       r == -ECONNRESET ? "connection closed" : strerror(-r));
		ts->failed = r;
	}
	return ts->failed;
}

/* Read the reply to request q on fd into buf; *ret_zero when a hole. */
static int read_reply(struct tcp_source *ts, int fd, const struct inflight *q, uint8_t *buf,
		      bool *ret_zero)
{
	struct px_msg m;
	int r = px_recv_msg(fd, &m);

	if (r < 0)
		return lost(ts, r, "reading a reply");
	if (m.type == PX_ERROR) {
		pr_err("the page server refused %u pages at %#llx of task %u: %s\n", q->nr_pages,
		       (unsigned long long)q->vaddr, q->pid, strerror(-m.status));
		return lost(ts, m.status, "request refused");
	}
	if ((m.type != PX_PAGES && m.type != PX_ZERO) || m.task != q->pid || m.vaddr != q->vaddr ||
	    m.nr_pages != q->nr_pages)
		return lost(ts, -EPROTO, "a reply that does not match the request");
	*ret_zero = m.type == PX_ZERO;
	if (m.type == PX_PAGES) {
		r = read_all(fd, buf, (size_t)m.nr_pages * PX_PAGE);
		if (r < 0)
			return lost(ts,
				    r == -EIO	   ? -ECONNRESET
				    : r == -EAGAIN ? -ETIMEDOUT
						   : r,
				    "reading pages");
	}
	return 0;
}

static int send_req(struct tcp_source *ts, int fd, const struct inflight *q)
{
	struct px_msg m = {
	    .type = PX_REQ_PAGES, .task = q->pid, .vaddr = q->vaddr, .nr_pages = q->nr_pages};
	int r = px_send_msg(fd, &m);

	return r < 0 ? lost(ts, r, "sending a request") : 0;
}

/* The longest request at (pid, vaddr) inside one run: 0 pages if none. */
static uint32_t clip(const struct tcp_task *t, uint64_t vaddr, uint64_t want)
{
	size_t lo = pagemap_runs_find(t->runs, t->nr, vaddr);

	if (lo == t->nr || t->runs[lo].vaddr > vaddr)
		return 0;
	{
		uint64_t left = t->runs[lo].nr_pages - (vaddr - t->runs[lo].vaddr) / PX_PAGE;

		if (want > left)
			want = left;
		return (uint32_t)(want > PX_MAX_PAGES ? PX_MAX_PAGES : want);
	}
}

/* Where the first remote page at or after vaddr is, in task t; false if none. */
static bool next_remote(const struct tcp_task *t, uint64_t vaddr, uint64_t *ret)
{
	size_t i = pagemap_runs_find(t->runs, t->nr, vaddr);

	if (i == t->nr)
		return false;
	*ret = vaddr > t->runs[i].vaddr ? vaddr : t->runs[i].vaddr;
	return true;
}

/* Send predicted background requests until PIPELINE_DEPTH are in flight. */
static int refill(struct tcp_source *ts)
{
	struct tcp_task *t = find_task(ts, ts->next_pid);

	while (t && ts->q_len < PIPELINE_DEPTH) {
		struct inflight *q = &ts->q[(ts->q_head + ts->q_len) % PIPELINE_DEPTH];
		uint64_t at;
		int r;

		if (!next_remote(t, ts->next_vaddr, &at))
			break;
		*q = (struct inflight){t->pid, at, clip(t, at, PX_MAX_PAGES)};
		r = send_req(ts, ts->bulk_fd, q);
		if (r < 0)
			return r;
		ts->q_len++;
		ts->next_vaddr = at + (uint64_t)q->nr_pages * PX_PAGE;
	}
	return 0;
}

/* Read and drop the oldest reply in flight. */
static int drop_one(struct tcp_source *ts)
{
	const struct inflight *q = &ts->q[ts->q_head];
	bool zero;
	int r = read_reply(ts, ts->bulk_fd, q, ts->bulk_buf, &zero);

	if (r < 0)
		return r;
	ts->dropped_pages += q->nr_pages;
	ts->q_head = (ts->q_head + 1) % PIPELINE_DEPTH;
	ts->q_len--;
	return 0;
}

static int tcp_fetch(struct page_source *src, uint32_t pid, uint64_t vaddr, uint64_t nr_pages,
		     struct page_run *ret)
{
	struct tcp_source *ts = (struct tcp_source *)src;
	struct tcp_task *t = find_task(ts, pid);
	struct inflight want;
	uint64_t at;
	bool zero;
	int r;

	if (ts->failed)
		return ts->failed;
	if (!t || !nr_pages || vaddr % PX_PAGE)
		return -EINVAL;
	want = (struct inflight){pid, vaddr, clip(t, vaddr, nr_pages)};
	if (!want.nr_pages) {
		/* Not a remote page: a hole up to the next remote one. */
		uint64_t n = nr_pages;

		if (next_remote(t, vaddr, &at) && (at - vaddr) / PX_PAGE < n)
			n = (at - vaddr) / PX_PAGE;
		*ret = (struct page_run){NULL, n};
		return 0;
	}
	/* In flight on the bulk connection? Older guesses are dropped. */
	for (size_t i = 0; i < ts->q_len; i++) {
		const struct inflight *q = &ts->q[(ts->q_head + i) % PIPELINE_DEPTH];

		if (q->pid != pid || q->vaddr != vaddr)
			continue;
		while (i--) {
			r = drop_one(ts);
			if (r < 0)
				return r;
		}
		want = ts->q[ts->q_head];
		ts->misses = 0;
		r = read_reply(ts, ts->bulk_fd, &want, ts->bulk_buf, &zero);
		if (r < 0)
			return r;
		ts->q_head = (ts->q_head + 1) % PIPELINE_DEPTH;
		ts->q_len--;
		r = refill(ts);
		if (r < 0)
			return r;
		*ret = (struct page_run){zero ? NULL : ts->bulk_buf,
					 want.nr_pages < nr_pages ? want.nr_pages : nr_pages};
		return 0;
	}
	/* A fault (or the first of a new background stretch): ask on the
	 * fault connection, which nothing else queues on. */
	r = send_req(ts, ts->fault_fd, &want);
	if (r == 0)
		r = read_reply(ts, ts->fault_fd, &want, ts->fault_buf, &zero);
	if (r < 0)
		return r;
	if (want.nr_pages >= PIPELINE_MIN_PAGES && ts->q_len)
		ts->misses++;
	/* A forked child fills the same image addresses as its parent, in
	 * turn with it: one miss between hits is that, not a wrong guess. */
	if (want.nr_pages >= PIPELINE_MIN_PAGES && pid == ts->long_pid && vaddr == ts->long_end &&
	    (!ts->q_len || ts->misses >= PIPELINE_MAX_MISSES)) {
		/* A second long fetch right after the first: the daemon fills
		 * in order from here, and what is in flight was a wrong guess. */
		ts->misses = 0;
		while (ts->q_len) {
			r = drop_one(ts);
			if (r < 0)
				return r;
		}
		ts->next_pid = pid;
		ts->next_vaddr = vaddr + (uint64_t)want.nr_pages * PX_PAGE;
		r = refill(ts);
		if (r < 0)
			return r;
	}
	if (want.nr_pages >= PIPELINE_MIN_PAGES) {
		ts->long_pid = pid;
		ts->long_end = vaddr + (uint64_t)want.nr_pages * PX_PAGE;
	}
	*ret = (struct page_run){zero ? NULL : ts->fault_buf, want.nr_pages};
	return 0;
}

static void tcp_close(struct page_source *src)
{
	struct tcp_source *ts = (struct tcp_source *)src;

	if (ts->dropped_pages)
		pr_info("page server: %llu prefetched pages were not needed\n",
			(unsigned long long)ts->dropped_pages);
	for (size_t i = 0; i < ts->nr_tasks; i++)
		free(ts->tasks[i].runs);
	free(ts->tasks);
	if (ts->fault_buf)
		munmap(ts->fault_buf, 2 * PX_MAX_PAGES * PX_PAGE);
	if (ts->fault_fd >= 0)
		close(ts->fault_fd);
	if (ts->bulk_fd >= 0)
		close(ts->bulk_fd);
	if (ts->dirfd >= 0)
		close(ts->dirfd);
	free(ts);
}

static const struct page_source_ops tcp_ops = {
    .name = "the page server",
    .open_task = tcp_open_task,
    .fetch = tcp_fetch,
    .close = tcp_close,
};

int page_source_tcp_open(int dirfd, const char *addr, int port, const char *id,
			 struct page_source **ret)
{
	struct tcp_source *ts = calloc(1, sizeof(*ts));
	void *bufs;
	int r;

	if (!ts)
		return -ENOMEM;
	ts->src.ops = &tcp_ops;
	ts->fault_fd = ts->bulk_fd = ts->dirfd = -1;
	snprintf(ts->addr, sizeof(ts->addr), "%s", addr);
	ts->port = port;
	bufs = mmap(NULL, 2 * PX_MAX_PAGES * PX_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (bufs == MAP_FAILED) {
		r = pr_err_ret(negerrno(), "cannot allocate page buffers");
		goto fail;
	}
	ts->fault_buf = bufs;
	ts->bulk_buf = ts->fault_buf + PX_MAX_PAGES * PX_PAGE;
	ts->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (ts->dirfd < 0) {
		r = pr_err_ret(negerrno(), "cannot duplicate the images directory fd");
		goto fail;
	}
	r = px_connect(addr, port, PX_CH_FAULT, id, &ts->fault_fd, NULL);
	if (r == 0)
		r = px_connect(addr, port, PX_CH_BULK, id, &ts->bulk_fd, NULL);
	if (r < 0)
		goto fail;
	pr_info("connected to the page server at %s port %d (image set %s)\n", addr, port, id);
	*ret = &ts->src;
	return 0;
fail:
	tcp_close(&ts->src);
	return r;
}

int page_source_tcp_running(struct page_source *src)
{
	struct tcp_source *ts = (struct tcp_source *)src;
	struct px_msg m = {.type = PX_RUNNING};
	int r;

	if (ts->running_sent || ts->failed)
		return ts->failed;
	r = px_send_msg(ts->fault_fd, &m);
	if (r < 0)
		return lost(ts, r, "reporting the tree running");
	ts->running_sent = true;
	return 0;
}

int page_source_tcp_done(struct page_source *src)
{
	struct tcp_source *ts = (struct tcp_source *)src;
	struct px_msg m = {.type = PX_DONE};
	int r;

	if (ts->failed)
		return ts->failed;
	/* Replies still in flight come first on the bulk connection; the
	 * acknowledgement comes on the fault connection. */
	while (ts->q_len) {
		r = drop_one(ts);
		if (r < 0)
			return r;
	}
	r = px_send_msg(ts->fault_fd, &m);
	if (r == 0)
		r = px_recv_msg(ts->fault_fd, &m);
	if (r < 0)
		return lost(ts, r, "the final acknowledgement");
	if (m.type != PX_DONE_ACK)
		return lost(ts, -EPROTO, "the final acknowledgement");
	return 0;
}
