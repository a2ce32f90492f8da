// SPDX-License-Identifier: GPL-2.0-or-later
/* Page contents of a rebuilt address space, from the mapped pages file. */
#define LOG_PREFIX "restore-mm: "
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "img.h"
#include "inject.h"
#include "log.h"
#include "restore-mm-ctx.h"
#include "restore-mm-pages.h"
#include "restore-mm.h"
#include "util.h"

#define PAGE RMM_PAGE
/* Runs of pages collected before they are written. */
#define BATCH_IOV 65536
/* process_vm_writev takes at most IOV_MAX elements per side. */
#define CALL_IOV 1024
/* One call moves at most about 2 GiB: keep each element below that. */
#define MAX_RUN (1ull << 30)
/* Below this much per flush a second writer costs more than it saves. */
#define TWO_WRITERS_MIN (32ull << 20)

/* Runs of pages to write: pairs of equal length, ours and the task's. */
struct page_batch {
	struct rmm_ctx *c;
	struct iovec *local, *remote;
	size_t nr;
	uint64_t pending; /* bytes in local[0..nr) */
	uint64_t bytes;	  /* written so far, for statistics */
	uint64_t via_mem;
	bool two_writers; /* more than one CPU to copy with */
};

/* One writer: a share of a batch, with its own /proc/PID/mem fd. */
struct page_writer {
	pid_t pid;
	struct iovec *local, *remote;
	size_t nr;
	/* a leading element of its own (the second half of a split run) */
	struct iovec first_local, first_remote;
	int mem_fd;
	uint64_t bytes, via_mem;
	int err;
};

static int mem_write_fd(pid_t pid, int *fd, const void *buf, size_t len, uint64_t addr)
{
	int r;

	if (*fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		*fd = open(path, O_RDWR | O_CLOEXEC);
		if (*fd < 0)
			return pr_err_ret(-errno, "cannot open %s", path);
	}
	r = pwrite_all(*fd, buf, len, (off_t)addr);
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot write %zu bytes at %#llx", pid, len,
				  (unsigned long long)addr);
	return 0;
}

static int mem_write(struct rmm_ctx *c, const void *buf, size_t len, uint64_t addr)
{
	return mem_write_fd(c->pid, &c->mem_fd, buf, len, addr);
}

/*
 * Write pairs l[i] -> rm[i] with process_vm_writev, CALL_IOV at a time. A
 * call that stops early is retried from there; an element it can't write
 * at all (EFAULT) goes through /proc/PID/mem.
 */
static int write_pairs(struct page_writer *w, struct iovec *l, struct iovec *rm, size_t nr)
{
	size_t i = 0;

	while (i < nr) {
		size_t cnt = nr - i < CALL_IOV ? nr - i : CALL_IOV;
		ssize_t n = process_vm_writev(w->pid, l + i, cnt, rm + i, cnt, 0);
		size_t left;
		int r;

		if (n < 0) {
			/* EFAULT: the first element's target is not writable;
			 * ENOSYS/EPERM: no process_vm_writev at all. */
			if (errno != EFAULT && errno != ENOSYS && errno != EPERM)
				return pr_err_ret(-errno, "task %d: process_vm_writev", w->pid);
			n = 0;
		}
		w->bytes += n;
		left = (size_t)n;
		while (i < nr && left >= l[i].iov_len) {
			left -= l[i].iov_len;
			i++;
		}
		if (i == nr)
			break;
		l[i].iov_base = (char *)l[i].iov_base + left;
		l[i].iov_len -= left;
		rm[i].iov_base = (char *)rm[i].iov_base + left;
		rm[i].iov_len -= left;
		if (n > 0)
			continue;
		r = mem_write_fd(w->pid, &w->mem_fd, l[i].iov_base, l[i].iov_len,
				 (uint64_t)rm[i].iov_base);
		if (r < 0)
			return r;
		w->bytes += l[i].iov_len;
		w->via_mem += l[i].iov_len;
		i++;
	}
	return 0;
}

