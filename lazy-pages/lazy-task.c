// SPDX-License-Identifier: GPL-2.0-or-later
/* One lazily restored task: faults, events and background fill. */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lazy-task.h"
#include "log.h"
#include "page-source.h"
#include "uffd-compat.h"
#include "util.h"

/* Pages copied per fault: a small run after the faulting page, doubled
 * while faults come in order, back to the start on a jump. */
#define RUN_MIN 8
#define RUN_MAX 256

uint64_t lp_cpu_ns(void)
{
	struct timespec ts;

	/* CPU time, not wall time: on a busy machine the task we just woke
	 * often preempts us, and that is not our work. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct lp_task *lp_task_new(uint64_t id, uint32_t image_pid, pid_t pid, int uffd, int pidfd)
{
	struct lp_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->id = id;
	t->image_pid = image_pid;
	t->pid = pid;
	t->uffd = uffd;
	t->pidfd = pidfd;
	t->run_pages = RUN_MIN;
	lazy_ranges_init(&t->missing);
	return t;
}

void lp_task_free(struct lp_task *t)
{
	if (!t)
		return;
	if (t->uffd >= 0)
		close(t->uffd);
	if (t->pidfd >= 0)
		close(t->pidfd);
	lazy_ranges_fini(&t->missing);
	free(t);
}

static void wake_page(struct lp_task *t, uint64_t addr)
{
	struct uffdio_range w = {.start = addr, .len = 4096};

	/* A thread may sleep on a page that turned out present (EEXIST). */
	ioctl(t->uffd, UFFDIO_WAKE, &w);
}

/*
 * Fill n pages at addr (inside one missing range) from image address src.
 * Returns the pages dealt with (filled, found present, or without a VMA
 * any more), -EAGAIN when the mm is changing (read the events first),
 * -ESRCH when the task's mm is gone, or another -errno.
 */
static long fill_span(struct lp_task *t, const struct lp_env *env, uint64_t addr, uint64_t src,
		      uint64_t n, bool fault)
{
	uint64_t done = 0, limit = n;

	while (done < n) {
		uint64_t dst = addr + done * 4096, len;
		struct page_run run;
		long copied;
		int r, err = 0;

		r = env->src->ops->fetch(env->src, t->image_pid, src + done * 4096,
					 (n - done) < limit ? (n - done) : limit, &run);
		if (r < 0)
			return pr_err_ret(r, "task %d (image %u): no pages for 0x%llx from %s",
					  t->pid, t->image_pid,
					  (unsigned long long)(src + done * 4096),
					  env->src->ops->name);
		len = run.nr_pages * 4096;
		if (run.data) {
			struct uffdio_copy c = {.dst = dst, .src = (uintptr_t)run.data, .len = len};

			if (ioctl(t->uffd, UFFDIO_COPY, &c) < 0)
				err = errno;
			copied = err ? c.copy : (long)len;
		} else {
			struct uffdio_zeropage z = {.range = {.start = dst, .len = len}};

			if (ioctl(t->uffd, UFFDIO_ZEROPAGE, &z) < 0)
				err = errno;
			copied = err ? z.zeropage : (long)len;
		}
		if (copied > 0) {
			uint64_t pages = (uint64_t)copied / 4096;

			lazy_ranges_remove(&t->missing, dst, dst + pages * 4096);
			if (!run.data)
				env->stats->zero_pages += pages;
			else if (fault)
				env->stats->pages_fault += pages;
			else
				env->stats->pages_bg += pages;
			done += pages;
		}
		if (!err)
			continue;
		/* A partial copy says -EAGAIN; the next round meets the cause. */
		if (err == EAGAIN && copied > 0)
			continue;
		switch (err) {
		case EEXIST:
			/* The page is there already: not an error. */
			env->stats->eexist++;
			lazy_ranges_remove(&t->missing, addr + done * 4096,
					   addr + (done + 1) * 4096);
			wake_page(t, addr + done * 4096);
			done++;
			break;
		case EAGAIN:
			env->stats->eagain++;
			return -EAGAIN;
		case ESRCH:
			return -ESRCH;
		case ENOENT:
			/* No registered VMA there. A multi-page call may have
			 * crossed a VMA boundary: go page by page from here. */
			if (run.nr_pages > 1) {
				limit = 1;
				break;
			}
			pr_debug("task %d: 0x%llx is no longer mapped, dropped\n", t->pid,
				 (unsigned long long)dst);
			lazy_ranges_remove(&t->missing, dst, dst + 4096);
			done++;
			break;
		default:
			return pr_err_ret(-err,
					  "task %d (image %u): cannot fill 0x%llx (%llu pages)",
					  t->pid, t->image_pid, (unsigned long long)dst,
					  (unsigned long long)run.nr_pages);
		}
	}
	return (long)done;
}

