// SPDX-License-Identifier: GPL-2.0-or-later
/* Page contents of a rebuilt address space, from the mapped pages file. */
#define LOG_PREFIX "restore-mm: "
#include <fcntl.h>
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
/* process_vm_writev takes at most IOV_MAX (1024) elements per side. */
#define BATCH_IOV 1024

struct page_batch {
	struct rmm_ctx *c;
	struct iovec local[BATCH_IOV], remote[BATCH_IOV];
	size_t nr;
	uint64_t bytes; /* written so far, for statistics */
	uint64_t via_mem;
};

static int mem_write(struct rmm_ctx *c, const void *buf, size_t len, uint64_t addr)
{
	int r;

	if (c->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
		c->mem_fd = open(path, O_RDWR | O_CLOEXEC);
		if (c->mem_fd < 0)
			return pr_err_ret(-errno, "cannot open %s", path);
	}
	r = pwrite_all(c->mem_fd, buf, len, (off_t)addr);
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot write %zu bytes at %#llx", c->pid, len,
				  (unsigned long long)addr);
	return 0;
}

static int batch_flush(struct page_batch *b)
{
	size_t i = 0;

	while (i < b->nr) {
		ssize_t n = process_vm_writev(b->c->pid, b->local + i, b->nr - i, b->remote + i,
					      b->nr - i, 0);
		int r;

		if (n < 0) {
			/* EFAULT: the first element's target is not writable
			 * (it can't be: such VMAs go through mem_write);
			 * ENOSYS/EPERM: no process_vm_writev at all. */
			if (errno != EFAULT && errno != ENOSYS && errno != EPERM)
				return pr_err_ret(-errno, "task %d: process_vm_writev", b->c->pid);
			n = 0;
		}
		b->bytes += n;
		/* skip what went in; the pairs have equal lengths */
		while (i < b->nr && (size_t)n >= b->local[i].iov_len) {
			n -= b->local[i].iov_len;
			i++;
		}
		if (i == b->nr)
			break;
		b->local[i].iov_base = (char *)b->local[i].iov_base + n;
		b->local[i].iov_len -= n;
		b->remote[i].iov_base = (char *)b->remote[i].iov_base + n;
		b->remote[i].iov_len -= n;
		/* the element that stopped the call goes through /proc/PID/mem */
		r = mem_write(b->c, b->local[i].iov_base, b->local[i].iov_len,
			      (uint64_t)b->remote[i].iov_base);
		if (r < 0)
			return r;
		b->bytes += b->local[i].iov_len;
		b->via_mem += b->local[i].iov_len;
		i++;
	}
	b->nr = 0;
	return 0;
}

static int batch_add(struct page_batch *b, const void *src, uint64_t addr, uint64_t len,
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
	if (b->nr) {
		struct iovec *l = &b->local[b->nr - 1], *rm = &b->remote[b->nr - 1];

		if ((const char *)l->iov_base + l->iov_len == src &&
		    (uint64_t)rm->iov_base + rm->iov_len == addr) {
			l->iov_len += len;
			rm->iov_len += len;
			return 0;
		}
	}
	if (b->nr == BATCH_IOV) {
		int r = batch_flush(b);

		if (r < 0)
			return r;
	}
	b->local[b->nr].iov_base = (void *)src;
	b->local[b->nr].iov_len = len;
	b->remote[b->nr].iov_base = (void *)addr;
	b->remote[b->nr].iov_len = len;
	b->nr++;
	return 0;
}

/*
 * A VMA kept apart that got no page from the image gets its first page
 * written back with what it holds (zeros, or the file's data): the content
 * stays, and the VMA gets its anon_vma.
 */
static int touch_kept_apart(struct rmm_ctx *c)
{
	unsigned char page[PAGE];

	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];
		int r;

		if (!c->st[i].keep_apart || c->st[i].written)
			continue;
		if (remote_read(c->pid, v->start, page, PAGE) < 0) {
			pr_warn("task %d: cannot read %#llx; %#llx-%#llx may merge with a "
				"neighbour\n",
				c->pid, (unsigned long long)v->start, (unsigned long long)v->start,
				(unsigned long long)v->end);
			continue;
		}
		r = mem_write(c, page, PAGE, v->start);
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
	 * Fill our page tables for the whole file in one call: taking a page
	 * fault per 16 pages while process_vm_writev copies costs more than
	 * the copy itself. Best effort (Linux 5.14+): faults still work.
	 */
	if (madvise(map, file_len, MADV_POPULATE_READ) < 0)
		madvise(map, file_len, MADV_SEQUENTIAL);
	b = calloc(1, sizeof(*b));
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	b->c = c;
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
	free(b);
	unmap_pages_file(map, file_len);
	return r;
}