static void *writer_run(void *arg)
{
	struct page_writer *w = arg;

	if (w->first_local.iov_len)
		w->err = write_pairs(w, &w->first_local, &w->first_remote, 1);
	if (!w->err)
		w->err = write_pairs(w, w->local, w->remote, w->nr);
	return NULL;
}

/*
 * Write what the batch holds. A large batch is cut in two halves by bytes
 * (a run may be cut in the middle) and written by two threads at once:
 * the copy, and faulting in the task's fresh pages, run on two CPUs.
 */
static int batch_flush(struct page_batch *b)
{
	struct page_writer w[2] = {
	    {.pid = b->c->pid, .local = b->local, .remote = b->remote, .nr = b->nr, .mem_fd = -1},
	    {.pid = b->c->pid, .mem_fd = -1},
	};
	bool second = false;
	pthread_t thread;
	int r = 0;

	if (!b->nr)
		return 0;
	if (b->two_writers && b->pending >= TWO_WRITERS_MIN) {
		uint64_t half = b->pending / 2, before = 0, cut;
		size_t k = 0;

		while (before + b->local[k].iov_len <= half)
			before += b->local[k++].iov_len;
		/* element k holds byte number half: cut it on a page */
		cut = (half - before) & ~(PAGE - 1);
		w[1].first_local = b->local[k];
		w[1].first_remote = b->remote[k];
		w[1].first_local.iov_base = (char *)w[1].first_local.iov_base + cut;
		w[1].first_local.iov_len -= cut;
		w[1].first_remote.iov_base = (char *)w[1].first_remote.iov_base + cut;
		w[1].first_remote.iov_len -= cut;
		w[1].local = b->local + k + 1;
		w[1].remote = b->remote + k + 1;
		w[1].nr = b->nr - k - 1;
		b->local[k].iov_len = cut;
		b->remote[k].iov_len = cut;
		w[0].nr = cut ? k + 1 : k;
		second = pthread_create(&thread, NULL, writer_run, &w[1]) == 0;
	}
	writer_run(&w[0]);
	if (second)
		pthread_join(thread, NULL);
	else if (w[1].first_local.iov_len || w[1].nr)
		writer_run(&w[1]); /* no thread: write it here */
	for (int i = 0; i < 2; i++) {
		b->bytes += w[i].bytes;
		b->via_mem += w[i].via_mem;
		if (w[i].err && !r)
			r = w[i].err;
		if (w[i].mem_fd >= 0)
			close(w[i].mem_fd);
	}
	b->nr = 0;
	b->pending = 0;
	return r;
}

static int batch_add_run(struct page_batch *b, const char *src, uint64_t addr, uint64_t len,
			 bool via_mem)
{
	if (via_mem) {
		int r = mem_write(b->c, src, len, addr);

		if (r < 0)
			return r;
		b->bytes += len;
		b->via_mem += len;
		return 0;
	}
	b->pending += len;
	if (b->nr) {
		struct iovec *l = &b->local[b->nr - 1], *rm = &b->remote[b->nr - 1];

		if ((const char *)l->iov_base + l->iov_len == src &&
		    (uint64_t)rm->iov_base + rm->iov_len == addr && l->iov_len + len <= MAX_RUN) {
			l->iov_len += len;
			rm->iov_len += len;
			return 0;
		}
	}
	if (b->nr == BATCH_IOV) {
		int r;

		b->pending -= len;
		r = batch_flush(b);
		if (r < 0)
			return r;
		b->pending = len;
	}
	b->local[b->nr].iov_base = (void *)src;
	b->local[b->nr].iov_len = len;
	b->remote[b->nr].iov_base = (void *)addr;
	b->remote[b->nr].iov_len = len;
	b->nr++;
	return 0;
}

static int batch_add(struct page_batch *b, const char *src, uint64_t addr, uint64_t len,
		     bool via_mem)
{
	while (len) {
		uint64_t n = len < MAX_RUN ? len : MAX_RUN;
		int r = batch_add_run(b, src, addr, n, via_mem);

		if (r < 0)
			return r;
		src += n;
		addr += n;
		len -= n;
	}
	return 0;
}

