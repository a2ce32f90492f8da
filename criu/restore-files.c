// SPDX-License-Identifier: GPL-2.0-or-later
/* Phase A of restore in the child: descriptor table, cwd, root, umask. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image-set.h"
#include "restore-files.h"
#include "util.h"

__attribute__((format(printf, 4, 0))) static int
phase_a_vfail(struct phase_a_error *err, int r, bool with_errno, const char *fmt, va_list ap)
{
	size_t n;

	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	n = strlen(err->msg);
	if (with_errno && r < 0 && n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(-r));
	return r;
}

int phase_a_fail(struct phase_a_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = phase_a_vfail(err, r, true, fmt, ap);
	va_end(ap);
	return r;
}

int phase_a_refuse(struct phase_a_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = phase_a_vfail(err, r, false, fmt, ap);
	va_end(ap);
	return r;
}

static const char *file_type_name(FileType t)
{
	switch (t) {
	case FILE_TYPE__FT_PIPE:
		return "pipe";
	case FILE_TYPE__FT_FIFO:
		return "FIFO";
	case FILE_TYPE__FT_MEMFD:
		return "memfd";
	case FILE_TYPE__FT_EVENTFD:
		return "eventfd";
	case FILE_TYPE__FT_UNIX:
		return "unix socket";
	case FILE_TYPE__FT_INET:
		return "inet socket";
	default:
		return "file of unknown type";
	}
}

/* Path of the terminal relive runs on (its stdin, stdout or stderr). */
static int find_own_tty(char *buf, size_t len)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd) && ttyname_r(fd, buf, len) == 0)
			return 0;
	return -ENOTTY;
}

/* Was the file at the path replaced since the dump? */
static int check_identity(const FileEntry *f, const struct stat *st, int fdnum,
			  struct phase_a_error *err)
{
	const RegFileEntry *reg = f->reg;

	if (reg->has_dev && reg->has_ino && (st->st_dev != reg->dev || st->st_ino != reg->ino))
		return phase_a_refuse(err, -ESTALE,
				      "fd %d: %s changed since the dump (device %u:%u inode %llu "
				      "then, %u:%u inode %llu now)",
				      fdnum, reg->path, major(reg->dev), minor(reg->dev),
				      (unsigned long long)reg->ino, major(st->st_dev),
				      minor(st->st_dev), (unsigned long long)st->st_ino);
	return 0;
}

