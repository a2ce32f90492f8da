// SPDX-License-Identifier: GPL-2.0-or-later
/* VMAs and pages of a dumped process: pagemap scan, batched reads, images. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "dump-mm.h"
#include "dump-shmem.h"
#include "dump.h"
#include "img.h"
#include "log.h"
#include "page-server.h"
#include "pagemap-scan.h"
#include "util.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

#define PAGE_SZ	   4096u
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP	   (1ULL << 62)
#define PM_FILE	   (1ULL << 61) /* file page or shared anonymous page */
/* Pagemap entries read per pread (512 KiB). */
#define PAGEMAP_CHUNK 65536u
/* PAGEMAP_SCAN regions asked for per ioctl. */
#define PM_SCAN_REGIONS 1024u

/* process_vm_readv takes at most IOV_MAX remote iovecs per call. */
#define BATCH_IOVS 1024u

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int dump_vma_kind(const struct proc_vma *v, char *why, size_t whylen)
{
	const char *path = v->path ? v->path : "";

	if (!strcmp(path, "[vdso]"))
		return VMA_KIND__VMA_VDSO;
	if (!strcmp(path, "[vvar]"))
		return VMA_KIND__VMA_VVAR;
	if (!strcmp(path, "[vvar_vclock]"))
		return VMA_KIND__VMA_VVAR_VCLOCK;
	if (!strcmp(path, "[vsyscall]"))
		return VMA_KIND__VMA_VSYSCALL;
	if (v->vm_io) {
		snprintf(why, whylen, "device memory mapping at %#lx (%s)", (unsigned long)v->start,
			 path);
		return -EOPNOTSUPP;
	}
	/* MAP_SHARED|MAP_ANONYMOUS memory is a shmem file the kernel names
	 * /dev/zero; a memfd is named memfd:NAME. Both are unlinked. */
	if (v->shared && v->ino && v->deleted && !strcmp(path, "/dev/zero"))
		return VMA_KIND__VMA_SHARED_ANON;
	if (v->shared && v->ino && v->deleted && starts_with(path, "/memfd:"))
		return VMA_KIND__VMA_MEMFD;
	if (v->shared &&
	    (v->ino == 0 || starts_with(path, "/dev/zero") || starts_with(path, "/SYSV") ||
	     starts_with(path, "[anon_shmem:") || starts_with(path, "/memfd:"))) {
		snprintf(why, whylen, "shared anonymous memory at %#lx", (unsigned long)v->start);
		return -EOPNOTSUPP;
	}
	if (v->ino == 0 && !v->shared) {
		/* [heap], [stack], [anon:NAME] or nameless. */
		if (path[0] && path[0] != '[') {
			snprintf(why, whylen, "mapping of %s at %#lx", path,
				 (unsigned long)v->start);
			return -EOPNOTSUPP;
		}
		return VMA_KIND__VMA_ANON;
	}
	if (path[0] != '/') {
		snprintf(why, whylen, "mapping of %s at %#lx", path[0] ? path : "an unnamed file",
			 (unsigned long)v->start);
		return -EOPNOTSUPP;
	}
	if (v->deleted) {
		snprintf(why, whylen, "mapping of deleted file %s at %#lx", path,
			 (unsigned long)v->start);
		return -EOPNOTSUPP;
	}
	return v->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
}

bool dump_page_wanted(uint64_t pe, int kind)
{
	switch (kind) {
	case VMA_KIND__VMA_ANON:
		return pe & (PM_PRESENT | PM_SWAP);
	case VMA_KIND__VMA_FILE_PRIVATE:
		/* Only the copies the process made: a swapped page of a private
		 * mapping is anonymous; a present one is if not a file page. */
		return (pe & PM_SWAP) || ((pe & PM_PRESENT) && !(pe & PM_FILE));
	default:
		/* Shared file mappings live in the file; vdso and friends come
		 * from the kernel. */
		return false;
	}
}

int dump_mm_check(const struct dump_task *t)
{
	for (size_t i = 0; i < t->vmas.nr; i++) {
		char why[PATH_MAX + 128];
		int kind = dump_vma_kind(&t->vmas.v[i], why, sizeof(why));

		if (kind < 0) {
			pr_err("not supported: %s (process %d)\n", why, t->pid);
			return kind;
		}
	}
	return 0;
}

