// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared anonymous memory and memfds: each object once, pages by offset. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>

#include "dump-shmem.h"
#include "img.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

#define SHMEM_PAGE     4096ull
#define SHMEM_CHUNK    (1u << 20) /* bytes read per pread */
#define MEMFD_NAME_MAX 249u

struct dump_shmem_obj {
	uint64_t ino;
	int kind; /* VMA_SHARED_ANON or VMA_MEMFD */
	uint64_t size;
	char *name; /* memfd */
	bool has_seals;
	uint32_t seals;
};

struct dump_shmem {
	struct dump_shmem_obj *objs;
	size_t nr;
};

int dump_memfd_name(const char *link, char *buf, size_t len)
{
	static const char pfx[] = "/memfd:", sfx[] = " (deleted)";
	size_t ll = strlen(link), pl = sizeof(pfx) - 1, sl = sizeof(sfx) - 1;

	if (ll < pl || memcmp(link, pfx, pl))
		return -EINVAL;
	if (ll >= pl + sl && !strcmp(link + ll - sl, sfx))
		ll -= sl;
	ll -= pl;
	if (ll > MEMFD_NAME_MAX || ll >= len)
		return -EINVAL;
	memcpy(buf, link + pl, ll);
	buf[ll] = '\0';
	return 0;
}