/* Open the file description f (first used by fd fdnum). Returns an fd. */
static int open_file(const FileEntry *f, int fdnum, bool shell_job, struct phase_a_error *err)
{
	const RegFileEntry *reg = f->reg;
	_cleanup_close_ int fd = -1;
	int flags, r;
	struct stat st;
	char tty[256];

	if (f->type == FILE_TYPE__FT_TTY) {
		if (!shell_job)
			return phase_a_refuse(
			    err, -ENOTSUP, "fd %d is a terminal: restore with --shell-job", fdnum);
		r = find_own_tty(tty, sizeof(tty));
		if (r < 0)
			return phase_a_fail(err, r,
					    "fd %d is a terminal, but relive's stdin, stdout and "
					    "stderr are not",
					    fdnum);
		flags = reg ? (int)(reg->flags & O_ACCMODE) : O_RDWR;
		fd = open(tty, flags | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return phase_a_fail(err, -errno, "fd %d: cannot open terminal %s", fdnum,
					    tty);
		return TAKE_FD(fd);
	}
	if (f->type != FILE_TYPE__FT_REG && f->type != FILE_TYPE__FT_DIR &&
	    f->type != FILE_TYPE__FT_CHR)
		return phase_a_refuse(err, -ENOTSUP, "not supported: fd %d is a %s", fdnum,
				      file_type_name(f->type));
	if (reg->has_unlinked && reg->unlinked)
		return phase_a_refuse(err, -ENOTSUP,
				      "not supported: fd %d is %s, which was deleted or moved away",
				      fdnum, reg->path);

	/* Never create, truncate or steal a controlling terminal on reopen. */
	flags = (int)reg->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (f->type == FILE_TYPE__FT_DIR)
		flags |= O_DIRECTORY;
	fd = open(reg->path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return phase_a_fail(err, -errno, "fd %d: cannot open %s", fdnum, reg->path);
	if (fstat(fd, &st) < 0)
		return phase_a_fail(err, -errno, "fd %d: cannot stat %s", fdnum, reg->path);

	switch (f->type) {
	case FILE_TYPE__FT_REG:
		if (!S_ISREG(st.st_mode))
			return phase_a_refuse(err, -ESTALE, "fd %d: %s is no longer a regular file",
					      fdnum, reg->path);
		r = check_identity(f, &st, fdnum, err);
		if (r < 0)
			return r;
		break;
	case FILE_TYPE__FT_DIR:
		r = check_identity(f, &st, fdnum, err);
		if (r < 0)
			return r;
		break;
	default: /* FT_CHR: a device node, reopened by path */
		if (!S_ISCHR(st.st_mode) || (reg->has_rdev && st.st_rdev != reg->rdev))
			return phase_a_refuse(err, -ESTALE,
					      "fd %d: %s is not the character device it was", fdnum,
					      reg->path);
		return TAKE_FD(fd);
	}
	if (reg->pos > (uint64_t)INT64_MAX)
		return phase_a_refuse(err, -EINVAL, "fd %d: position %llu out of range", fdnum,
				      (unsigned long long)reg->pos);
	if (reg->pos && lseek(fd, (off_t)reg->pos, SEEK_SET) != (off_t)reg->pos)
		return phase_a_fail(err, negerrno(), "fd %d: cannot seek %s to %llu", fdnum,
				    reg->path, (unsigned long long)reg->pos);
	return TAKE_FD(fd);
}

int restore_fds(const struct image_set *set, const struct image_proc *p, bool shell_job,
		struct phase_a_error *err)
{
	_cleanup_free_ int *src = NULL; /* per fd entry: where its description sits */
	unsigned max_fd = 0, base;
	struct rlimit nofile;

	for (size_t i = 0; i < p->nr_fds; i++)
		if (p->fds[i]->fd > max_fd)
			max_fd = p->fds[i]->fd;
	/*
	 * Descriptions are opened above every target number first, so that
	 * installing one never closes another that is still needed.
	 */
	base = max_fd + 1;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return phase_a_fail(err, -errno, "getrlimit(RLIMIT_NOFILE)");
	if ((uint64_t)base + p->nr_fds + 16 > nofile.rlim_cur)
		return phase_a_refuse(err, -EMFILE,
				      "fd %u needs a descriptor limit above %llu (RLIMIT_NOFILE)",
				      max_fd, (unsigned long long)nofile.rlim_cur);

	src = malloc((p->nr_fds ? p->nr_fds : 1) * sizeof(*src));
	if (!src)
		return phase_a_fail(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nr_fds; i++) {
		const FileEntry *f = image_set_find_file(set, p->fds[i]->file_id);
		int fd, high;

		src[i] = -1;
		/* A description shared by several fds is opened only once. */
		for (size_t j = 0; j < i; j++) {
			if (p->fds[j]->file_id == p->fds[i]->file_id) {
				src[i] = src[j];
				break;
			}
		}
		if (src[i] >= 0)
			continue;
		if (!f)
			return phase_a_refuse(err, -EINVAL, "fd %u: unknown file id %u",
					      p->fds[i]->fd, p->fds[i]->file_id);
		fd = open_file(f, (int)p->fds[i]->fd, shell_job, err);
		if (fd < 0)
			return fd;
		high = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
		close(fd);
		if (high < 0)
			return phase_a_fail(err, -errno, "fd %u: cannot move it above %u",
					    p->fds[i]->fd, base);
		src[i] = high;
	}
	/* Everything below base is relive's, not the restored process's. */
	if (close_range(0, base - 1, 0) < 0)
		return phase_a_fail(err, -errno, "close_range");
	for (size_t i = 0; i < p->nr_fds; i++) {
		const FdEntry *e = p->fds[i];
		int flags = e->has_cloexec && e->cloexec ? O_CLOEXEC : 0;

		if (dup3(src[i], (int)e->fd, flags) < 0)
			return phase_a_fail(err, -errno, "cannot install fd %u", e->fd);
	}
	if (close_range(base, ~0U, 0) < 0)
		return phase_a_fail(err, -errno, "close_range");
	return 0;
}

int restore_fs_state(const struct image_proc *p, struct phase_a_error *err)
{
	const TaskCoreEntry *c = p->core;

	/* cwd first, with the host's view of the path; chroot keeps it. */
	if (c->cwd && chdir(c->cwd) < 0)
		return phase_a_fail(err, -errno, "cannot change to the working directory %s",
				    c->cwd);
	if (c->root && strcmp(c->root, "/") != 0 && chroot(c->root) < 0)
		return phase_a_fail(err, -errno, "cannot change root to %s", c->root);
	umask(c->umask & 0777);
	return 0;
}
