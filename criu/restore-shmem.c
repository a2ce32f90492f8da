// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared anonymous memory and memfds recreated once by relive, then shared. */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image-set.h"
#include "img.h"
#include "log.h"
#include "restore-shmem.h"
#include "util.h"

#include "mm.pb-c.h"
#include "pagemap.pb-c.h"

#define SHM_PAGE    4096ull
#define MAX_OBJECTS (1u << 20)
#define MAX_PAGEMAP (1u << 24)
#define KNOWN_SEALS 0x3fu

struct shmem_obj {
	ShmemEntry *e;
	PagemapHead *head;
	PagemapEntry **entries;
	size_t nr_entries;
	struct img *pages; /* NULL when no page was stored */
	int fd;		   /* the recreated object, -1 until first use */
	struct stat st;
};

struct restore_shmem {
	struct shmem_obj *objs;
	size_t nr;
};

static struct shmem_obj *find_obj(const struct restore_shmem *s, uint64_t id)
{
	for (size_t i = 0; s && i < s->nr; i++)
		if (s->objs[i].e->id == id)
			return &s->objs[i];
	return NULL;
}

void restore_shmem_free(struct restore_shmem *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++) {
		struct shmem_obj *o = &s->objs[i];

		img_free_msg(&o->e->base);
		img_free_msg(o->head ? &o->head->base : NULL);
		for (size_t j = 0; j < o->nr_entries; j++)
			img_free_msg(&o->entries[j]->base);
		free(o->entries);
		img_close(o->pages);
		if (o->fd >= 0)
			close(o->fd);
	}
	free(s->objs);
	free(s);
}

/* pagemap-shmem-ID.img: sorted runs inside the object, page count as
 * announced; pages-shmem-ID.img exactly that long. */
static int load_pages(int dirfd, struct shmem_obj *o)
{
	_cleanup_img_ struct img *img = NULL;
	uint64_t id = o->e->id, limit, prev_end = 0, stored = 0;
	char name[64];
	struct stat st;
	int r;

	limit = (o->e->size + SHM_PAGE - 1) & ~(SHM_PAGE - 1);
	snprintf(name, sizeof(name), "pagemap-shmem-%" PRIu64 ".img", id);
	r = img_open_read(dirfd, name, IMG_PAGEMAP, &img);
	if (r < 0)
		return r;
	r = img_read_msg(img, (ProtobufCMessage **)&o->head);
	if (r < 0)
		return r;
	if (r == 0 || o->head->id != id) {
		pr_err("%s: no head or a head for another object\n", name);
		return -EINVAL;
	}
	for (;;) {
		PagemapEntry *e = NULL, **n;

		r = img_read_msg(img, (ProtobufCMessage **)&e);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (o->nr_entries >= MAX_PAGEMAP) {
			img_free_msg(&e->base);
			pr_err("%s: too many entries\n", name);
			return -E2BIG;
		}
		n = reallocarray(o->entries, o->nr_entries + 1, sizeof(*n));
		if (!n) {
			img_free_msg(&e->base);
			return -ENOMEM;
		}
		o->entries = n;
		n[o->nr_entries++] = e;
		if (e->flags != PAGEMAP_FLAG__PE_PAGES || e->vaddr < prev_end || e->vaddr > limit ||
		    e->nr_pages > (limit - e->vaddr) / SHM_PAGE) {
			pr_err("%s: entry %zu (offset %#" PRIx64 ", %" PRIu64
			       " pages, flags %#x) is out of order, outside the object of %" PRIu64
			       " bytes or not stored\n",
			       name, o->nr_entries - 1, (uint64_t)e->vaddr, (uint64_t)e->nr_pages,
			       e->flags, (uint64_t)o->e->size);
			return -EINVAL;
		}
		prev_end = e->vaddr + e->nr_pages * SHM_PAGE;
		stored += e->nr_pages;
	}
	/* img_read_msg already matched the head's counts with the entries. */
	if (!stored)
		return 0;
	snprintf(name, sizeof(name), "pages-shmem-%" PRIu64 ".img", id);
	r = img_open_read(dirfd, name, IMG_PAGES, &o->pages);
	if (r < 0)
		return r;
	if (fstat(img_fd(o->pages), &st) < 0)
		return pr_err_ret(-errno, "%s: cannot stat", name);
	if ((uint64_t)st.st_size != img_pages_offset(stored)) {
		pr_err("%s: size %lld does not match the %" PRIu64
		       " pages its pagemap announces (truncated or corrupt)\n",
		       name, (long long)st.st_size, stored);
		return -EINVAL;
	}
	return 0;
}

