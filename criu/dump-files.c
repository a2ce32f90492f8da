// SPDX-License-Identifier: GPL-2.0-or-later
/* File descriptors: classify, deduplicate with kcmp, write files and fds images. */
#define LOG_PREFIX "dump: "
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "dump-files.h"
#include "dump-pipes.h"
#include "dump-shmem.h"
#include "dump.h"
#include "img.h"
#include "log.h"
#include "options.h"
#include "util.h"

#include "fdinfo.pb-c.h"

/*
 * The kernel's O_LARGEFILE on x86_64. It forces the flag on every open of
 * a 64-bit process and fdinfo shows it, while glibc defines O_LARGEFILE as
 * 0 there: it carries no state, so it is dropped.
 */
#define KERNEL_O_LARGEFILE 0100000u

/* More fds than this in one process is not something we dump. */
#define DUMP_MAX_FDS (1u << 20)

bool dump_chr_is_plain(unsigned major, unsigned minor)
{
	/* mem class: 3 null, 5 zero, 7 full, 8 random, 9 urandom */
	return major == 1 && (minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9);
}

bool dump_chr_is_tty(unsigned major, unsigned minor)
{
	/* 4: virtual consoles and serial; 5/0 /dev/tty, 5/1 console;
	 * 136-143: pseudo-terminal slaves. A ptmx master is not one. */
	return major == 4 || (major == 5 && minor <= 1) || (major >= 136 && major <= 143);
}

static int add_file(struct dump_ctx *ctx, struct dump_file *f)
{
	struct dump_file *n;

	if (ctx->nr_files >= UINT32_MAX - 1)
		return -E2BIG;
	n = reallocarray(ctx->files, ctx->nr_files + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->files = n;
	f->id = (uint32_t)ctx->nr_files + 1;
	ctx->files[ctx->nr_files++] = *f;
	return 0;
}

/* The id of an already seen description f refers to, or 0. */
static int find_shared(struct dump_ctx *ctx, pid_t pid, int fd, const struct dump_file *f,
		       uint32_t *ret)
{
	*ret = 0;
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const struct dump_file *o = &ctx->files[i];
		long k;

		if (o->dev != f->dev || o->ino != f->ino || o->type != f->type)
			continue;
		k = syscall(SYS_kcmp, pid, o->pid, KCMP_FILE, fd, o->fd);
		if (k < 0)
			return pr_err_ret(-errno, "process %d: kcmp of fd %d with %d/%d", pid, fd,
					  o->pid, o->fd);
		if (k == 0) {
			*ret = o->id;
			return 0;
		}
	}
	return 0;
}

/* "anon_inode:[eventfd]" -> "eventfd" */
static void anon_kind(const char *link, char *buf, size_t len)
{
	const char *k = link + strlen("anon_inode:");
	size_t kl = strlen(k);

	/* Names are short ("eventfd", "eventpoll"); cut anything longer. */
	if (kl >= 2 && k[0] == '[' && k[kl - 1] == ']')
		kl -= 2, k++;
	if (kl >= len)
		kl = len - 1;
	memcpy(buf, k, kl);
	buf[kl] = '\0';
}