/*
 * The first page of [start, end) that no pagemap entry lists (a hole of
 * the image, whose contents are what the fresh mapping holds), or 0.
 */
static uint64_t first_hole_page(const struct mm_pages *pg, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	for (size_t i = 0; i < pg->nr_entries && at < end; i++) {
		const PagemapEntry *e = pg->entries[i];
		uint64_t e_end = e->vaddr + e->nr_pages * PAGE;

		if (e_end <= at)
			continue;
		if (e->vaddr > at)
			break;
		at = e_end;
	}
	return at < end ? at : 0;
}

/*
 * A VMA kept apart that got no page from the image gets one page written
 * back with what it holds (zeros, or the file's data): the content stays,
 * and the VMA gets its anon_vma. The page must be a hole of the image: a
 * page the image lists but did not write (lazy) would keep these zeros,
 * since the daemon's copy then finds it present. Without a hole the VMA is
 * left to merge with its neighbour (maps differs, the program does not).
 */
static int touch_kept_apart(struct rmm_ctx *c)
{
	unsigned char page[PAGE];

	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];
		uint64_t at;
		int r;

		if (!c->st[i].keep_apart || c->st[i].written)
			continue;
		at = first_hole_page(c->pages, v->start, v->end);
		if (!at) {
			pr_warn("task %d: %#llx-%#llx has no page to spare and may merge with a "
				"neighbour\n",
				c->pid, (unsigned long long)v->start, (unsigned long long)v->end);
			continue;
		}
		if (remote_read(c->pid, at, page, PAGE) < 0) {
			pr_warn("task %d: cannot read %#llx; %#llx-%#llx may merge with a "
				"neighbour\n",
				c->pid, (unsigned long long)v->start, (unsigned long long)v->start,
				(unsigned long long)v->end);
			continue;
		}
		r = mem_write(c, page, PAGE, at);
		if (r < 0)
			return r;
		c->st[i].written = true;
	}
	return 0;
}

static void unmap_pages_file(void *p, size_t len)
{
	if (p && p != MAP_FAILED)
		munmap(p, len);
}

/*
 * Write every page the image holds, except the lazy ones when lazy. The
 * pages file is mapped and its pages are handed to process_vm_writev as
 * they are: no copy on our side, one call per 1024 runs of pages.
 */