static const char *kind_str(int kind)
{
	return kind == VMA_KIND__VMA_MEMFD ? "memfd" : "shared anonymous memory";
}

/* Every reference in set names an object of the right kind. */
static int check_refs(const struct image_set *set, const struct restore_shmem *s)
{
	for (size_t i = 0; i < set->nr_procs; i++) {
		const MmEntry *mm = set->procs[i].mm;

		for (size_t j = 0; mm && j < mm->n_vmas; j++) {
			const VmaEntry *v = mm->vmas[j];
			const struct shmem_obj *o;

			if (v->kind != VMA_KIND__VMA_SHARED_ANON && v->kind != VMA_KIND__VMA_MEMFD)
				continue;
			o = find_obj(s, v->shmid);
			if (!o || (int)o->e->kind != (int)v->kind) {
				pr_err("mm-%u.img: the %s at %#" PRIx64 " maps object %" PRIu64
				       ", which shmem.img %s\n",
				       set->procs[i].pstree->pid, kind_str(v->kind),
				       (uint64_t)v->start, (uint64_t)v->shmid,
				       o ? "lists with another kind" : "does not list");
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < set->nr_files; i++) {
		const FileEntry *f = set->files[i];
		const struct shmem_obj *o;

		if (f->type != FILE_TYPE__FT_MEMFD)
			continue;
		o = f->memfd ? find_obj(s, f->memfd->shmid) : NULL;
		if (!o || o->e->kind != VMA_KIND__VMA_MEMFD) {
			pr_err("files.img: memfd %u refers to an object shmem.img does not list "
			       "as a memfd\n",
			       f->id);
			return -EINVAL;
		}
	}
	return 0;
}

int restore_shmem_load(int dirfd, const struct image_set *set, struct restore_shmem **ret)
{
	struct restore_shmem *s = NULL;
	_cleanup_img_ struct img *img = NULL;
	int r;

	*ret = NULL;
	if (faccessat(dirfd, "shmem.img", F_OK, 0) < 0) {
		if (errno != ENOENT)
			return pr_err_ret(-errno, "shmem.img: cannot access");
		/* Fine only if nothing refers to shared memory. */
		return check_refs(set, NULL);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r = img_open_read(dirfd, "shmem.img", IMG_SHMEM, &img);
	while (r >= 0) {
		ShmemEntry *e = NULL;
		struct shmem_obj *n;

		r = img_read_msg(img, (ProtobufCMessage **)&e);
		if (r <= 0)
			break;
		if (find_obj(s, e->id) || s->nr >= MAX_OBJECTS) {
			pr_err("shmem.img: object %" PRIu64 " listed twice, or too many objects\n",
			       (uint64_t)e->id);
			img_free_msg(&e->base);
			r = -EINVAL;
			break;
		}
		n = reallocarray(s->objs, s->nr + 1, sizeof(*n));
		if (!n) {
			img_free_msg(&e->base);
			r = -ENOMEM;
			break;
		}
		s->objs = n;
		n[s->nr++] = (struct shmem_obj){.e = e, .fd = -1};
		if (e->kind == VMA_KIND__VMA_SHARED_ANON && (e->size == 0 || e->size % SHM_PAGE)) {
			pr_err("shmem.img: shared anonymous memory %" PRIu64 " of %" PRIu64
			       " bytes, not a whole number of pages\n",
			       (uint64_t)e->id, (uint64_t)e->size);
			r = -EINVAL;
			break;
		}
		if (e->kind == VMA_KIND__VMA_MEMFD && !e->name) {
			pr_err("shmem.img: memfd %" PRIu64 " without a name\n", (uint64_t)e->id);
			r = -EINVAL;
			break;
		}
		r = load_pages(dirfd, &s->objs[s->nr - 1]);
	}
	if (r >= 0)
		r = check_refs(set, s);
	if (r < 0) {
		restore_shmem_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Write the stored pages of o into dst, a mapping of the object (NULL) or
 * its fd (pwrite). */
static int fill(const struct shmem_obj *o, unsigned char *map, int fd)
{
	uint64_t n = 0;

	for (size_t i = 0; i < o->nr_entries; i++) {
		const PagemapEntry *e = o->entries[i];
		uint64_t len = e->nr_pages * SHM_PAGE, off = img_pages_offset(n);
		int r;

		if (map) {
			r = pread_all(img_fd(o->pages), map + e->vaddr, len, (off_t)off);
		} else {
			/* The last page may reach past the size: only the part
			 * inside is written, the size stays as dumped. */
			if (e->vaddr + len > o->e->size)
				len = o->e->size - e->vaddr;
			r = 0;
			for (uint64_t done = 0; r >= 0 && done < len;) {
				unsigned char buf[1 << 16];
				size_t c =
				    len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);

				r = pread_all(img_fd(o->pages), buf, c, (off_t)(off + done));
				if (r >= 0)
					r = pwrite_all(fd, buf, c, (off_t)(e->vaddr + done));
				done += c;
			}
		}
		if (r < 0)
			return pr_err_ret(r, "cannot fill shared memory %" PRIu64 " at %#" PRIx64,
					  (uint64_t)o->e->id, (uint64_t)e->vaddr);
		n += e->nr_pages;
	}
	return 0;
}

static int create_shared_anon(struct shmem_obj *o, int *ret_fd)
{
	uint64_t size = o->e->size;
	unsigned char *map;
	char path[96];
	int fd, r;

	if (size > SIZE_MAX)
		return -EFBIG;
	map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return pr_err_ret(
		    -errno, "cannot create shared anonymous memory of %" PRIu64 " bytes", size);
	r = fill(o, map, -1);
	if (r >= 0) {
		/* The object outlives relive's mapping through this file. */
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)map,
			 (unsigned long)map + (unsigned long)size);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			r = pr_err_ret(-errno, "cannot open %s", path);
		else
			*ret_fd = fd;
	}
	munmap(map, (size_t)size);
	return r;
}

static int create_memfd(struct shmem_obj *o, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	uint32_t seals = o->e->has_seals ? o->e->seals : 0;
	int r;

	fd = memfd_create(o->e->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return pr_err_ret(-errno, "cannot create memfd \"%s\"", o->e->name);
	if (ftruncate(fd, (off_t)o->e->size) < 0)
		return pr_err_ret(-errno, "memfd \"%s\": cannot set its size to %" PRIu64,
				  o->e->name, (uint64_t)o->e->size);
	r = fill(o, NULL, fd);
	if (r < 0)
		return r;
	/* Seals last: F_SEAL_WRITE would refuse the content, F_SEAL_SEAL any
	 * other seal. A memfd created without MFD_ALLOW_SEALING shows
	 * F_SEAL_SEAL, so it comes back as one. */
	if ((seals & KNOWN_SEALS) && fcntl(fd, F_ADD_SEALS, (int)(seals & KNOWN_SEALS)) < 0)
		return pr_err_ret(-errno, "memfd \"%s\": cannot add seals %#x", o->e->name, seals);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int restore_shmem_fd(struct restore_shmem *s, uint64_t shmid, int *ret_fd, struct stat *ret_st)
{
	struct shmem_obj *o = find_obj(s, shmid);
	int fd = -1, r;

	if (!o) {
		pr_err("shared memory object %" PRIu64 " is not in the image set\n", shmid);
		return -ENOENT;
	}
	if (o->fd < 0) {
		r = o->e->kind == VMA_KIND__VMA_MEMFD ? create_memfd(o, &fd)
						      : create_shared_anon(o, &fd);
		if (r < 0)
			return r;
		if (fstat(fd, &o->st) < 0) {
			r = pr_err_ret(-errno, "cannot stat shared memory %" PRIu64, shmid);
			close(fd);
			return r;
		}
		o->fd = fd;
		pr_debug("shared memory %" PRIu64 " (%s, %" PRIu64 " bytes) recreated as fd %d\n",
			 shmid, kind_str(o->e->kind), (uint64_t)o->e->size, fd);
	}
	*ret_fd = o->fd;
	if (ret_st)
		*ret_st = o->st;
	return 0;
}

int restore_memfd_open(const struct image_set *set, const FileEntry *fe, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char path[64];
	uint32_t flags;
	int obj, r;

	if (fe->type != FILE_TYPE__FT_MEMFD || !fe->memfd) {
		pr_err("file %u is not a memfd\n", fe->id);
		return -EINVAL;
	}
	r = restore_shmem_fd(set->shmem, fe->memfd->shmid, &obj, NULL);
	if (r < 0)
		return r;
	/* A description of its own, with the dumped access mode and flags
	 * (O_CREAT and friends mean nothing on a reopen). */
	flags = fe->memfd->flags &
		(O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_SYNC | O_DSYNC | O_DIRECT);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", obj);
	fd = open(path, (int)flags | O_CLOEXEC);
	if (fd < 0)
		return pr_err_ret(-errno, "memfd %u: cannot open %s with flags 0%o", fe->id, path,
				  flags);
	if (lseek(fd, (off_t)fe->memfd->pos, SEEK_SET) < 0)
		return pr_err_ret(-errno, "memfd %u: cannot seek to %" PRIu64, fe->id,
				  (uint64_t)fe->memfd->pos);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
