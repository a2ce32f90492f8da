// SPDX-License-Identifier: GPL-2.0-or-later
/* Pipes and FIFOs: one entry per description, in-flight data read by tee. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "dump-pipes.h"
#include "img.h"
#include "log.h"
#include "util.h"

/* A pipe or FIFO, known by device and inode while dumping; its index + 1
 * is its id in the images (a pipe and a FIFO could share an inode
 * number). */
struct dump_pipe {
	uint64_t dev, ino;
	uint32_t size;
	void *data;
	size_t len;
};

struct dump_pipe_desc {
	uint32_t file_id;
	uint32_t flags;
	size_t pipe; /* index in pipes */
};

struct dump_pipes {
	struct dump_pipe *pipes;
	size_t nr_pipes;
	struct dump_pipe_desc *descs;
	size_t nr_descs;
};

int dump_pipe_peek(int pipe_fd, void **ret, size_t *ret_len, uint32_t *ret_size)
{
	_cleanup_close_ int rd = -1, priv_rd = -1, priv_wr = -1;
	_cleanup_free_ void *buf = NULL;
	int size, avail, fl, p[2];
	ssize_t n;
	int r;

	size = fcntl(pipe_fd, F_GETPIPE_SZ);
	if (size < 0)
		return pr_err_ret(-errno, "F_GETPIPE_SZ");
	if (ioctl(pipe_fd, FIONREAD, &avail) < 0)
		return pr_err_ret(-errno, "FIONREAD on a pipe");
	*ret_size = (uint32_t)size;
	*ret = NULL;
	*ret_len = 0;
	if (avail <= 0)
		return 0;
	if (avail > size) {
		pr_err("a pipe of %d bytes holds %d bytes\n", size, avail);
		return -EPROTO;
	}

	/* tee() reads from its input: a write end is reopened for reading
	 * (a new description of the same pipe, without blocking). */
	fl = fcntl(pipe_fd, F_GETFL);
	if (fl < 0)
		return pr_err_ret(-errno, "F_GETFL on a pipe");
	if ((fl & O_ACCMODE) == O_WRONLY) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", pipe_fd);
		rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (rd < 0)
			return pr_err_ret(-errno, "cannot open the read side of a pipe");
	}

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return pr_err_ret(-errno, "pipe2");
	priv_rd = p[0];
	priv_wr = p[1];
	/* As many slots as the source: tee copies buffer by buffer. */
	if (fcntl(priv_wr, F_SETPIPE_SZ, size) < 0) {
		if (errno == EPERM)
			pr_err("not supported: a pipe of %d bytes (above "
			       "/proc/sys/fs/pipe-max-size) holds data; copying it needs a pipe "
			       "as large, which needs CAP_SYS_RESOURCE\n",
			       size);
		else
			pr_err("cannot size a private pipe to %d bytes: %s\n", size,
			       strerror(errno));
		return errno == EPERM ? -EOPNOTSUPP : -errno;
	}
	n = tee(rd >= 0 ? rd : pipe_fd, priv_wr, (size_t)avail, SPLICE_F_NONBLOCK);
	if (n < 0)
		return pr_err_ret(-errno, "tee of %d bytes in flight", avail);
	if (n != avail) {
		pr_err("tee copied %zd of the %d bytes in flight of a pipe\n", n, avail);
		return -EIO;
	}
	buf = malloc((size_t)avail);
	if (!buf)
		return -ENOMEM;
	r = read_all(priv_rd, buf, (size_t)avail);
	if (r < 0)
		return pr_err_ret(r, "reading the copy of a pipe's data");
	*ret = TAKE_PTR(buf);
	*ret_len = (size_t)avail;
	return 0;
}