static void queue_retry(struct lp_task *t, uint64_t addr)
{
	for (unsigned i = 0; i < t->nr_retry; i++)
		if (t->retry[i] == addr)
			return;
	/* More faults than this can't wait at once without threads to take
	 * them; a full queue drops the oldest, whose thread refaults when the
	 * next copy or event wakes it. */
	if (t->nr_retry == LP_MAX_RETRY)
		memmove(t->retry, t->retry + 1, --t->nr_retry * sizeof(t->retry[0]));
	t->retry[t->nr_retry++] = addr;
}

/* Serve a fault at addr (page aligned). */
static int serve_fault(struct lp_task *t, const struct lp_env *env, uint64_t addr)
{
	const struct lazy_range *r = lazy_ranges_find(&t->missing, addr);
	uint64_t n, src;
	long done;

	if (!r) {
		/* Not a page we hold: a hole of the image or memory the
		 * program dropped. It reads as zeros. */
		struct uffdio_zeropage z = {.range = {.start = addr, .len = 4096}};

		if (ioctl(t->uffd, UFFDIO_ZEROPAGE, &z) == 0) {
			env->stats->zero_pages++;
			return 0;
		}
		switch (errno) {
		case EEXIST:
			env->stats->eexist++;
			wake_page(t, addr);
			return 0;
		case EAGAIN:
			env->stats->eagain++;
			queue_retry(t, addr);
			return 0;
		case ESRCH:
			return -ESRCH;
		case ENOENT:
			/* Unmapped meanwhile: let it refault and get SIGSEGV. */
			wake_page(t, addr);
			return 0;
		default:
			return pr_err_ret(negerrno(), "task %d: cannot map a zero page at 0x%llx",
					  t->pid, (unsigned long long)addr);
		}
	}
	if (addr == t->last_fault_end) {
		if (t->run_pages < RUN_MAX)
			t->run_pages *= 2;
	} else {
		t->run_pages = RUN_MIN;
	}
	n = (r->end - addr) / 4096;
	if (n > t->run_pages)
		n = t->run_pages;
	src = r->src + (addr - r->start);
	/* The faulting page alone first: its thread resumes at once, while
	 * the neighbours are copied. */
	done = fill_span(t, env, addr, src, 1, true);
	if (done == 1 && n > 1) {
		long more = fill_span(t, env, addr + 4096, src + 4096, n - 1, true);

		/* An EAGAIN here only stops the run: the fault is served. */
		if (more < 0 && more != -EAGAIN)
			return (int)more;
		if (more > 0)
			done += more;
	}
	if (done == -EAGAIN) {
		queue_retry(t, addr);
		return 0;
	}
	if (done < 0)
		return (int)done;
	t->last_fault_end = addr + (uint64_t)done * 4096;
	t->cursor = t->last_fault_end;
	return 0;
}

static int adopt_child(struct lp_task *t, const struct lp_env *env, int ufd)
{
	struct lp_task *c;
	int r;

	fcntl(ufd, F_SETFL, O_NONBLOCK);
	fcntl(ufd, F_SETFD, FD_CLOEXEC);
	c = lp_task_new(0, t->image_pid, 0, ufd, -1);
	if (!c) {
		close(ufd);
		return pr_err_ret(-ENOMEM, "task %d forked: no memory for the child", t->pid);
	}
	c->fork_child = true;
	c->cursor = t->cursor;
	r = lazy_ranges_copy(&c->missing, &t->missing);
	if (r == 0)
		r = env->adopt(env->daemon, c);
	if (r < 0) {
		/* The child can't be served: make its missing pages fault
		 * with SIGBUS rather than read as zeros. */
		lp_task_poison(c);
		lp_task_free(c);
		return pr_err_ret(r, "task %d forked: cannot serve the child", t->pid);
	}
	pr_debug("task %d forked: child served from image %u, %llu pages missing\n", t->pid,
		 t->image_pid, (unsigned long long)c->missing.nr_pages);
	return 0;
}