/* A run of saved pages, as it goes to pagemap-PID.img. */
struct pm_run {
	uint64_t vaddr, nr_pages;
	uint32_t flags;
	uint32_t vma; /* index; runs never span two VMAs */
};

/*
 * Writing into the pages file (page cache allocation plus a copy) costs
 * about as much as reading the task's memory: a second thread writes one
 * buffer while the first reads the next, so the two overlap on two cores.
 * Order is kept: buffers are written in the order they were filled.
 */
struct page_writer {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct img *img;
	struct ps_push *push; /* pages go there instead of img */
	uint32_t pid;
	unsigned char *buf[2];
	size_t len[2];
	bool busy[2]; /* handed to the writer, not yet written */
	bool stop;
	int err;
};

static void *writer_main(void *arg)
{
	struct page_writer *w = arg;
	unsigned idx = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int r;

		while (!w->busy[idx] && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->busy[idx])
			break;
		pthread_mutex_unlock(&w->lock);
		r = w->err    ? 0
		    : w->push ? ps_push_data(w->push, w->pid, w->buf[idx], w->len[idx])
			      : img_write_pages(w->img, w->buf[idx], w->len[idx]);
		pthread_mutex_lock(&w->lock);
		if (r < 0 && !w->err)
			w->err = r;
		w->busy[idx] = false;
		pthread_cond_broadcast(&w->cond);
		idx ^= 1;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int writer_start(struct page_writer *w, struct img *img, unsigned char *buf, size_t half)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->img = img;
	w->buf[0] = buf;
	w->buf[1] = buf + half;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = pthread_create(&w->thread, NULL, writer_main, w);
	if (r)
		return pr_err_ret(-r, "cannot start the page writer thread");
	w->started = true;
	return 0;
}

/* Wait until buffer idx is free again; returns the writer's error if any. */
static int writer_wait_free(struct page_writer *w, unsigned idx)
{
	int err;

	pthread_mutex_lock(&w->lock);
	while (w->busy[idx])
		pthread_cond_wait(&w->cond, &w->lock);
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	return err;
}

