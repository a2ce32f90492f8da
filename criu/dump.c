// SPDX-License-Identifier: GPL-2.0-or-later
/* Dump orchestration: seize, collect per process, write images, kill or resume. */
#define LOG_PREFIX "dump: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include "dump-files.h"
#include "dump-mm.h"
#include "dump-pipes.h"
#include "dump-shmem.h"
#include "dump-task.h"
#include "dump-thread.h"
#include "dump.h"
#include "img.h"
#include "log.h"
#include "options.h"
#include "page-server.h"
#include "seize.h"
#include "util.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

/* Room for 64 sigactions of 32 bytes, itimers and small results. */
#define DUMP_SCRATCH_SIZE 4096

int dump_read_proc(pid_t pid, const char *name, char **ret, size_t *ret_len)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return read_file_str(path, ret, ret_len);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int find_syscall_ip(const struct dump_task *t, unsigned long *ret)
{
	for (size_t i = 0; i < t->vmas.nr; i++) {
		const struct proc_vma *v = &t->vmas.v[i];

		if (v->path && !strcmp(v->path, "[vdso]"))
			return remote_find_syscall_insn(t->pid, v->start, v->end, ret);
	}
	pr_err("not supported: process %d has no [vdso] (booted with vdso=0?)\n", t->pid);
	return -EOPNOTSUPP;
}

/*
 * Everything about one process, in an order that matters: /proc maps
 * before the scratch area exists; remote calls; the signals they deferred
 * queued back before pending signals are read; then memory and files.
 */
static int dump_one_task(struct dump_ctx *ctx, struct dump_task *t)
{
	unsigned long ip;
	int r;

	r = dump_task_proc_early(t);
	if (r < 0)
		return r;
	r = dump_mm_check(t);
	if (r < 0)
		return r;
	r = find_syscall_ip(t, &ip);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		r = remote_init(&t->threads[i].rt, t->threads[i].tid, ip);
		if (r < 0)
			return r;
		t->threads[i].remote_ready = true;
	}
	r = remote_map_scratch(&t->threads[0].rt, DUMP_SCRATCH_SIZE);
	if (r < 0)
		return r;
	t->scratch_mapped = true;
	r = dump_task_remote_state(t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		r = dump_thread_remote_state(t, &t->threads[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < t->nr_threads; i++)
		ctx->stats.nr_remote_calls += t->threads[i].rt.nr_calls;
	r = seize_task_remote_done(t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nr_threads; i++) {
		r = dump_thread_ptrace_state(t, &t->threads[i]);
		if (r < 0)
			return r;
	}
	r = dump_task_proc_state(t);
	if (r < 0)
		return r;
	r = dump_task_files(ctx, t);
	if (r < 0)
		return r;
	r = dump_mm(ctx, t);
	if (r < 0)
		return r;
	r = dump_task_write_core(ctx, t);
	if (r < 0)
		return r;
	return dump_write_fds(ctx, t);
}

/* core-PID.img of a zombie: its state, name and exit status only. */
static int dump_zombie(struct dump_ctx *ctx, struct dump_task *t)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	int r;

	tc.pid = (uint32_t)t->pid;
	tc.state = TASK_STATE__TASK_ZOMBIE;
	tc.has_exit_code = true;
	tc.exit_code = t->exit_code;
	tc.comm = t->comm;
	snprintf(name, sizeof(name), "core-%d.img", t->pid);
	r = img_open_write(ctx->dirfd, name, IMG_CORE, &img);
	if (r < 0)
		return r;
	r = img_write_msg(img, &tc.base);
	if (r < 0)
		return r;
	return img_commit(img);
}

static int write_pstree(struct dump_ctx *ctx)
{
	_cleanup_img_ struct img *img = NULL;
	int r;

	r = img_open_write(ctx->dirfd, "pstree.img", IMG_PSTREE, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		const struct dump_task *t = &ctx->tasks[i];
		/* A zombie is listed with its own pid as its only thread. */
		size_t nr = t->zombie ? 1 : t->nr_threads;
		_cleanup_free_ uint32_t *tids = calloc(nr, sizeof(*tids));
		PstreeEntry e = PSTREE_ENTRY__INIT;

		if (!tids)
			return -ENOMEM;
		tids[0] = (uint32_t)t->pid;
		for (size_t j = 0; j < t->nr_threads; j++)
			tids[j] = (uint32_t)t->threads[j].tid;
		e.pid = (uint32_t)t->pid;
		e.ppid = (uint32_t)t->ppid;
		e.pgid = (uint32_t)t->pgid;
		e.sid = (uint32_t)t->sid;
		e.n_threads = nr;
		e.threads = tids;
		r = img_write_msg(img, &e.base);
		if (r < 0)
			return r;
	}
	return img_commit(img);
}

/* XCR0 as PTRACE_GETREGSET reports it: the first word of the software
 * bytes of the FXSAVE area (offset 464). Signal frames use another layout
 * there (magic first); ptrace does not. */
