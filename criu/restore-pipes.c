// SPDX-License-Identifier: GPL-2.0-or-later
/* Pipes and FIFOs recreated by relive, with their size and data in flight. */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "image-set.h"
#include "img.h"
#include "log.h"
#include "restore-pipes.h"
#include "util.h"

#define MAX_PIPES_DATA (1u << 20)
/* The status flags F_SETFL can change. */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

/* One recreated pipe or FIFO: relive's own ends, until released. */
struct pipe_slot {
	uint64_t pipe_id;
	int rd, wr;		 /* a pipe's two ends; a FIFO: rd is held O_RDWR, wr -1 */
	bool rd_given, wr_given; /* the end itself was handed out once */
};

struct restore_pipes {
	PipeDataEntry **data;
	size_t nr_data;
	struct pipe_slot *slots;
	size_t nr_slots;
	bool released;
};

static void close_slot(struct pipe_slot *s)
{
	if (s->rd >= 0)
		close(s->rd);
	if (s->wr >= 0)
		close(s->wr);
	s->rd = s->wr = -1;
}

void restore_pipes_release(struct restore_pipes *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_slots; i++)
		close_slot(&p->slots[i]);
	p->released = true;
}

void restore_pipes_free(struct restore_pipes *p)
{
	if (!p)
		return;
	restore_pipes_release(p);
	for (size_t i = 0; i < p->nr_data; i++)
		img_free_msg(&p->data[i]->base);
	free(p->data);
	free(p->slots);
	free(p);
}

static const PipeDataEntry *find_data(const struct restore_pipes *p, uint64_t id)
{
	for (size_t i = 0; i < p->nr_data; i++)
		if (p->data[i]->pipe_id == id)
			return p->data[i];
	return NULL;
}

static bool is_pipe(const FileEntry *f)
{
	return f->type == FILE_TYPE__FT_PIPE || f->type == FILE_TYPE__FT_FIFO;
}

/* Descriptions of one pipe agree; every data entry belongs to a pipe it
 * fits in. */