static int handle_msg(struct lp_task *t, const struct lp_env *env, const struct uffd_msg *m)
{
	int r = 0;

	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT: {
		uint64_t t0 = lp_cpu_ns();

		env->stats->faults++;
		r = serve_fault(t, env, m->arg.pagefault.address & ~4095ull);
		env->stats->fault_ns += lp_cpu_ns() - t0;
		return r;
	}
	case UFFD_EVENT_FORK:
		env->stats->events++;
		return adopt_child(t, env, (int)m->arg.fork.ufd);
	case UFFD_EVENT_REMAP:
		env->stats->events++;
		pr_debug("task %d: mremap 0x%llx -> 0x%llx (%llu bytes)\n", t->pid,
			 (unsigned long long)m->arg.remap.from, (unsigned long long)m->arg.remap.to,
			 (unsigned long long)m->arg.remap.len);
		r = lazy_ranges_move(&t->missing, m->arg.remap.from, m->arg.remap.to,
				     m->arg.remap.len);
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		env->stats->events++;
		/* The program dropped this memory: it must read zeros from now
		 * on, so these pages are never filled from the image. */
		pr_debug("task %d: %s 0x%llx-0x%llx\n", t->pid,
			 m->event == UFFD_EVENT_REMOVE ? "madvise remove" : "munmap",
			 (unsigned long long)m->arg.remove.start,
			 (unsigned long long)m->arg.remove.end);
		r = lazy_ranges_remove(&t->missing, m->arg.remove.start & ~4095ull,
				       (m->arg.remove.end + 4095) & ~4095ull);
		break;
	default:
		pr_warn("task %d: unknown userfaultfd event 0x%x ignored\n", t->pid, m->event);
		return 0;
	}
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot follow a memory event", t->pid);
	return 0;
}

int lp_task_handle_uffd(struct lp_task *t, const struct lp_env *env)
{
	struct uffd_msg msgs[16];

	for (;;) {
		ssize_t n = read(t->uffd, msgs, sizeof(msgs));

		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return pr_err_ret(negerrno(), "task %d: reading its userfaultfd", t->pid);
		}
		if (n == 0 || n % sizeof(msgs[0]))
			return pr_err_ret(-EPROTO, "task %d: short read from its userfaultfd",
					  t->pid);
		/*
		 * Events first, in order, then faults. Reading a fork event
		 * lets the parent run on: the child must be adopted (and held
		 * by the watchdog) at once, and with the missing set as it
		 * was at the fork, before a fault read in the same batch
		 * fills a page in the parent that the child still misses.
		 */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
				bool fault = msgs[i].event == UFFD_EVENT_PAGEFAULT;
				int r;

				if (fault != (pass == 1))
					continue;
				r = handle_msg(t, env, &msgs[i]);
				if (r < 0)
					return r;
			}
		}
	}
}

int lp_task_retry(struct lp_task *t, const struct lp_env *env)
{
	uint64_t addrs[LP_MAX_RETRY];
	unsigned nr = t->nr_retry;

	memcpy(addrs, t->retry, nr * sizeof(addrs[0]));
	t->nr_retry = 0;
	for (unsigned i = 0; i < nr; i++) {
		int r = serve_fault(t, env, addrs[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

long lp_task_fill(struct lp_task *t, const struct lp_env *env, uint64_t max_pages)
{
	uint64_t done = 0, t0 = lp_cpu_ns();
	long err = 0;

	while (done < max_pages && !lazy_ranges_empty(&t->missing)) {
		const struct lazy_range *r = lazy_ranges_next(&t->missing, t->cursor);
		uint64_t addr, n;
		long got;

		if (!r) {
			t->cursor = 0; /* wrap around */
			continue;
		}
		addr = r->start > t->cursor ? r->start : t->cursor;
		n = (r->end - addr) / 4096;
		if (n > max_pages - done)
			n = max_pages - done;
		got = fill_span(t, env, addr, r->src + (addr - r->start), n, false);
		if (got == -EAGAIN)
			break; /* events first */
		if (got < 0) {
			err = got;
			break;
		}
		done += (uint64_t)got;
		t->cursor = addr + (uint64_t)got * 4096;
	}
	env->stats->bg_ns += lp_cpu_ns() - t0;
	return err < 0 ? err : (long)done;
}

int lp_task_poison(struct lp_task *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->missing.nr; i++) {
		uint64_t a = t->missing.r[i].start, end = t->missing.r[i].end;

		while (a < end) {
			struct uffdio_poison p = {.range = {.start = a, .len = end - a}};

			if (ioctl(t->uffd, UFFDIO_POISON, &p) == 0)
				break;
			if (p.updated > 0) {
				a += (uint64_t)p.updated;
				continue;
			}
			if (errno == EEXIST || errno == ENOENT) {
				a += 4096; /* present or gone: nothing to protect */
				continue;
			}
			if (errno == ESRCH)
				return 0; /* the task is gone already */
			ret = negerrno();
			break;
		}
	}
	return ret;
}