static bool xstate_features(const struct dump_thread *th, uint64_t *ret)
{
	if (th->xstate_len < 512)
		return false;
	memcpy(ret, th->xstate + 464, sizeof(*ret));
	return *ret != 0;
}

static int write_inventory(struct dump_ctx *ctx)
{
	InventoryEntry e = INVENTORY_ENTRY__INIT;
	_cleanup_img_ struct img *img = NULL;
	unsigned char id[16];
	char hex[33];
	struct utsname u;
	int r;

	/* The identity of the set: never reused, so never 0 bits of entropy. */
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return pr_err_ret(negerrno(), "getrandom");
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	if (uname(&u) < 0)
		return pr_err_ret(-errno, "uname");
	e.format_version = IMG_FORMAT_VERSION;
	e.root_pid = (uint32_t)ctx->tasks[0].pid;
	e.image_set_id = hex;
	e.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	e.kernel_release = u.release;
	e.has_xfeatures = xstate_features(&ctx->tasks[0].threads[0], &e.xfeatures);
	e.has_dump_time_ns = true;
	e.dump_time_ns = now_ns(CLOCK_REALTIME);
	e.has_lazy_remote = ctx->lazy != NULL;
	e.lazy_remote = ctx->lazy != NULL;
	memcpy(ctx->image_set_id, hex, sizeof(ctx->image_set_id));
	r = img_open_write(ctx->dirfd, "inventory.img", IMG_INVENTORY, &img);
	if (r < 0)
		return r;
	r = img_write_msg(img, &e.base);
	if (r < 0)
		return r;
	return img_commit(img);
}

static int fsync_dir(struct dump_ctx *ctx)
{
	if (fsync(ctx->dirfd) < 0)
		return pr_err_ret(-errno, "cannot sync the images directory %s",
				  ctx->o->images_dir);
	return 0;
}