static void writer_submit(struct page_writer *w, unsigned idx, size_t len)
{
	pthread_mutex_lock(&w->lock);
	w->len[idx] = len;
	w->busy[idx] = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Write what is queued, stop the thread. Returns its first error. */
static int writer_finish(struct page_writer *w)
{
	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = false;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	return w->err;
}

struct mm_dumper {
	pid_t pid;
	int pagemap_fd;
	int mem_fd; /* /proc/PID/mem, opened on first need */
	struct page_writer writer;
	unsigned cur; /* the buffer being filled */
	unsigned char *buf;
	size_t buf_len;
	/* The batch being gathered: remote ranges and what they are. */
	struct iovec riov[BATCH_IOVS];
	uint32_t riov_vma[BATCH_IOVS];
	bool riov_anon[BATCH_IOVS];
	size_t nr_riov, batch_bytes;
	/* Output. */
	struct pm_run *runs;
	size_t nr_runs, cap_runs;
	uint64_t nr_pages, nr_zero;
	bool no_pagemap_scan; /* the kernel has no PAGEMAP_SCAN: read pagemap */
	bool remote_anon;     /* --lazy-pages --port: anonymous pages stay in the task */
	/* With remote_anon, the pages of argv and environ are saved anyway. */
	uint64_t eager_start, eager_end;
};

/* Append nr pages at addr to the runs, extending the last run when it
 * ends at addr with the same VMA and flags. */
static int append_run(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t flags, uint32_t vma)
{
	struct pm_run *last = d->nr_runs ? &d->runs[d->nr_runs - 1] : NULL;

	if (last && last->vma == vma && last->flags == flags &&
	    last->vaddr + last->nr_pages * PAGE_SZ == addr) {
		last->nr_pages += nr;
		return 0;
	}
	if (d->nr_runs == d->cap_runs) {
		size_t cap = d->cap_runs ? d->cap_runs * 2 : 256;
		struct pm_run *n = reallocarray(d->runs, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->runs = n;
		d->cap_runs = cap;
	}
	d->runs[d->nr_runs++] = (struct pm_run){addr, nr, flags, vma};
	return 0;
}

static int add_saved_page(struct mm_dumper *d, uint64_t addr, uint32_t vma, bool anon)
{
	return append_run(d, addr, 1, PAGEMAP_FLAG__PE_PAGES | (anon ? PAGEMAP_FLAG__PE_LAZY : 0),
			  vma);
}

static bool page_is_zero(const unsigned char *p)
{
	static const unsigned char zero[PAGE_SZ];
	uint64_t first;

	/* Most pages differ in their first word: decide that without a call. */
	memcpy(&first, p, sizeof(first));
	return !first && !memcmp(p, zero, PAGE_SZ);
}

/* Read what process_vm_readv could not (pages without PROT_READ): the
 * /proc/PID/mem path reads them with FOLL_FORCE. */
static int read_rest_via_mem(struct mm_dumper *d, size_t done)
{
	size_t off = 0;

	if (d->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", d->pid);
		d->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (d->mem_fd < 0)
			return pr_err_ret(-errno, "process %d: cannot open %s", d->pid, path);
	}
	for (size_t i = 0; i < d->nr_riov; i++) {
		size_t len = d->riov[i].iov_len;
		uint64_t addr = (uint64_t)d->riov[i].iov_base;

		if (off + len > done) {
			size_t skip = done > off ? done - off : 0;
			int r = pread_all(d->mem_fd, d->buf + off + skip, len - skip,
					  (off_t)(addr + skip));

			if (r < 0)
				return pr_err_ret(r, "process %d: cannot read memory at %#lx",
						  d->pid, (unsigned long)(addr + skip));
		}
		off += len;
	}
	return 0;
}

/* Read the batch, drop zero pages of anonymous VMAs, write the rest. */
static int flush_batch(struct mm_dumper *d)
{
	struct iovec local = {.iov_base = d->buf, .iov_len = d->batch_bytes};
	unsigned char *src = d->buf, *dst = d->buf;
	ssize_t n;
	int r;

	if (!d->nr_riov)
		return 0;
	/* d->buf is free: queue_pages waited for it before filling the batch. */
	n = process_vm_readv(d->pid, &local, 1, d->riov, d->nr_riov, 0);
	if (n < 0)
		n = 0;
	if ((size_t)n < d->batch_bytes) {
		r = read_rest_via_mem(d, (size_t)n);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < d->nr_riov; i++) {
		uint64_t addr = (uint64_t)d->riov[i].iov_base;
		size_t np = d->riov[i].iov_len / PAGE_SZ;

		for (size_t p = 0; p < np; p++, src += PAGE_SZ, addr += PAGE_SZ) {
			/* A zero page of an anonymous VMA is a hole; in a private
			 * file mapping it differs from the file and is kept. */
			if (d->riov_anon[i] && page_is_zero(src)) {
				d->nr_zero++;
				continue;
			}
			if (dst != src)
				memmove(dst, src, PAGE_SZ);
			dst += PAGE_SZ;
			r = add_saved_page(d, addr, d->riov_vma[i], d->riov_anon[i]);
			if (r < 0)
				return r;
		}
	}
	d->nr_riov = 0;
	d->batch_bytes = 0;
	if (dst == d->buf)
		return 0;
	d->nr_pages += (dst - d->buf) / PAGE_SZ;
	writer_submit(&d->writer, d->cur, dst - d->buf);
	d->cur ^= 1;
	d->buf = d->writer.buf[d->cur];
	return 0;
}

/* A run of anonymous pages the page server will serve from the frozen task. */
static int add_remote_run(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t vma)
{
	/* Runs stay in address order: pages queued before go first. */
	int r = flush_batch(d);

	if (r < 0)
		return r;
	return append_run(d, addr, nr, PAGEMAP_FLAG__PE_LAZY | PAGEMAP_FLAG__PE_REMOTE, vma);
}

static int queue_local_pages(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t vma,
			     bool anon);

/*
 * Anonymous pages of a dump that serves them from the frozen tree: they
 * stay in the task, except the pages of argv and environ. Those are saved
 * here and restored eagerly: ps and friends read them through
 * /proc/PID/cmdline while the destination is still mapping, before lazy
 * memory is registered, and such a read would leave a zero page there
 * that nothing on the destination could fill.
 */
static int queue_remote_pages(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t vma)
{
	uint64_t end = addr + nr * PAGE_SZ;
	uint64_t a = addr > d->eager_start ? addr : d->eager_start;
	uint64_t b = end < d->eager_end ? end : d->eager_end;
	int r;

	if (a >= b)
		return add_remote_run(d, addr, nr, vma);
	if (a > addr) {
		r = add_remote_run(d, addr, (a - addr) / PAGE_SZ, vma);
		if (r < 0)
			return r;
	}
	/* anon = false: saved as they are, without PE_LAZY */
	r = queue_local_pages(d, a, (b - a) / PAGE_SZ, vma, false);
	if (r < 0 || b == end)
		return r;
	return add_remote_run(d, b, (end - b) / PAGE_SZ, vma);
}

/* Queue nr pages at addr for reading, flushing as batches fill. */
static int queue_pages(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t vma, bool anon)
{
	if (anon && d->remote_anon)
		return queue_remote_pages(d, addr, nr, vma);
	return queue_local_pages(d, addr, nr, vma, anon);
}

static int queue_local_pages(struct mm_dumper *d, uint64_t addr, uint64_t nr, uint32_t vma,
			     bool anon)
{
	while (nr) {
		size_t room = (d->buf_len - d->batch_bytes) / PAGE_SZ;
		size_t take;
		int r;

		if (!room || d->nr_riov == BATCH_IOVS) {
			r = flush_batch(d);
			if (r < 0)
				return r;
			continue;
		}
		if (!d->nr_riov) {
			r = writer_wait_free(&d->writer, d->cur);
			if (r < 0)
				return r;
		}
		take = nr < room ? nr : room;
		d->riov[d->nr_riov].iov_base = (void *)addr;
		d->riov[d->nr_riov].iov_len = take * PAGE_SZ;
		d->riov_vma[d->nr_riov] = vma;
		d->riov_anon[d->nr_riov] = anon;
		d->nr_riov++;
		d->batch_bytes += take * PAGE_SZ;
		addr += take * PAGE_SZ;
		nr -= take;
	}
	return 0;
}

/* Walk the pagemap of one VMA and queue the runs of wanted pages. */
static int scan_vma(struct mm_dumper *d, const struct proc_vma *v, uint32_t idx, int kind,
		    uint64_t *pm)
{
	bool anon = kind == VMA_KIND__VMA_ANON;
	uint64_t run_start = 0, run_len = 0;

	for (uint64_t addr = v->start; addr < v->end;) {
		uint64_t nr = (v->end - addr) / PAGE_SZ;
		int r;

		if (nr > PAGEMAP_CHUNK)
			nr = PAGEMAP_CHUNK;
		r = pread_all(d->pagemap_fd, pm, nr * sizeof(*pm), (off_t)(addr / PAGE_SZ * 8));
		if (r < 0)
			return pr_err_ret(r, "process %d: cannot read the pagemap at %#lx", d->pid,
					  (unsigned long)addr);
		for (uint64_t i = 0; i < nr; i++, addr += PAGE_SZ) {
			if (dump_page_wanted(pm[i], kind)) {
				if (!run_len)
					run_start = addr;
				run_len++;
				continue;
			}
			if (run_len) {
				r = queue_pages(d, run_start, run_len, idx, anon);
				if (r < 0)
					return r;
				run_len = 0;
			}
		}
	}
	if (run_len)
		return queue_pages(d, run_start, run_len, idx, anon);
	return 0;
}

/*
 * The same as scan_vma with PAGEMAP_SCAN. Returns -ENOTTY when the kernel
 * lacks it (before anything was queued), so the caller can fall back.
 */
static int scan_vma_regions(struct mm_dumper *d, const struct proc_vma *v, uint32_t idx, int kind,
			    struct pm_region *vec)
{
	bool anon = kind == VMA_KIND__VMA_ANON;
	uint64_t start = v->start;

	while (start < v->end) {
		struct pm_scan a = {
		    .size = sizeof(a),
		    .start = start,
		    .end = v->end,
		    .vec = (uintptr_t)vec,
		    .vec_len = PM_SCAN_REGIONS,
		    .category_anyof_mask = PM_IS_PRESENT | PM_IS_SWAPPED,
		    .return_mask = PM_IS_PRESENT | PM_IS_SWAPPED | PM_IS_FILE | PM_IS_PFNZERO,
		};
		long n = ioctl(d->pagemap_fd, PM_SCAN_IOCTL, &a);

		if (n < 0) {
			if ((errno == ENOTTY || errno == EINVAL) && start == v->start)
				return -ENOTTY;
			return pr_err_ret(-errno, "process %d: PAGEMAP_SCAN at %#lx", d->pid,
					  (unsigned long)start);
		}
		if ((unsigned long)n > PM_SCAN_REGIONS || a.walk_end <= start ||
		    a.walk_end > v->end) {
			pr_err("process %d: PAGEMAP_SCAN returned %ld regions up to %#lx\n", d->pid,
			       n, (unsigned long)a.walk_end);
			return -EPROTO;
		}
		for (long i = 0; i < n; i++) {
			const struct pm_region *g = &vec[i];
			uint64_t cat = g->categories;
			int r;

			if (g->start < start || g->end > a.walk_end || g->end <= g->start ||
			    (g->start | g->end) % PAGE_SZ) {
				pr_err("process %d: PAGEMAP_SCAN region %#lx-%#lx out of range\n",
				       d->pid, (unsigned long)g->start, (unsigned long)g->end);
				return -EPROTO;
			}
			if (!(cat & PM_IS_SWAPPED)) {
				/* The file holds it (same rule as dump_page_wanted). */
				if (kind == VMA_KIND__VMA_FILE_PRIVATE && (cat & PM_IS_FILE))
					continue;
				/* The shared zero page: a hole, no need to read it. */
				if (anon && (cat & PM_IS_PFNZERO)) {
					d->nr_zero += (g->end - g->start) / PAGE_SZ;
					continue;
				}
			}
			r = queue_pages(d, g->start, (g->end - g->start) / PAGE_SZ, idx, anon);
			if (r < 0)
				return r;
		}
		start = a.walk_end;
	}
	return 0;
}

static int write_pagemap(struct dump_ctx *ctx, const struct dump_task *t, const struct mm_dumper *d)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	int r;

	for (size_t i = 0; ctx->lazy && i < d->nr_runs; i++)
		if (d->runs[i].flags & PAGEMAP_FLAG__PE_REMOTE) {
			r = ps_lazy_add_run(ctx->lazy, (uint32_t)t->pid, d->runs[i].vaddr,
					    d->runs[i].nr_pages);
			if (r < 0)
				return r;
		}
	if (ctx->push) {
		for (size_t i = 0; i < d->nr_runs; i++) {
			r = ps_push_run(ctx->push, (uint32_t)t->pid, d->runs[i].vaddr,
					d->runs[i].nr_pages, d->runs[i].flags);
			if (r < 0)
				return r;
		}
		return ps_push_end(ctx->push, (uint32_t)t->pid, d->nr_pages);
	}
	snprintf(name, sizeof(name), "pagemap-%d.img", t->pid);
	r = img_open_write(ctx->dirfd, name, IMG_PAGEMAP, &img);
	if (r < 0)
		return r;
	head.id = t->pid;
	head.nr_entries = d->nr_runs;
	head.nr_file_pages = d->nr_pages;
	r = img_write_msg(img, &head.base);
	if (r < 0)
		return r;
	for (size_t i = 0; i < d->nr_runs; i++) {
		PagemapEntry e = PAGEMAP_ENTRY__INIT;

		e.vaddr = d->runs[i].vaddr;
		e.nr_pages = d->runs[i].nr_pages;
		e.flags = d->runs[i].flags;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

static int write_mm(struct dump_ctx *ctx, const struct dump_task *t)
{
	MmEntry mm = MM_ENTRY__INIT;
	_cleanup_free_ VmaEntry *vmas = NULL;
	_cleanup_free_ VmaEntry **vmap = NULL;
	_cleanup_free_ char **names = NULL;
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	int r = 0;

	vmas = calloc(t->vmas.nr ? t->vmas.nr : 1, sizeof(*vmas));
	vmap = calloc(t->vmas.nr ? t->vmas.nr : 1, sizeof(*vmap));
	names = calloc(t->vmas.nr ? t->vmas.nr : 1, sizeof(*names));
	if (!vmas || !vmap || !names)
		return -ENOMEM;
	for (size_t i = 0; i < t->vmas.nr; i++) {
		const struct proc_vma *v = &t->vmas.v[i];
		VmaEntry *e = &vmas[i];
		char why[PATH_MAX + 128];
		int kind = dump_vma_kind(v, why, sizeof(why));

		if (kind < 0) {
			r = pr_err_ret(kind, "not supported: %s (process %d)", why, t->pid);
			goto out;
		}
		*e = (VmaEntry)VMA_ENTRY__INIT;
		e->start = v->start;
		e->end = v->end;
		e->prot = v->prot;
		e->flags = v->shared ? MAP_SHARED : MAP_PRIVATE;
		e->kind = kind;
		if (kind == VMA_KIND__VMA_ANON)
			e->flags |= MAP_ANONYMOUS;
		if (v->vmflags & VMA_FLAG__VMF_GROWSDOWN)
			e->flags |= MAP_GROWSDOWN;
		if (kind == VMA_KIND__VMA_FILE_PRIVATE || kind == VMA_KIND__VMA_FILE_SHARED) {
			e->has_pgoff = e->has_dev = e->has_ino = true;
			e->pgoff = v->pgoff;
			e->path = v->path;
			e->dev = v->dev;
			e->ino = v->ino;
		}
		if ((kind == VMA_KIND__VMA_SHARED_ANON || kind == VMA_KIND__VMA_MEMFD) &&
		    ctx->push) {
			pr_err("not supported: %s at %#lx of process %d with --page-server "
			       "(shared memory objects are saved in the images directory)\n",
			       kind == VMA_KIND__VMA_MEMFD ? "a memfd mapping"
							   : "shared anonymous memory",
			       (unsigned long)v->start, t->pid);
			r = -EOPNOTSUPP;
			goto out;
		}
		if (kind == VMA_KIND__VMA_SHARED_ANON || kind == VMA_KIND__VMA_MEMFD) {
			/* The object's pages are saved once, with the object. */
			r = dump_shmem_vma(&ctx->shmem, ctx->dirfd, t->pid, v, kind, &e->shmid);
			if (r < 0)
				goto out;
			e->has_shmid = e->has_pgoff = true;
			e->pgoff = v->pgoff;
			if (kind == VMA_KIND__VMA_SHARED_ANON)
				e->flags |= MAP_ANONYMOUS;
		}
		if (kind == VMA_KIND__VMA_ANON && v->path && starts_with(v->path, "[anon:")) {
			size_t len = strlen(v->path);

			if (len < 7 || v->path[len - 1] != ']') {
				pr_err("process %d: malformed anonymous VMA name %s\n", t->pid,
				       v->path);
				r = -EPROTO;
				goto out;
			}
			names[i] = strndup(v->path + 6, len - 7);
			if (!names[i]) {
				r = -ENOMEM;
				goto out;
			}
			e->name = names[i];
		}
		e->has_vmflags = true;
		e->vmflags = v->vmflags;
		vmap[i] = e;
	}
	mm.start_code = t->stat.start_code;
	mm.end_code = t->stat.end_code;
	mm.start_data = t->stat.start_data;
	mm.end_data = t->stat.end_data;
	mm.start_brk = t->stat.start_brk;
	mm.brk = t->brk;
	mm.start_stack = t->stat.start_stack;
	mm.arg_start = t->stat.arg_start;
	mm.arg_end = t->stat.arg_end;
	mm.env_start = t->stat.env_start;
	mm.env_end = t->stat.env_end;
	mm.n_auxv = t->nr_auxv;
	mm.auxv = t->auxv;
	mm.exe_path = t->exe;
	mm.has_exe_dev = mm.has_exe_ino = true;
	mm.exe_dev = t->exe_dev;
	mm.exe_ino = t->exe_ino;
	mm.n_vmas = t->vmas.nr;
	mm.vmas = vmap;

	snprintf(name, sizeof(name), "mm-%d.img", t->pid);
	r = img_open_write(ctx->dirfd, name, IMG_MM, &img);
	if (r < 0)
		goto out;
	r = img_write_msg(img, &mm.base);
	if (r < 0)
		goto out;
	r = img_commit(img);
out:
	for (size_t i = 0; i < t->vmas.nr; i++)
		free(names[i]);
	return r;
}

int dump_mm(struct dump_ctx *ctx, struct dump_task *t)
{
	struct mm_dumper *d = NULL;
	_cleanup_free_ uint64_t *pm = NULL;
	_cleanup_free_ struct pm_region *regions = NULL;
	_cleanup_close_ int pagemap_fd = -1;
	_cleanup_img_ struct img *pages = NULL;
	char path[64];
	int r;

	r = write_mm(ctx, t);
	if (r < 0)
		return r;
	if (!ctx->page_buf) {
		/* Two batches, populated now so that no read faults them in. */
		void *b = mmap(NULL, 2 * DUMP_MM_BATCH, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (b == MAP_FAILED)
			return pr_err_ret(-errno, "cannot allocate the page buffer");
		ctx->page_buf = b;
		ctx->page_buf_len = 2 * DUMP_MM_BATCH;
	}
	pm = malloc(PAGEMAP_CHUNK * sizeof(*pm));
	regions = calloc(PM_SCAN_REGIONS, sizeof(*regions));
	d = calloc(1, sizeof(*d));
	if (!pm || !d || !regions) {
		free(d);
		return -ENOMEM;
	}
	d->pid = t->pid;
	d->mem_fd = -1;
	d->buf_len = ctx->page_buf_len / 2;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0) {
		r = pr_err_ret(-errno, "process %d: cannot open %s", t->pid, path);
		goto out;
	}
	d->pagemap_fd = pagemap_fd;
	d->remote_anon = ctx->lazy != NULL;
	d->eager_start = t->stat.arg_start & ~(uint64_t)(PAGE_SZ - 1);
	d->eager_end = (t->stat.env_end + PAGE_SZ - 1) & ~(uint64_t)(PAGE_SZ - 1);
	if (d->eager_end < d->eager_start || d->eager_end - d->eager_start > (64u << 20))
		d->eager_start = d->eager_end = 0; /* nonsense from /proc: keep all lazy */
	snprintf(path, sizeof(path), "pages-%d.img", t->pid);
	if (!ctx->push) {
		r = img_open_write(ctx->dirfd, path, IMG_PAGES, &pages);
		if (r < 0)
			goto out;
	}
	r = writer_start(&d->writer, pages, ctx->page_buf, d->buf_len);
	d->writer.push = ctx->push;
	d->writer.pid = (uint32_t)t->pid;
	if (r < 0)
		goto out;
	d->buf = d->writer.buf[0];

	for (size_t i = 0; i < t->vmas.nr; i++) {
		const struct proc_vma *v = &t->vmas.v[i];
		char why[PATH_MAX + 128];
		int kind = dump_vma_kind(v, why, sizeof(why));

		if (kind != VMA_KIND__VMA_ANON && kind != VMA_KIND__VMA_FILE_PRIVATE)
			continue;
		r = -ENOTTY;
		if (!d->no_pagemap_scan) {
			r = scan_vma_regions(d, v, (uint32_t)i, kind, regions);
			if (r == -ENOTTY) {
				pr_info("no PAGEMAP_SCAN in this kernel: reading pagemap\n");
				d->no_pagemap_scan = true;
			}
		}
		if (r == -ENOTTY)
			r = scan_vma(d, v, (uint32_t)i, kind, pm);
		if (r < 0)
			goto out;
	}
	r = flush_batch(d);
	if (r < 0)
		goto out;
	r = writer_finish(&d->writer);
	if (r < 0)
		goto out;
	r = pages ? img_commit(pages) : 0;
	if (r < 0)
		goto out;
	r = write_pagemap(ctx, t, d);
	if (r < 0)
		goto out;
	ctx->stats.nr_vmas += t->vmas.nr;
	ctx->stats.nr_pages += d->nr_pages;
	ctx->stats.nr_zero += d->nr_zero;
	pr_info("process %d: %zu VMAs, %lu pages saved, %lu zero pages left as holes\n", t->pid,
		t->vmas.nr, (unsigned long)d->nr_pages, (unsigned long)d->nr_zero);
out:
	/* On error the thread still has to stop before the image goes. */
	writer_finish(&d->writer);
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	free(d->runs);
	free(d);
	return r;
}