static int check_set(const struct image_set *set, const struct restore_pipes *p)
{
	for (size_t i = 0; i < set->nr_files; i++) {
		const FileEntry *f = set->files[i];

		if (!is_pipe(f))
			continue;
		/* Older sets had no pipe entry: their dump refused pipes. */
		if (!f->pipe) {
			pr_err("files.img: pipe %u has no pipe entry (id, flags, size)\n", f->id);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			const FileEntry *g = set->files[j];

			if (!is_pipe(g) || !g->pipe || g->pipe->pipe_id != f->pipe->pipe_id)
				continue;
			if (g->type != f->type ||
			    g->pipe->has_pipe_size != f->pipe->has_pipe_size ||
			    g->pipe->pipe_size != f->pipe->pipe_size ||
			    (f->type == FILE_TYPE__FT_FIFO && strcmp(f->reg->path, g->reg->path))) {
				pr_err(
				    "files.img: files %u and %u are descriptions of pipe %" PRIu64
				    " but disagree on its kind, size or path\n",
				    g->id, f->id, (uint64_t)f->pipe->pipe_id);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < p->nr_data; i++) {
		const PipeDataEntry *d = p->data[i];
		const FileEntry *f = NULL;

		for (size_t j = 0; j < i; j++) {
			if (p->data[j]->pipe_id == d->pipe_id) {
				pr_err("pipes-data.img: pipe %" PRIu64 " listed twice\n",
				       (uint64_t)d->pipe_id);
				return -EINVAL;
			}
		}
		for (size_t j = 0; j < set->nr_files && !f; j++)
			if (is_pipe(set->files[j]) && set->files[j]->pipe &&
			    set->files[j]->pipe->pipe_id == d->pipe_id)
				f = set->files[j];
		if (!f) {
			pr_err("pipes-data.img: data for pipe %" PRIu64 ", which files.img does "
			       "not have\n",
			       (uint64_t)d->pipe_id);
			return -EINVAL;
		}
		if (f->pipe->has_pipe_size && d->data.len > f->pipe->pipe_size) {
			pr_err("pipes-data.img: %zu bytes for pipe %" PRIu64 " of %u bytes\n",
			       d->data.len, (uint64_t)d->pipe_id, f->pipe->pipe_size);
			return -EINVAL;
		}
	}
	return 0;
}

int restore_pipes_load(int dirfd, const struct image_set *set, struct restore_pipes **ret)
{
	_cleanup_img_ struct img *img = NULL;
	struct restore_pipes *p;
	bool any = false;
	int r = 0;

	for (size_t i = 0; i < set->nr_files; i++)
		any |= is_pipe(set->files[i]);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (faccessat(dirfd, "pipes-data.img", F_OK, 0) < 0) {
		if (errno != ENOENT)
			r = pr_err_ret(-errno, "pipes-data.img: cannot access");
		else if (any) {
			/* dump writes it whenever there is a pipe, even empty. */
			pr_err("pipes-data.img: missing image file (files.img has pipes)\n");
			r = -ENOENT;
		}
	} else {
		r = img_open_read(dirfd, "pipes-data.img", IMG_PIPES_DATA, &img);
	}
	while (r >= 0 && img) {
		PipeDataEntry *d = NULL, **n;

		r = img_read_msg(img, (ProtobufCMessage **)&d);
		if (r <= 0)
			break;
		n = p->nr_data < MAX_PIPES_DATA ? reallocarray(p->data, p->nr_data + 1, sizeof(*n))
						: NULL;
		if (!n) {
			img_free_msg(&d->base);
			r = p->nr_data < MAX_PIPES_DATA ? -ENOMEM : -E2BIG;
			break;
		}
		p->data = n;
		n[p->nr_data++] = d;
	}
	if (r >= 0)
		r = check_set(set, p);
	if (r < 0) {
		restore_pipes_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* Give pipe fd the dumped capacity. */
static int set_size(int fd, const PipeFileEntry *pe, uint64_t id)
{
	_cleanup_free_ char *max = NULL;
	int cur;

	if (!pe->has_pipe_size)
		return 0;
	cur = fcntl(fd, F_GETPIPE_SZ);
	if (cur < 0)
		return pr_err_ret(-errno, "pipe %" PRIu64 ": F_GETPIPE_SZ", id);
	if ((uint32_t)cur == pe->pipe_size || fcntl(fd, F_SETPIPE_SZ, (int)pe->pipe_size) >= 0)
		return 0;
	if (errno != EPERM)
		return pr_err_ret(-errno, "pipe %" PRIu64 ": cannot set its size to %u bytes", id,
				  pe->pipe_size);
	/* Above pipe-max-size only CAP_SYS_RESOURCE may go, or a user past
	 * pipe-user-pages-soft is held to the default size. */
	read_file_str("/proc/sys/fs/pipe-max-size", &max, NULL);
	pr_err("pipe %" PRIu64 " had %u bytes: its size can't be restored without "
	       "CAP_SYS_RESOURCE (/proc/sys/fs/pipe-max-size is %s, or the user's pipe buffers "
	       "are past fs.pipe-user-pages-soft)\n",
	       id, pe->pipe_size, max ? strtok(max, "\n") : "unknown");
	return -EPERM;
}

static int put_data(const struct restore_pipes *p, int wr, uint64_t id)
{
	const PipeDataEntry *d = find_data(p, id);
	ssize_t n;

	if (!d)
		return 0;
	/* The write end is non-blocking: data that does not fit is an
	 * error, not a hang. It fits: it came out of a pipe this size. */
	n = write(wr, d->data.data, d->data.len);
	if (n < 0)
		return pr_err_ret(-errno, "pipe %" PRIu64 ": cannot put back %zu bytes", id,
				  d->data.len);
	if ((size_t)n != d->data.len) {
		pr_err("pipe %" PRIu64 ": only %zd of %zu bytes went back in\n", id, n,
		       d->data.len);
		return -EIO;
	}
	pr_debug("pipe %" PRIu64 ": %zu bytes put back\n", id, d->data.len);
	return 0;
}

static int create_pipe(const struct restore_pipes *p, const FileEntry *fe, struct pipe_slot *s)
{
	int fds[2], r;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return pr_err_ret(-errno, "pipe2");
	s->rd = fds[0];
	s->wr = fds[1];
	r = set_size(s->wr, fe->pipe, s->pipe_id);
	if (r < 0)
		return r;
	return put_data(p, s->wr, s->pipe_id);
}

static int open_fifo(const struct restore_pipes *p, const FileEntry *fe, struct pipe_slot *s)
{
	const RegFileEntry *reg = fe->reg;
	struct stat st;
	int avail = 0, r;

	/* Read-write never blocks and keeps the FIFO's data alive until
	 * the processes hold their own ends. */
	s->rd = open(reg->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (s->rd < 0)
		return pr_err_ret(-errno, "cannot open the FIFO %s", reg->path);
	if (fstat(s->rd, &st) < 0)
		return pr_err_ret(-errno, "cannot stat the FIFO %s", reg->path);
	if (!S_ISFIFO(st.st_mode)) {
		pr_err("%s is no longer a FIFO\n", reg->path);
		return -ESTALE;
	}
	if (reg->has_dev && reg->has_ino &&
	    ((uint64_t)st.st_dev != reg->dev || (uint64_t)st.st_ino != reg->ino)) {
		pr_err("%s is not the dumped FIFO: device %#llx inode %llu now, %#llx %llu in the "
		       "image\n",
		       reg->path, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)reg->dev, (unsigned long long)reg->ino);
		return -ESTALE;
	}
	if (ioctl(s->rd, FIONREAD, &avail) == 0 && avail > 0 && find_data(p, s->pipe_id))
		pr_warn("FIFO %s already holds %d bytes: the dumped data goes after them\n",
			reg->path, avail);
	r = set_size(s->rd, fe->pipe, s->pipe_id);
	if (r < 0)
		return r;
	return put_data(p, s->rd, s->pipe_id);
}

static int get_slot(struct restore_pipes *p, const FileEntry *fe, struct pipe_slot **ret)
{
	struct pipe_slot *n;
	int r;

	for (size_t i = 0; i < p->nr_slots; i++) {
		if (p->slots[i].pipe_id == fe->pipe->pipe_id) {
			*ret = &p->slots[i];
			return 0;
		}
	}
	n = reallocarray(p->slots, p->nr_slots + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->slots = n;
	n = &p->slots[p->nr_slots];
	*n = (struct pipe_slot){.pipe_id = fe->pipe->pipe_id, .rd = -1, .wr = -1};
	r = fe->type == FILE_TYPE__FT_FIFO ? open_fifo(p, fe, n) : create_pipe(p, fe, n);
	if (r < 0) {
		close_slot(n);
		return r;
	}
	p->nr_slots++;
	*ret = n;
	return 0;
}

/* A new description of the pipe or FIFO that fd is an end of. */
static int reopen(int fd, int accmode, uint64_t id, int *ret)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = open(path, accmode | O_NONBLOCK | O_CLOEXEC);
	if (n < 0)
		return pr_err_ret(-errno, "pipe %" PRIu64 ": cannot open %s", id, path);
	*ret = n;
	return 0;
}

int restore_pipe_open(const struct image_set *set, const FileEntry *fe, int *ret_fd)
{
	struct restore_pipes *p = set->pipes;
	_cleanup_close_ int fd = -1;
	struct pipe_slot *s;
	uint32_t flags;
	int acc, r;

	if (!is_pipe(fe) || !fe->pipe || (fe->type == FILE_TYPE__FT_FIFO && !fe->reg)) {
		pr_err("file %u is not a pipe or FIFO\n", fe->id);
		return -EINVAL;
	}
	if (!p || p->released) {
		pr_err("file %u: the pipes of this restore are %s\n", fe->id,
		       p ? "already released" : "not loaded");
		return -EINVAL;
	}
	flags = fe->pipe->flags;
	acc = (int)(flags & O_ACCMODE);
	r = get_slot(p, fe, &s);
	if (r < 0)
		return r;
	if (fe->type == FILE_TYPE__FT_FIFO) {
		r = reopen(s->rd, acc, s->pipe_id, &fd);
	} else {
		int *end = acc == O_RDONLY ? &s->rd : &s->wr;
		bool *given = acc == O_RDONLY ? &s->rd_given : &s->wr_given;

		if (acc == O_RDWR) {
			pr_err("file %u: a pipe end cannot be read-write\n", fe->id);
			return -EINVAL;
		}
		/* The first description of an end is the end itself; another
		 * one (a reopen through /proc) is a description of its own. */
		if (!*given) {
			fd = fcntl(*end, F_DUPFD_CLOEXEC, 0);
			r = fd < 0 ? pr_err_ret(-errno, "pipe %" PRIu64 ": dup", s->pipe_id) : 0;
			*given = fd >= 0;
		} else {
			r = reopen(*end, acc, s->pipe_id, &fd);
		}
	}
	if (r < 0)
		return r;
	if (fcntl(fd, F_SETFL, (int)(flags & SETFL_FLAGS)) < 0)
		return pr_err_ret(-errno, "pipe %" PRIu64 ": cannot set the status flags 0%o",
				  s->pipe_id, flags & SETFL_FLAGS);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