static int dump_all(struct dump_ctx *ctx)
{
	int r;

	r = seize_tree(ctx, ctx->o->tree);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		if (ctx->tasks[i].zombie)
			r = dump_zombie(ctx, &ctx->tasks[i]);
		else
			r = dump_one_task(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	r = write_pstree(ctx);
	if (r < 0)
		return r;
	r = dump_write_files(ctx);
	if (r < 0)
		return r;
	r = dump_pipes_write(ctx->pipes, ctx->dirfd);
	if (r < 0)
		return r;
	r = dump_shmem_write(ctx->shmem, ctx->dirfd);
	if (r < 0)
		return r;
	/* Every other image is on disk and named before inventory.img says the
	 * set is complete. */
	r = fsync_dir(ctx);
	if (r < 0)
		return r;
	r = write_inventory(ctx);
	if (r < 0)
		return r;
	return fsync_dir(ctx);
}

static int check_options(const struct opts *o)
{
	if (o->tree <= 0) {
		pr_err("missing -t/--tree PID\n");
		return -EINVAL;
	}
	if (o->lazy_pages && o->page_server) {
		pr_err("not supported: --lazy-pages with --page-server (post-copy from a "
		       "pre-copied set)\n");
		return -EOPNOTSUPP;
	}
	if (o->lazy_pages && !o->port) {
		pr_err("--lazy-pages needs --port (and --address) to serve the pages; a local "
		       "lazy restore uses a plain dump\n");
		return -EINVAL;
	}
	if (o->page_server && !o->port) {
		pr_err("--page-server needs --address and --port\n");
		return -EINVAL;
	}
	if ((o->address || o->port) && !o->lazy_pages && !o->page_server) {
		pr_err("--address and --port go with --lazy-pages or --page-server\n");
		return -EINVAL;
	}
	if (o->lazy_pages && o->leave_running) {
		pr_err("not supported: --lazy-pages with -R (the source is killed once its pages "
		       "moved)\n");
		return -EOPNOTSUPP;
	}
	if (o->prev_images_dir) {
		pr_err("not supported yet: --prev-images-dir\n");
		return -EOPNOTSUPP;
	}
	if (o->tcp_established) {
		pr_err("not supported yet: --tcp-established (sockets are not dumped)\n");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Bytes of the regular files in the images directory. */
static uint64_t dir_size(int dirfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	uint64_t sum = 0;
	struct dirent *de;

	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	}
	return sum;
}

/*
 * --lazy-pages --port: the images are complete, the tree stays frozen and
 * its anonymous memory is served until the destination has every page;
 * then the source is killed. A failure before the destination reported
 * its tree running resumes the source instead.
 */
static int serve_lazy(struct dump_ctx *ctx, uint64_t t0)
{
	bool running = false;
	double ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	uint64_t lazy = ps_lazy_nr_pages(ctx->lazy);
	int r;

	pr_msg("dump: images complete in %.1f ms: %s holds %.1f KiB (copy it to the "
	       "destination); %llu lazy pages (%.1f MiB) stay here for the page server on "
	       "port %d, image set %s\n",
	       ms, ctx->o->images_dir ? ctx->o->images_dir : ".", dir_size(ctx->dirfd) / 1024.0,
	       (unsigned long long)lazy, lazy * 4096.0 / (1 << 20), ctx->o->port,
	       ctx->image_set_id);
	r = opts_notify_status(ctx->o);
	if (r < 0)
		pr_warn("cannot write the status byte: %s\n", strerror(-r));
	r = ps_lazy_serve(ctx->lazy, ctx->image_set_id, &running);
	if (r == 0) {
		seize_kill_tree(ctx);
		pr_msg("dump: every page moved in %.3f s: the source tree is killed\n",
		       (now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
		return 0;
	}
	/* The destination never ran the tree (or we don't know it did not):
	 * the images are no good any more, the source goes on. */
	unlinkat(ctx->dirfd, "inventory.img", 0);
	if (!running) {
		if (seize_resume_tree(ctx) == 0)
			pr_err("the migration failed before the destination ran the tree: the "
			       "source tree is resumed\n");
		else
			pr_err("the migration failed, and the source tree may not have resumed "
			       "cleanly\n");
		return r;
	}
	seize_kill_tree(ctx);
	pr_err("the destination ran the tree and then was lost before it had every page: "
	       "the source tree is killed (its pages can't be served any more)\n");
	return r;
}

static void dump_ctx_free(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		dump_task_free(&ctx->tasks[i]);
	free(ctx->tasks);
	dump_files_free(ctx);
	dump_pipes_free(ctx->pipes);
	dump_shmem_free(ctx->shmem);
	ps_lazy_free(ctx->lazy);
	ps_push_free(ctx->push);
	if (ctx->page_buf)
		munmap(ctx->page_buf, ctx->page_buf_len);
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
}

int dump_tree(const struct opts *o)
{
	struct dump_ctx ctx = {.o = o, .dirfd = -1};
	const char *dir = o->images_dir ? o->images_dir : ".";
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	sigset_t block, old;
	size_t nr_threads = 0;
	int r;

	r = check_options(o);
	if (r < 0)
		return r;
	ctx.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0) {
		r = -errno;
		if (r == -ENOENT)
			pr_err("images directory %s does not exist\n", dir);
		else
			pr_err_ret(r, "cannot open images directory %s", dir);
		return r;
	}
	/* A stale inventory.img would make a half-written set look complete. */
	if (unlinkat(ctx.dirfd, "inventory.img", 0) < 0 && errno != ENOENT) {
		r = pr_err_ret(-errno, "cannot remove the old %s/inventory.img", dir);
		dump_ctx_free(&ctx);
		return r;
	}

	/* The socket first: a busy port or an absent page server fails before
	 * anything is frozen. */
	if (o->lazy_pages)
		r = ps_lazy_new(o->address, o->port, &ctx.lazy);
	else if (o->page_server)
		r = ps_push_open(o->address ? o->address : "localhost", o->port, &ctx.push);
	if (r < 0) {
		dump_ctx_free(&ctx);
		return r;
	}

	/* While tasks are stopped and their registers borrowed, a ^C must not
	 * end us half-way: handle it as a failure at the end instead. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigprocmask(SIG_BLOCK, &block, &old);

	r = dump_all(&ctx);
	if (r == 0 && ctx.push)
		r = ps_push_finish(ctx.push);
	if (r == 0) {
		sigset_t pending;

		sigpending(&pending);
		for (int s = 1; s < NSIG; s++)
			if (sigismember(&block, s) && sigismember(&pending, s)) {
				pr_err("interrupted by signal %d\n", s);
				unlinkat(ctx.dirfd, "inventory.img", 0);
				r = -EINTR;
				break;
			}
	}
	if (r == 0 && ctx.lazy) {
		r = serve_lazy(&ctx, t0);
	} else if (r < 0) {
		seize_resume_tree(&ctx);
	} else if (o->leave_running) {
		r = seize_resume_tree(&ctx);
		if (r < 0)
			pr_err(
			    "the images are complete, but the tree may not have resumed cleanly\n");
	} else {
		seize_kill_tree(&ctx);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (r == 0) {
		double secs = (now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
		double mib = ctx.stats.nr_pages * 4096.0 / (1 << 20);

		for (size_t i = 0; i < ctx.nr_tasks; i++)
			nr_threads += ctx.tasks[i].nr_threads;
		pr_msg(
		    "dump: %zu process(es), %zu thread(s), %lu VMAs, %lu pages (%.1f MiB, %lu zero "
		    "pages skipped) in %.3f s (%.0f MiB/s); tree %s\n",
		    ctx.nr_tasks, nr_threads, (unsigned long)ctx.stats.nr_vmas,
		    (unsigned long)ctx.stats.nr_pages, mib, (unsigned long)ctx.stats.nr_zero, secs,
		    secs > 0 ? mib / secs : 0.0, o->leave_running ? "left running" : "killed");
		if (!ctx.lazy)
			r = opts_notify_status(o);
	}
	dump_ctx_free(&ctx);
	return r;
}