/* Fill f for fd of pid, or log why it cannot be dumped. */
static int classify_fd(const struct dump_ctx *ctx, pid_t pid, int fd, const char *link,
		       const struct stat *st, struct dump_file *f)
{
	char kind[128];

	if (!strncmp(link, "anon_inode:", 11)) {
		anon_kind(link, kind, sizeof(kind));
		pr_err("not supported: fd %d of process %d is a %s\n", fd, pid, kind);
		return -EOPNOTSUPP;
	}
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		if (!strncmp(link, "/memfd:", 7)) {
			f->type = FILE_TYPE__FT_MEMFD;
			return 0;
		}
		if (st->st_nlink == 0 || link[0] != '/') {
			size_t ll = strlen(link), dl = strlen(" (deleted)");

			/* The link names the file as it was, plus a marker. */
			if (ll > dl && !strcmp(link + ll - dl, " (deleted)"))
				ll -= dl;
			pr_err("not supported: fd %d of process %d is an unlinked file %.*s\n", fd,
			       pid, (int)ll, link);
			return -EOPNOTSUPP;
		}
		f->type = FILE_TYPE__FT_REG;
		return 0;
	case S_IFDIR:
		if (st->st_nlink == 0 || link[0] != '/') {
			pr_err("not supported: fd %d of process %d is a deleted directory %s\n", fd,
			       pid, link);
			return -EOPNOTSUPP;
		}
		f->type = FILE_TYPE__FT_DIR;
		return 0;
	case S_IFCHR:
		if (dump_chr_is_tty(major(st->st_rdev), minor(st->st_rdev))) {
			if (!ctx->o->shell_job) {
				pr_err("not supported: fd %d of process %d is a terminal (use "
				       "--shell-job)\n",
				       fd, pid);
				return -EOPNOTSUPP;
			}
			f->type = FILE_TYPE__FT_TTY;
			return 0;
		}
		if (dump_chr_is_plain(major(st->st_rdev), minor(st->st_rdev)) && link[0] == '/') {
			f->type = FILE_TYPE__FT_CHR;
			return 0;
		}
		pr_err("not supported: fd %d of process %d is a character device %s (%u:%u)\n", fd,
		       pid, link, major(st->st_rdev), minor(st->st_rdev));
		return -EOPNOTSUPP;
	case S_IFIFO:
		if (!strncmp(link, "pipe:", 5)) {
			f->type = FILE_TYPE__FT_PIPE;
			return 0;
		}
		if (st->st_nlink == 0 || link[0] != '/') {
			pr_err("not supported: fd %d of process %d is a deleted FIFO %s\n", fd, pid,
			       link);
			return -EOPNOTSUPP;
		}
		f->type = FILE_TYPE__FT_FIFO;
		return 0;
	case S_IFSOCK:
		pr_err("not supported: fd %d of process %d is a socket\n", fd, pid);
		return -EOPNOTSUPP;
	case S_IFBLK:
		pr_err("not supported: fd %d of process %d is a block device %s\n", fd, pid, link);
		return -EOPNOTSUPP;
	default:
		pr_err("not supported: fd %d of process %d is a %s\n", fd, pid, link);
		return -EOPNOTSUPP;
	}
}

