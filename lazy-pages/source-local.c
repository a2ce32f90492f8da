// SPDX-License-Identifier: GPL-2.0-or-later
/* Page source from local images: pagemap-PID.img plus pages-PID.img. */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img.h"
#include "log.h"
#include "page-source.h"
#include "pagemap-load.h"
#include "pagemap.pb-c.h"
#include "util.h"

struct local_task {
	uint32_t pid;
	struct pagemap_run *e;
	size_t nr;
	int pages_fd; /* pages-PID.img, or -1 */
};

/*
 * Pages are read with pread into one reused buffer rather than served from
 * a mapping of the file: measured here, the daemon's own page faults on a
 * mapping made the background fill half as fast and faults twice as slow
 * as the extra copy (Documentation/lazy-pages.md, "Performance").
 */
#define READ_BUF_PAGES 256

struct local_source {
	struct page_source src;
	int dirfd;
	struct local_task *tasks;
	size_t nr_tasks;
	uint8_t *buf; /* READ_BUF_PAGES pages, page aligned */
};

static struct local_task *find_task(struct local_source *ls, uint32_t pid)
{
	for (size_t i = 0; i < ls->nr_tasks; i++)
		if (ls->tasks[i].pid == pid)
			return &ls->tasks[i];
	return NULL;
}

static void task_free(struct local_task *t)
{
	free(t->e);
	if (t->pages_fd >= 0)
		close(t->pages_fd);
}

/* Read and check pagemap-PID.img, and that its entries hold the pages the head says. */
static int load_pagemap(int dirfd, uint32_t pid, struct local_task *t, uint64_t *ret_file_pages)
{
	uint64_t file_pages, head_file_pages;
	int r;

	r = pagemap_load(dirfd, pid, 0, &t->e, &t->nr, &file_pages, &head_file_pages);
	if (r < 0)
		return r;
	if (file_pages != head_file_pages)
		return pr_err_ret(-EINVAL, "pagemap-%u.img: entries hold %llu pages, the head says %llu",
				  pid, (unsigned long long)file_pages,
				  (unsigned long long)head_file_pages);
	*ret_file_pages = file_pages;
	return 0;
}

/* Open pages-PID.img, refusing a file shorter than the pagemap. */
static int open_pages(int dirfd, uint32_t pid, uint64_t file_pages, struct local_task *t)
{
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	struct stat st;
	uint64_t need = img_pages_offset(file_pages);
	int r;

	if (!file_pages)
		return 0;
	snprintf(name, sizeof(name), "pages-%u.img", pid);
	r = img_open_read(dirfd, name, IMG_PAGES, &img);
	if (r < 0)
		return r;
	if (fstat(img_fd(img), &st) < 0)
		return pr_err_ret(negerrno(), "%s: stat", name);
	if ((uint64_t)st.st_size < need)
		return pr_err_ret(-EINVAL, "%s is truncated: %lld bytes, the pagemap needs %llu",
				  name, (long long)st.st_size, (unsigned long long)need);
	t->pages_fd = fcntl(img_fd(img), F_DUPFD_CLOEXEC, 3);
	if (t->pages_fd < 0)
		return pr_err_ret(negerrno(), "%s: dup", name);
	/* Background fill reads it in order, mostly. */
	posix_fadvise(t->pages_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

static int local_open_task(struct page_source *src, uint32_t pid, page_source_add_fn add, void *arg)
{
	struct local_source *ls = (struct local_source *)src;
	struct local_task t = {.pid = pid, .pages_fd = -1}, *tp;
	uint64_t file_pages = 0;
	int r;

	tp = find_task(ls, pid);
	if (!tp) {
		struct local_task *n;

		r = load_pagemap(ls->dirfd, pid, &t, &file_pages);
		if (r == 0)
			r = open_pages(ls->dirfd, pid, file_pages, &t);
		if (r < 0) {
			task_free(&t);
			return r;
		}
		n = reallocarray(ls->tasks, ls->nr_tasks + 1, sizeof(*n));
		if (!n) {
			task_free(&t);
			return -ENOMEM;
		}
		ls->tasks = n;
		ls->tasks[ls->nr_tasks] = t;
		tp = &ls->tasks[ls->nr_tasks++];
	}
	/* Lazy runs with data; lazy holes need no filling (zero on touch). */
	for (size_t i = 0; i < tp->nr; i++) {
		const struct pagemap_run *e = &tp->e[i];

		if ((e->flags & PAGEMAP_FLAG__PE_LAZY) && (e->flags & PAGEMAP_FLAG__PE_PAGES)) {
			r = add(arg, e->vaddr, e->nr_pages);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int local_fetch(struct page_source *src, uint32_t pid, uint64_t vaddr, uint64_t nr_pages,
		       struct page_run *ret)
{
	struct local_source *ls = (struct local_source *)src;
	struct local_task *t = find_task(ls, pid);
	size_t lo;
	int r;

	if (!t || !nr_pages || (vaddr & 4095))
		return -EINVAL;
	lo = pagemap_runs_find(t->e, t->nr, vaddr);
	if (lo == t->nr || t->e[lo].vaddr > vaddr) {
		/* A hole, up to the next entry. */
		uint64_t n = nr_pages;

		if (lo < t->nr && (t->e[lo].vaddr - vaddr) / 4096 < n)
			n = (t->e[lo].vaddr - vaddr) / 4096;
		*ret = (struct page_run){NULL, n};
		return 0;
	}
	{
		const struct pagemap_run *e = &t->e[lo];
		uint64_t off = (vaddr - e->vaddr) / 4096;
		uint64_t n = e->nr_pages - off;

		if (n > nr_pages)
			n = nr_pages;
		if (!(e->flags & PAGEMAP_FLAG__PE_PAGES)) {
			*ret = (struct page_run){NULL, n};
			return 0;
		}
		if (n > READ_BUF_PAGES)
			n = READ_BUF_PAGES;
		r = pread_all(t->pages_fd, ls->buf, n * 4096,
			      (off_t)img_pages_offset(e->file_page + off));
		if (r < 0)
			return pr_err_ret(r, "pages-%u.img: reading %llu pages at page %llu", pid,
					  (unsigned long long)n,
					  (unsigned long long)(e->file_page + off));
		*ret = (struct page_run){ls->buf, n};
	}
	return 0;
}

static void local_close(struct page_source *src)
{
	struct local_source *ls = (struct local_source *)src;

	for (size_t i = 0; i < ls->nr_tasks; i++)
		task_free(&ls->tasks[i]);
	free(ls->tasks);
	free(ls->buf);
	if (ls->dirfd >= 0)
		close(ls->dirfd);
	free(ls);
}

static const struct page_source_ops local_ops = {
    .name = "local images",
    .open_task = local_open_task,
    .fetch = local_fetch,
    .close = local_close,
};

int page_source_local_open(int dirfd, struct page_source **ret)
{
	struct local_source *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -ENOMEM;
	ls->src.ops = &local_ops;
	if (posix_memalign((void **)&ls->buf, 4096, READ_BUF_PAGES * 4096)) {
		free(ls);
		return -ENOMEM;
	}
	ls->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (ls->dirfd < 0) {
		int r = negerrno();

		free(ls->buf);
		free(ls);
		return pr_err_ret(r, "cannot duplicate the images directory fd");
	}
	*ret = &ls->src;
	return 0;
}