int restore_mm_write_pages(struct rmm_ctx *c, uint64_t *ret_bytes)
{
	const struct mm_pages *pg = c->pages;
	struct page_batch *b = NULL;
	uint64_t total = 0, file_len, n = 0;
	size_t vi = 0;
	struct stat st;
	char *map = NULL;
	int r = 0;

	*ret_bytes = 0;
	for (size_t i = 0; i < pg->nr_entries; i++)
		if (pg->entries[i]->flags & PAGEMAP_FLAG__PE_PAGES)
			total += pg->entries[i]->nr_pages;
	if (!total)
		return 0;
	if (pg->pages_fd < 0) {
		pr_err("the pagemap lists %llu pages but there is no pages file\n",
		       (unsigned long long)total);
		return -EINVAL;
	}
	if (fstat(pg->pages_fd, &st) < 0)
		return pr_err_ret(-errno, "cannot stat the pages file");
	file_len = img_pages_offset(total);
	if ((uint64_t)st.st_size < file_len) {
		pr_err("the pages file holds %lld bytes, the pagemap needs %llu\n",
		       (long long)st.st_size, (unsigned long long)file_len);
		return -EINVAL;
	}
	if (file_len > SIZE_MAX)
		return -EFBIG;
	map = mmap(NULL, file_len, PROT_READ, MAP_SHARED, pg->pages_fd, 0);
	if (map == MAP_FAILED)
		return pr_err_ret(-errno, "cannot map the pages file (%llu bytes)",
				  (unsigned long long)file_len);
	/*
	 * Eager: fill our page tables for the whole file in one call; taking
	 * a page fault per 16 pages while process_vm_writev copies costs more
	 * than the copy itself. Best effort (Linux 5.14+): faults still work.
	 * Lazy: most of the file is left to the daemon, read only what we use.
	 */
	if (!c->lazy && madvise(map, file_len, MADV_POPULATE_READ) < 0)
		madvise(map, file_len, MADV_SEQUENTIAL);
	b = calloc(1, sizeof(*b));
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	b->c = c;
	b->two_writers = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	b->local = calloc(BATCH_IOV, sizeof(*b->local));
	b->remote = calloc(BATCH_IOV, sizeof(*b->remote));
	if (!b->local || !b->remote) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < pg->nr_entries; i++) {
		const PagemapEntry *e = pg->entries[i];
		uint64_t addr = e->vaddr, end = e->vaddr + e->nr_pages * PAGE;
		uint64_t first = n;

		if (!(e->flags & PAGEMAP_FLAG__PE_PAGES)) {
			if (e->flags & PAGEMAP_FLAG__PE_PARENT) {
				pr_err("not supported: pages at %#llx are in a parent image\n",
				       (unsigned long long)e->vaddr);
				r = -EOPNOTSUPP;
				goto out;
			}
			if ((e->flags & PAGEMAP_FLAG__PE_REMOTE) && !c->lazy) {
				pr_err("pages at %#llx are on a page server: restore them with "
				       "--lazy-pages\n",
				       (unsigned long long)e->vaddr);
				r = -EOPNOTSUPP;
				goto out;
			}
			continue;
		}
		n += e->nr_pages;
		/* split the entry along the VMAs it covers */
		while (addr < end) {
			const VmaEntry *v;
			uint64_t piece_end;

			while (vi < c->mm->n_vmas && c->mm->vmas[vi]->end <= addr)
				vi++;
			if (vi == c->mm->n_vmas || c->mm->vmas[vi]->start > addr) {
				pr_err("pagemap entry %zu: page %#llx is in no VMA\n", i,
				       (unsigned long long)addr);
				r = -EINVAL;
				goto out;
			}
			v = c->mm->vmas[vi];
			piece_end = end < v->end ? end : v->end;
			if (v->kind != VMA_KIND__VMA_ANON &&
			    v->kind != VMA_KIND__VMA_FILE_PRIVATE) {
				pr_err("pagemap entry %zu: pages at %#llx in a %s VMA, which is "
				       "not restored from pages\n",
				       i, (unsigned long long)addr,
				       v->kind == VMA_KIND__VMA_FILE_SHARED ? "shared file"
									    : "special");
				r = -EINVAL;
				goto out;
			}
			bool skip = c->lazy && (e->flags & PAGEMAP_FLAG__PE_LAZY) &&
				    v->kind == VMA_KIND__VMA_ANON;
			/* a VMA kept apart needs one page now, lazy or not */
			uint64_t len = !skip ? piece_end - addr
				       : c->st[vi].keep_apart && !c->st[vi].written ? PAGE
										    : 0;

			if (len) {
				const char *src =
				    map + img_pages_offset(first + (addr - e->vaddr) / PAGE);

				r = batch_add(b, src, addr, len,
					      !(c->st[vi].map_prot & PROT_WRITE));
				if (r < 0)
					goto out;
				c->st[vi].written = true;
			}
			addr = piece_end;
		}
	}
	r = batch_flush(b);
	if (r < 0)
		goto out;
	r = touch_kept_apart(c);
	if (r < 0)
		goto out;
	*ret_bytes = b->bytes;
	if (b->via_mem)
		pr_debug("task %d: %llu bytes written through /proc/PID/mem\n", c->pid,
			 (unsigned long long)b->via_mem);
out:
	if (b) {
		free(b->local);
		free(b->remote);
	}
	free(b);
	unmap_pages_file(map, file_len);
	return r;
}