static int dump_one_fd(struct dump_ctx *ctx, struct dump_task *t, int fd)
{
	char path[64], link[PATH_MAX + 1], fdinfo_name[64];
	_cleanup_free_ char *fdinfo = NULL;
	struct proc_fdinfo fi;
	struct dump_file f;
	struct dump_fd *n;
	struct stat st;
	uint32_t id;
	ssize_t len;
	size_t flen;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", t->pid, fd);
	len = readlink(path, link, sizeof(link));
	if (len < 0)
		return pr_err_ret(-errno, "process %d: cannot read link %s", t->pid, path);
	if (len >= (ssize_t)sizeof(link) - 1) {
		pr_err("process %d: fd %d: path longer than PATH_MAX\n", t->pid, fd);
		return -ENAMETOOLONG;
	}
	link[len] = '\0';
	if (stat(path, &st) < 0)
		return pr_err_ret(-errno, "process %d: cannot stat fd %d (%s)", t->pid, fd, link);
	snprintf(fdinfo_name, sizeof(fdinfo_name), "fdinfo/%d", fd);
	r = dump_read_proc(t->pid, fdinfo_name, &fdinfo, &flen);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot read /proc/%d/%s", t->pid, t->pid,
				  fdinfo_name);
	r = proc_parse_fdinfo(fdinfo, flen, &fi);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/%s", t->pid, t->pid,
				  fdinfo_name);

	memset(&f, 0, sizeof(f));
	r = classify_fd(ctx, t->pid, fd, link, &st, &f);
	if (r < 0)
		return r;
	f.pid = t->pid;
	f.fd = fd;
	f.flags = fi.flags & ~((uint32_t)O_CLOEXEC | KERNEL_O_LARGEFILE);
	f.pos = fi.pos;
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.size = st.st_size;
	f.mode = st.st_mode;
	f.rdev = st.st_rdev;

	r = find_shared(ctx, t->pid, fd, &f, &id);
	if (r < 0)
		return r;
	if (!id) {
		f.path = strdup(link);
		if (!f.path)
			return -ENOMEM;
		r = add_file(ctx, &f);
		if (r < 0) {
			free(f.path);
			return r;
		}
		id = f.id;
		/* Pipe data and memfd content: once per description seen. */
		if (f.type == FILE_TYPE__FT_MEMFD && ctx->push) {
			pr_err("not supported: fd %d of process %d is a memfd, with "
			       "--page-server (its content is saved in the images directory)\n",
			       fd, t->pid);
			return -EOPNOTSUPP;
		}
		if (f.type == FILE_TYPE__FT_PIPE || f.type == FILE_TYPE__FT_FIFO)
			r = dump_pipe_collect(&ctx->pipes, t->pid, fd, &st, f.flags, id);
		else if (f.type == FILE_TYPE__FT_MEMFD)
			r = dump_shmem_memfd(&ctx->shmem, ctx->dirfd, t->pid, fd, link,
					     &ctx->files[ctx->nr_files - 1].shmid);
		if (r < 0)
			return r;
	}
	if (t->nr_fds >= DUMP_MAX_FDS) {
		pr_err("not supported: process %d has more than %u fds\n", t->pid, DUMP_MAX_FDS);
		return -E2BIG;
	}
	n = reallocarray(t->fds, t->nr_fds + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->fds = n;
	t->fds[t->nr_fds++] = (struct dump_fd){fd, id, !!(fi.flags & O_CLOEXEC)};
	pr_debug("process %d: fd %d -> file %u %s pos %lu flags %#o\n", t->pid, fd, id, link,
		 (unsigned long)fi.pos, fi.flags);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int dump_task_files(struct dump_ctx *ctx, struct dump_task *t)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ int *fds = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	d = opendir(path);
	if (!d)
		return pr_err_ret(negerrno(), "process %d: cannot list %s", t->pid, path);
	while ((de = readdir(d))) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		if (parse_int(de->d_name, &fd) < 0 || fd < 0) {
			pr_err("process %d: unexpected entry %s in %s\n", t->pid, de->d_name, path);
			return -EPROTO;
		}
		if (nr == cap) {
			int *n;

			if (cap >= DUMP_MAX_FDS) {
				pr_err("not supported: process %d has more than %u fds\n", t->pid,
				       DUMP_MAX_FDS);
				return -E2BIG;
			}
			cap = cap ? cap * 2 : 64;
			n = reallocarray(fds, cap, sizeof(*n));
			if (!n)
				return -ENOMEM;
			fds = n;
		}
		fds[nr++] = fd;
	}
	/* Ascending fd order makes the images stable and easy to read. */
	qsort(fds, nr, sizeof(*fds), cmp_int);
	for (size_t i = 0; i < nr; i++) {
		r = dump_one_fd(ctx, t, fds[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int dump_write_fds(struct dump_ctx *ctx, const struct dump_task *t)
{
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "fds-%d.img", t->pid);
	r = img_open_write(ctx->dirfd, name, IMG_FDS, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nr_fds; i++) {
		FdEntry e = FD_ENTRY__INIT;

		e.fd = (uint32_t)t->fds[i].fd;
		e.file_id = t->fds[i].file_id;
		e.has_cloexec = true;
		e.cloexec = t->fds[i].cloexec;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

int dump_write_files(struct dump_ctx *ctx)
{
	FilesHead head = FILES_HEAD__INIT;
	_cleanup_img_ struct img *img = NULL;
	int r;

	r = img_open_write(ctx->dirfd, "files.img", IMG_FILES, &img);
	if (r < 0)
		return r;
	head.nr_files = (uint32_t)ctx->nr_files;
	r = img_write_msg(img, &head.base);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_files; i++) {
		const struct dump_file *f = &ctx->files[i];
		FileEntry e = FILE_ENTRY__INIT;
		RegFileEntry reg = REG_FILE_ENTRY__INIT;
		PipeFileEntry pipe = PIPE_FILE_ENTRY__INIT;
		MemfdFileEntry memfd = MEMFD_FILE_ENTRY__INIT;

		e.id = f->id;
		e.type = f->type;
		reg.path = f->path;
		reg.flags = f->flags;
		reg.pos = f->pos;
		reg.has_dev = reg.has_ino = reg.has_mode = true;
		reg.dev = f->dev;
		reg.ino = f->ino;
		reg.mode = f->mode;
		if (f->type == FILE_TYPE__FT_REG) {
			reg.has_size = true;
			reg.size = f->size;
		}
		if (f->type == FILE_TYPE__FT_CHR || f->type == FILE_TYPE__FT_TTY) {
			reg.has_rdev = true;
			reg.rdev = f->rdev;
		}
		e.reg = &reg;
		if (f->type == FILE_TYPE__FT_PIPE || f->type == FILE_TYPE__FT_FIFO) {
			r = dump_pipe_entry(ctx->pipes, f->id, &pipe);
			if (r < 0)
				return r;
			e.pipe = &pipe;
		}
		if (f->type == FILE_TYPE__FT_MEMFD) {
			memfd.shmid = f->shmid;
			memfd.flags = f->flags;
			memfd.pos = f->pos;
			e.memfd = &memfd;
		}
		/* A pipe's or memfd's "path" is no path to reopen. */
		if (f->type == FILE_TYPE__FT_PIPE || f->type == FILE_TYPE__FT_MEMFD)
			e.reg = NULL;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

void dump_files_free(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_files; i++)
		free(ctx->files[i].path);
	free(ctx->files);
	ctx->files = NULL;
	ctx->nr_files = 0;
}