/* A copy of pid's fd in relive, by pidfd_getfd. */
static int add_pipe(struct dump_pipes *pp, pid_t pid, int fd, const struct stat *st, size_t *ret)
{
	_cleanup_close_ int ours = -1;
	struct dump_pipe np = {.dev = st->st_dev, .ino = st->st_ino}, *n;
	struct stat ost;
	int r;

	for (size_t i = 0; i < pp->nr_pipes; i++) {
		if (pp->pipes[i].dev == np.dev && pp->pipes[i].ino == np.ino) {
			*ret = i;
			return 0;
		}
	}
	r = pidfd_take_fd(pid, fd, &ours);
	if (r < 0)
		return pr_err_ret(r, "process %d: pidfd_getfd of fd %d", pid, fd);
	/* The fd could have been replaced since it was classified. */
	if (fstat(ours, &ost) < 0)
		return pr_err_ret(-errno, "process %d: fstat of fd %d", pid, fd);
	if (ost.st_dev != st->st_dev || ost.st_ino != st->st_ino) {
		pr_err("process %d: fd %d changed while it was dumped\n", pid, fd);
		return -ESTALE;
	}
	r = dump_pipe_peek(ours, &np.data, &np.len, &np.size);
	if (r < 0)
		return pr_err_ret(r, "process %d: fd %d: cannot read the pipe's data", pid, fd);
	n = reallocarray(pp->pipes, pp->nr_pipes + 1, sizeof(*n));
	if (!n) {
		free(np.data);
		return -ENOMEM;
	}
	pp->pipes = n;
	pp->pipes[pp->nr_pipes] = np;
	*ret = pp->nr_pipes++;
	pr_debug("process %d: fd %d: pipe %lu of %u bytes holds %zu bytes\n", pid, fd,
		 (unsigned long)np.ino, np.size, np.len);
	return 0;
}

int dump_pipe_collect(struct dump_pipes **pp, pid_t pid, int fd, const struct stat *st,
		      uint32_t flags, uint32_t file_id)
{
	struct dump_pipe_desc *n;
	size_t idx = 0;
	int r;

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (!*pp)
			return -ENOMEM;
	}
	r = add_pipe(*pp, pid, fd, st, &idx);
	if (r < 0)
		return r;
	/* Packet mode keeps write boundaries that the copied bytes lose. */
	if ((flags & O_DIRECT) && (*pp)->pipes[idx].len) {
		pr_err("not supported: fd %d of process %d is a packet-mode (O_DIRECT) pipe "
		       "holding data\n",
		       fd, pid);
		return -EOPNOTSUPP;
	}
	n = reallocarray((*pp)->descs, (*pp)->nr_descs + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	(*pp)->descs = n;
	n[(*pp)->nr_descs++] = (struct dump_pipe_desc){file_id, flags, idx};
	return 0;
}

int dump_pipe_entry(const struct dump_pipes *pp, uint32_t file_id, PipeFileEntry *ret)
{
	for (size_t i = 0; pp && i < pp->nr_descs; i++) {
		const struct dump_pipe_desc *d = &pp->descs[i];

		if (d->file_id != file_id)
			continue;
		ret->pipe_id = d->pipe + 1;
		ret->flags = d->flags;
		ret->has_pipe_size = true;
		ret->pipe_size = pp->pipes[d->pipe].size;
		return 0;
	}
	pr_err("file %u is not a known pipe\n", file_id);
	return -ENOENT;
}

int dump_pipes_write(const struct dump_pipes *pp, int dirfd)
{
	_cleanup_img_ struct img *img = NULL;
	int r;

	if (!pp || !pp->nr_pipes)
		return 0;
	r = img_open_write(dirfd, "pipes-data.img", IMG_PIPES_DATA, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < pp->nr_pipes; i++) {
		PipeDataEntry e = PIPE_DATA_ENTRY__INIT;

		if (!pp->pipes[i].len)
			continue;
		e.pipe_id = i + 1;
		e.data.data = pp->pipes[i].data;
		e.data.len = pp->pipes[i].len;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

void dump_pipes_free(struct dump_pipes *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nr_pipes; i++)
		free(pp->pipes[i].data);
	free(pp->pipes);
	free(pp->descs);
	free(pp);
}