static bool all_zero(const unsigned char *p, size_t len)
{
	/* Word-wise: pages are aligned in the buffer. */
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

struct shmem_runs {
	PagemapEntry *e;
	size_t nr, cap;
	uint64_t stored;
};

static int add_page(struct shmem_runs *r, uint64_t off)
{
	PagemapEntry *last = r->nr ? &r->e[r->nr - 1] : NULL;

	r->stored++;
	if (last && last->vaddr + last->nr_pages * SHMEM_PAGE == off) {
		last->nr_pages++;
		return 0;
	}
	if (r->nr == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		PagemapEntry *n = reallocarray(r->e, ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->e = n;
		r->cap = ncap;
	}
	r->e[r->nr] = (PagemapEntry)PAGEMAP_ENTRY__INIT;
	r->e[r->nr].vaddr = off;
	r->e[r->nr].nr_pages = 1;
	r->e[r->nr].flags = PAGEMAP_FLAG__PE_PAGES;
	r->nr++;
	return 0;
}

/* Read [start, end) of fd and store its non-zero pages. */
static int save_range(int fd, struct img *pages, unsigned char *buf, uint64_t start, uint64_t end,
		      uint64_t size, struct shmem_runs *runs)
{
	for (uint64_t off = start; off < end;) {
		size_t len = end - off < SHMEM_CHUNK ? (size_t)(end - off) : SHMEM_CHUNK;
		size_t want = off + len > size ? (size_t)(size - off) : len;
		int r;

		/* The tail of the last page past the size reads as zeros. */
		memset(buf + want, 0, len - want);
		r = pread_all(fd, buf, want, (off_t)off);
		if (r < 0)
			return pr_err_ret(r, "cannot read shared memory at offset %#" PRIx64, off);
		/* Runs of non-zero pages go out in one write each. */
		size_t run = 0;

		for (size_t p = 0; p <= len; p += SHMEM_PAGE) {
			if (p < len && !all_zero(buf + p, SHMEM_PAGE)) {
				r = add_page(runs, off + p);
				if (r < 0)
					return r;
				continue;
			}
			if (p > run) {
				r = img_write_pages(pages, buf + run, p - run);
				if (r < 0)
					return r;
			}
			run = p + SHMEM_PAGE;
		}
		off += len;
	}
	return 0;
}

int dump_shmem_pages(int dirfd, int fd, uint64_t id, uint64_t size)
{
	_cleanup_img_ struct img *pages = NULL, *pm = NULL;
	struct shmem_runs runs = {};
	PagemapHead head = PAGEMAP_HEAD__INIT;
	uint64_t end = (size + SHMEM_PAGE - 1) & ~(SHMEM_PAGE - 1);
	unsigned char *buf;
	char name[64];
	int r;

	buf = mmap(NULL, SHMEM_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return pr_err_ret(-errno, "cannot allocate a buffer");
	snprintf(name, sizeof(name), "pages-shmem-%" PRIu64 ".img", id);
	r = img_open_write(dirfd, name, IMG_PAGES, &pages);
	if (r < 0)
		goto out;
	/* Only the ranges the object holds pages for (shmem answers
	 * SEEK_DATA/SEEK_HOLE from its page cache and swap). */
	for (uint64_t at = 0; at < end;) {
		off_t data = lseek(fd, (off_t)at, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0) {
			r = pr_err_ret(-errno, "shared memory %" PRIu64 ": SEEK_DATA", id);
			goto out;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			r = pr_err_ret(-errno, "shared memory %" PRIu64 ": SEEK_HOLE", id);
			goto out;
		}
		data &= ~(off_t)(SHMEM_PAGE - 1);
		hole = (off_t)(((uint64_t)hole + SHMEM_PAGE - 1) & ~(SHMEM_PAGE - 1));
		if ((uint64_t)hole > end)
			hole = (off_t)end;
		if ((uint64_t)hole <= at)
			break;
		if ((uint64_t)data < at)
			data = (off_t)at;
		r = save_range(fd, pages, buf, (uint64_t)data, (uint64_t)hole, size, &runs);
		if (r < 0)
			goto out;
		at = (uint64_t)hole;
	}
	r = img_commit(pages);
	if (r < 0)
		goto out;

	snprintf(name, sizeof(name), "pagemap-shmem-%" PRIu64 ".img", id);
	r = img_open_write(dirfd, name, IMG_PAGEMAP, &pm);
	if (r < 0)
		goto out;
	head.id = id;
	head.nr_entries = runs.nr;
	head.nr_file_pages = runs.stored;
	r = img_write_msg(pm, &head.base);
	for (size_t i = 0; r >= 0 && i < runs.nr; i++)
		r = img_write_msg(pm, &runs.e[i].base);
	if (r >= 0)
		r = img_commit(pm);
	if (r >= 0)
		pr_info("shared memory %" PRIu64 ": %" PRIu64 " bytes, %" PRIu64
			" pages saved in %zu runs\n",
			id, size, runs.stored, runs.nr);
out:
	munmap(buf, SHMEM_CHUNK);
	free(runs.e);
	return r;
}

static struct dump_shmem_obj *find_obj(struct dump_shmem *s, uint64_t ino)
{
	for (size_t i = 0; s && i < s->nr; i++)
		if (s->objs[i].ino == ino)
			return &s->objs[i];
	return NULL;
}

/* Register the object open as fd (from path, for messages) and save it. */
static int add_obj(struct dump_shmem **sp, int dirfd, int fd, const char *what, int kind,
		   const char *name, uint64_t *ret_shmid)
{
	struct dump_shmem_obj o = {.kind = kind}, *n;
	struct statfs sfs;
	struct stat st;
	int seals, r;

	if (fstat(fd, &st) < 0)
		return pr_err_ret(-errno, "cannot stat %s", what);
	if (find_obj(*sp, st.st_ino)) {
		*ret_shmid = st.st_ino;
		return 0;
	}
	if (fstatfs(fd, &sfs) < 0)
		return pr_err_ret(-errno, "cannot statfs %s", what);
	if (sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("not supported: %s is hugetlb memory\n", what);
		return -EOPNOTSUPP;
	}
	if (sfs.f_type != TMPFS_MAGIC) {
		pr_err("%s is not shared memory (file system %#lx)\n", what,
		       (unsigned long)sfs.f_type);
		return -EPROTO;
	}
	o.ino = st.st_ino;
	o.size = (uint64_t)st.st_size;
	if (kind == VMA_KIND__VMA_MEMFD) {
		seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0)
			return pr_err_ret(-errno, "F_GET_SEALS on %s", what);
		o.has_seals = true;
		o.seals = (uint32_t)seals;
		o.name = strdup(name);
		if (!o.name)
			return -ENOMEM;
	}
	r = dump_shmem_pages(dirfd, fd, o.ino, o.size);
	if (r < 0) {
		free(o.name);
		return pr_err_ret(r, "cannot save the pages of %s", what);
	}
	if (!*sp) {
		*sp = calloc(1, sizeof(**sp));
		if (!*sp) {
			free(o.name);
			return -ENOMEM;
		}
	}
	n = reallocarray((*sp)->objs, (*sp)->nr + 1, sizeof(*n));
	if (!n) {
		free(o.name);
		return -ENOMEM;
	}
	(*sp)->objs = n;
	n[(*sp)->nr++] = o;
	*ret_shmid = o.ino;
	return 0;
}

int dump_shmem_vma(struct dump_shmem **sp, int dirfd, pid_t pid, const struct proc_vma *v, int kind,
		   uint64_t *ret_shmid)
{
	char path[96], what[160], name[MEMFD_NAME_MAX + 1] = "";
	_cleanup_close_ int fd = -1;

	if (find_obj(*sp, v->ino)) {
		/* The inode in maps is the object's: no need to open it again. */
		*ret_shmid = v->ino;
		return 0;
	}
	if (kind == VMA_KIND__VMA_MEMFD &&
	    dump_memfd_name(v->path ? v->path : "", name, sizeof(name)) < 0) {
		pr_err("process %d: memfd mapping at %#" PRIx64 " has a malformed name\n", pid,
		       v->start);
		return -EPROTO;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, v->start,
		 v->end);
	snprintf(what, sizeof(what), "the shared memory at %#" PRIx64 " of process %d", v->start,
		 pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_err_ret(-errno, "cannot open %s", path);
	return add_obj(sp, dirfd, fd, what, kind, name, ret_shmid);
}

int dump_shmem_memfd(struct dump_shmem **sp, int dirfd, pid_t pid, int fd, const char *link,
		     uint64_t *ret_shmid)
{
	char path[64], what[96], name[MEMFD_NAME_MAX + 1];
	_cleanup_close_ int ours = -1;

	if (dump_memfd_name(link, name, sizeof(name)) < 0) {
		pr_err("process %d: fd %d: malformed memfd name %s\n", pid, fd, link);
		return -EPROTO;
	}
	/* A new read-only description of the same inode: the process's own
	 * may be write-only, and its offset must not move. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	snprintf(what, sizeof(what), "memfd fd %d of process %d", fd, pid);
	ours = open(path, O_RDONLY | O_CLOEXEC);
	if (ours < 0)
		return pr_err_ret(-errno, "cannot open %s", path);
	return add_obj(sp, dirfd, ours, what, VMA_KIND__VMA_MEMFD, name, ret_shmid);
}

int dump_shmem_write(const struct dump_shmem *s, int dirfd)
{
	_cleanup_img_ struct img *img = NULL;
	int r;

	if (!s || !s->nr)
		return 0;
	r = img_open_write(dirfd, "shmem.img", IMG_SHMEM, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->nr; i++) {
		const struct dump_shmem_obj *o = &s->objs[i];
		ShmemEntry e = SHMEM_ENTRY__INIT;

		e.id = o->ino;
		e.kind = o->kind;
		e.size = o->size;
		e.name = o->name;
		e.has_seals = o->has_seals;
		e.seals = o->seals;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

void dump_shmem_free(struct dump_shmem *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		free(s->objs[i].name);
	free(s->objs);
	free(s);
}
