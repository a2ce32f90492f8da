// SPDX-License-Identifier: GPL-2.0-or-later
/* Open file descriptions in relive, handed to each process's descriptor table in phase A. */
#define LOG_PREFIX "restore-files: "
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image-set.h"
#include "log.h"
#include "restore-fdpass.h"
#include "restore-files.h"
#include "restore-pipes.h"
#include "restore-shmem.h"
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
static int check_identity(const FileEntry *f, const struct stat *st, const char *who)
{
	const RegFileEntry *reg = f->reg;

	if (reg->has_dev && reg->has_ino && (st->st_dev != reg->dev || st->st_ino != reg->ino)) {
		pr_err("%s: %s changed since the dump (device %u:%u inode %llu then, %u:%u inode "
		       "%llu now)\n",
		       who, reg->path, major(reg->dev), minor(reg->dev),
		       (unsigned long long)reg->ino, major(st->st_dev), minor(st->st_dev),
		       (unsigned long long)st->st_ino);
		return -ESTALE;
	}
	return 0;
}

static int open_tty(const FileEntry *f, bool shell_job, const char *who, int *ret_fd)
{
	int flags = f->reg ? (int)(f->reg->flags & O_ACCMODE) : O_RDWR;
	char tty[256];
	int fd, r;

	if (!shell_job) {
		pr_err("%s is a terminal: restore with --shell-job\n", who);
		return -ENOTSUP;
	}
	r = find_own_tty(tty, sizeof(tty));
	if (r < 0) {
		pr_err("%s is a terminal, but relive's stdin, stdout and stderr are not\n", who);
		return r;
	}
	fd = open(tty, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pr_err_ret(-errno, "%s: cannot open terminal %s", who, tty);
	*ret_fd = fd;
	return 0;
}

/* A regular file, directory or character device, reopened by path. */
static int open_by_path(const FileEntry *f, const char *who, int *ret_fd)
{
	const RegFileEntry *reg = f->reg;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int flags, r;

	if (!reg) {
		pr_err("%s: files.img entry %u has no path\n", who, f->id);
		return -EINVAL;
	}
	if (reg->has_unlinked && reg->unlinked) {
		pr_err("not supported: %s is %s, which was deleted or moved away\n", who,
		       reg->path);
		return -ENOTSUP;
	}
	/* Never create, truncate or steal a controlling terminal on reopen. */
	flags = (int)reg->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOCTTY);
	if (f->type == FILE_TYPE__FT_DIR)
		flags |= O_DIRECTORY;
	fd = open(reg->path, flags | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pr_err_ret(-errno, "%s: cannot open %s", who, reg->path);
	if (fstat(fd, &st) < 0)
		return pr_err_ret(-errno, "%s: cannot stat %s", who, reg->path);

	switch (f->type) {
	case FILE_TYPE__FT_REG:
		if (!S_ISREG(st.st_mode)) {
			pr_err("%s: %s is no longer a regular file\n", who, reg->path);
			return -ESTALE;
		}
		r = check_identity(f, &st, who);
		if (r < 0)
			return r;
		break;
	case FILE_TYPE__FT_DIR:
		r = check_identity(f, &st, who);
		if (r < 0)
			return r;
		break;
	default: /* FT_CHR: a device node, reopened by path */
		if (!S_ISCHR(st.st_mode) || (reg->has_rdev && st.st_rdev != reg->rdev)) {
			pr_err("%s: %s is not the character device it was\n", who, reg->path);
			return -ESTALE;
		}
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	if (reg->pos > (uint64_t)INT64_MAX) {
		pr_err("%s: position %llu out of range\n", who, (unsigned long long)reg->pos);
		return -EINVAL;
	}
	if (reg->pos && lseek(fd, (off_t)reg->pos, SEEK_SET) != (off_t)reg->pos)
		return pr_err_ret(negerrno(), "%s: cannot seek %s to %llu", who, reg->path,
				  (unsigned long long)reg->pos);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Open the file description f, first used as "who" (process P fd N). */
static int open_description(const struct image_set *set, const FileEntry *f, bool shell_job,
			    const char *who, int *ret_fd)
{
	switch (f->type) {
	case FILE_TYPE__FT_TTY:
		return open_tty(f, shell_job, who, ret_fd);
	case FILE_TYPE__FT_REG:
	case FILE_TYPE__FT_DIR:
	case FILE_TYPE__FT_CHR:
		return open_by_path(f, who, ret_fd);
	case FILE_TYPE__FT_PIPE:
	case FILE_TYPE__FT_FIFO:
		return restore_pipe_open(set, f, ret_fd);
	case FILE_TYPE__FT_MEMFD:
		return restore_memfd_open(set, f, ret_fd);
	default:
		pr_err("not supported: %s is a %s\n", who, file_type_name(f->type));
		return -ENOTSUP;
	}
}

static int file_index(const struct image_set *set, uint32_t id)
{
	for (size_t i = 0; i < set->nr_files; i++)
		if (set->files[i]->id == id)
			return (int)i;
	return -1;
}

void restore_files_close(int *fds, size_t nr)
{
	for (size_t i = 0; fds && i < nr; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int restore_files_open(const struct image_set *set, bool shell_job, int **ret_fds)
{
	int *fds = malloc((set->nr_files ? set->nr_files : 1) * sizeof(*fds));

	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < set->nr_files; i++)
		fds[i] = -1;
	for (size_t i = 0; i < set->nr_procs; i++) {
		const struct image_proc *p = &set->procs[i];

		for (size_t j = 0; j < p->nr_fds; j++) {
			int idx = file_index(set, p->fds[j]->file_id);
			char who[64];
			int r;

			if (idx < 0) {
				pr_err("fds-%u.img: fd %u: unknown file id %u\n", p->pstree->pid,
				       p->fds[j]->fd, p->fds[j]->file_id);
				restore_files_close(fds, set->nr_files);
				return -EINVAL;
			}
			if (fds[idx] >= 0)
				continue;
			snprintf(who, sizeof(who), "process %u fd %u", p->pstree->pid,
				 p->fds[j]->fd);
			r = open_description(set, set->files[idx], shell_job, who, &fds[idx]);
			if (r < 0) {
				restore_files_close(fds, set->nr_files);
				return r;
			}
		}
	}
	*ret_fds = fds;
	return 0;
}

/* Is fd entry i of p the first one of its description in p? */
static bool first_of_description(const struct image_proc *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->fds[j]->file_id == p->fds[i]->file_id)
			return false;
	return true;
}

int restore_files_send(int sock, const struct image_set *set, const struct image_proc *p,
		       const int *fds)
{
	for (size_t i = 0; i < p->nr_fds; i++) {
		struct tree_msg m = {.op = TREE_FD, .file_id = p->fds[i]->file_id};
		int idx, r;

		if (!first_of_description(p, i))
			continue;
		idx = file_index(set, p->fds[i]->file_id);
		if (idx < 0 || fds[idx] < 0) {
			pr_err("process %u fd %u: file id %u was not opened\n", p->pstree->pid,
			       p->fds[i]->fd, p->fds[i]->file_id);
			return -EINVAL;
		}
		r = tree_msg_send(sock, &m, fds[idx]);
		if (r < 0)
			return pr_err_ret(r, "process %u: cannot send fd %u", p->pstree->pid,
					  p->fds[i]->fd);
	}
	return 0;
}

int restore_fds(const struct image_proc *p, int sock, struct phase_a_error *err)
{
	_cleanup_free_ int *src = NULL; /* per fd entry: where its description sits */
	unsigned max_fd = 0, base;
	struct rlimit nofile;

	for (size_t i = 0; i < p->nr_fds; i++)
		if (p->fds[i]->fd > max_fd)
			max_fd = p->fds[i]->fd;
	/*
	 * Descriptions are moved above every target number first, so that
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
		struct tree_msg m;
		int fd = -1, high, r;

		src[i] = -1;
		/* A description shared by several fds comes only once. */
		if (!first_of_description(p, i)) {
			for (size_t j = 0; j < i; j++) {
				if (p->fds[j]->file_id == p->fds[i]->file_id) {
					src[i] = src[j];
					break;
				}
			}
			continue;
		}
		r = tree_msg_recv(sock, &m, &fd, NULL);
		if (r < 0)
			return phase_a_fail(err, r, "fd %u: cannot receive it from relive",
					    p->fds[i]->fd);
		if (m.op != TREE_FD || m.file_id != p->fds[i]->file_id || fd < 0) {
			if (fd >= 0)
				close(fd);
			return phase_a_refuse(err, -EPROTO,
					      "fd %u: relive sent file id %u, expected %u",
					      p->fds[i]->fd, m.file_id, p->fds[i]->file_id);
		}
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
