// SPDX-License-Identifier: GPL-2.0-or-later
/* dump on live children: images read back field by field, resume, kill, refusals. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "img.h"
#include "log.h"
#include "options.h"
#include "util.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PATTERN_PAGES 64
#define ZERO_PAGE     5 /* this page of the pattern area is all zero */

static void pattern(unsigned char *p, size_t page)
{
	for (size_t i = 0; i < 4096; i += 8) {
		uint64_t v = page * 0x100000001ull + i + 1;

		memcpy(p + i, &v, 8);
	}
}

static void usr1(int sig)
{
	(void)sig;
}

static void *thread_sleep(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * The child: fds 0-2 on /dev/null (the test's own are pipes), a patterned
 * anonymous area with one zero page, a handler, a blocked pending signal,
 * an itimer, a umask, dup'ed and separate opens of one file; optionally a
 * second thread, a child of its own, or an eventfd. Tells the parent the
 * pattern address through ready_fd, closes it, and sleeps.
 */
enum child_extra { EXTRA_NONE, EXTRA_THREAD, EXTRA_CHILD, EXTRA_EVENTFD, EXTRA_SECCOMP };

static void child(int ready_fd, enum child_extra extra, unsigned sleep_ms)
{
	struct sigaction sa = {.sa_handler = usr1, .sa_flags = SA_RESTART};
	struct itimerval it = {{5, 0}, {50, 0}};
	struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L}, t0, t1;
	unsigned char *p;
	sigset_t set;
	int fd, devnull, pfd[2];
	pthread_t th;

	devnull = open("/dev/null", O_RDWR);
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	close(devnull);
	if (ready_fd != 3) {
		dup2(ready_fd, 3);
		ready_fd = 3;
	}
	syscall(SYS_close_range, 4, ~0u, 0);
	fd = open("/etc/passwd", O_RDONLY);
	lseek(fd, 10, SEEK_SET);
	dup2(fd, 7);
	dup2(fd, 8);
	close(fd);
	fd = open("/etc/passwd", O_RDONLY);
	dup3(fd, 9, O_CLOEXEC);
	close(fd);
	umask(027);
	p = mmap(NULL, PATTERN_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	for (size_t i = 0; i < PATTERN_PAGES; i++)
		pattern(p + i * 4096, i);
	memset(p + ZERO_PAGE * 4096, 0, 4096);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	setitimer(ITIMER_VIRTUAL, &it, NULL);
	if (extra == EXTRA_THREAD)
		pthread_create(&th, NULL, thread_sleep, NULL);
	if (extra == EXTRA_CHILD) {
		char c = 0;

		/* The grandchild must drop the ready pipe before the parent dumps. */
		if (pipe(pfd) < 0)
			_exit(5);
		if (fork() == 0) {
			close(ready_fd);
			close(pfd[0]);
			(void)!write(pfd[1], &c, 1);
			close(pfd[1]);
			for (;;)
				pause();
		}
		close(pfd[1]);
		(void)!read(pfd[0], &c, 1);
		close(pfd[0]);
	}
	/* Pipes are dumped now; an eventfd is not. */
	if (extra == EXTRA_EVENTFD && eventfd(0, 0) < 0)
		_exit(7);
	if (extra == EXTRA_SECCOMP) {
		/* A filter that allows everything: still a filter. */
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		struct sock_fprog prog = {.len = 1, .filter = &allow};

		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(7);
	}
	{
		/* Private file mappings: one page only read (the file holds it),
		 * one written (an anonymous copy the dump must keep). */
		int pf = open("/etc/passwd", O_RDONLY);
		volatile unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, pf, 0);
		unsigned char *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, pf, 0);
		unsigned char *addrs[3] = {p, (unsigned char *)ro, rw};

		close(pf);
		(void)ro[0];
		rw[0] ^= 0x20;
		(void)!write(ready_fd, addrs, sizeof(addrs));
	}
	close(ready_fd);
	/* Exit 0 only if the sleep was neither cut short nor failed, the
	 * memory is intact and the blocked signal is still pending. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nanosleep(&ts, NULL) != 0)
		_exit(2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Resumed through its restart block: the sleep ends on time, it does
	 * not start over (the parent waits 400 ms before dumping). */
	if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > sleep_ms + 250)
		_exit(6);
	for (size_t i = 0; i < PATTERN_PAGES; i++) {
		unsigned char want[4096];

		if (i == ZERO_PAGE)
			continue;
		pattern(want, i);
		if (memcmp(p + i * 4096, want, 4096))
			_exit(3);
	}
	sigpending(&set);
	_exit(sigismember(&set, SIGUSR2) ? 0 : 4);
}

/* ret_area: the pattern area, the read-only and the written file page. */
static pid_t start_child(enum child_extra extra, unsigned sleep_ms, unsigned long ret_area[3])
{
	int pfd[2];
	unsigned char *area[3] = {NULL, NULL, NULL};
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1], extra, sleep_ms);
	}
	close(pfd[1]);
	if (read(pfd[0], area, sizeof(area)) != sizeof(area))
		pid = -1;
	close(pfd[0]);
	for (int i = 0; i < 3; i++)
		ret_area[i] = (unsigned long)area[i];
	/* Let it sleep a while in nanosleep. */
	usleep(400 * 1000);
	return pid;
}

static struct opts make_opts(pid_t pid, const char *dir, bool leave_running)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.tree = pid;
	o.images_dir = dir;
	o.leave_running = leave_running;
	o.status_fd = -1;
	return o;
}

static int tracer_pid(pid_t pid)
{
	char path[64], *text = NULL, *p;
	int tracer = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_str(path, &text, NULL) < 0)
		return -1;
	p = strstr(text, "TracerPid:");
	if (p)
		tracer = atoi(p + 10);
	free(text);
	return tracer;
}

static void *read_one(int dirfd, const char *name, enum img_type type)
{
	struct img *img = NULL;
	ProtobufCMessage *msg = NULL;

	if (img_open_read(dirfd, name, type, &img) < 0)
		return NULL;
	if (img_read_one(img, &msg) < 0)
		msg = NULL;
	img_close(img);
	return msg;
}

/* All messages of an image; count in *nr. */
static ProtobufCMessage **read_all_msgs(int dirfd, const char *name, enum img_type type, size_t *nr)
{
	ProtobufCMessage **v = NULL, *m;
	struct img *img = NULL;

	*nr = 0;
	if (img_open_read(dirfd, name, type, &img) < 0)
		return NULL;
	while (img_read_msg(img, &m) == 1) {
		v = reallocarray(v, *nr + 1, sizeof(*v));
		v[(*nr)++] = m;
	}
	img_close(img);
	return v;
}

static void free_msgs(ProtobufCMessage **v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		img_free_msg(v[i]);
	free(v);
}

static void check_core(int dirfd, pid_t pid, size_t nr_threads)
{
	char name[64];
	TaskCoreEntry *c;

	snprintf(name, sizeof(name), "core-%d.img", pid);
	c = read_one(dirfd, name, IMG_CORE);
	CHECK(c);
	if (!c)
		return;
	CHECK(c->pid == (uint32_t)pid && c->umask == 027);
	CHECK(c->n_sigactions == 62);
	for (size_t i = 0; i < c->n_sigactions; i++)
		if (c->sigactions[i]->signo == SIGUSR1) {
			CHECK(c->sigactions[i]->handler == (uint64_t)usr1);
			CHECK(c->sigactions[i]->flags & SA_RESTART);
		}
	CHECK(c->n_itimers == 3);
	for (size_t i = 0; i < c->n_itimers; i++)
		if (c->itimers[i]->which == ITIMER_VIRTUAL)
			CHECK(c->itimers[i]->interval_usec == 5000000 &&
			      c->itimers[i]->value_usec > 40000000);
	CHECK(c->n_rlimits == RLIM_NLIMITS);
	CHECK(c->creds && c->creds->uid == getuid() && c->creds->cap_eff != 0);
	CHECK(c->cwd && c->root && !strcmp(c->root, "/"));
	CHECK(c->n_threads == nr_threads);
	if (c->n_threads >= 1) {
		ThreadCoreEntry *t = c->threads[0];
		bool usr2 = false;

		CHECK(t->tid == (uint32_t)pid);
		CHECK(t->blocked & (1ull << (SIGUSR2 - 1)));
		for (size_t i = 0; i < t->n_pending; i++) {
			const siginfo_t *si = (const siginfo_t *)t->pending[i].data;

			CHECK(t->pending[i].len == 128);
			usr2 |= si->si_signo == SIGUSR2;
		}
		CHECK(usr2);
		/* nanosleep interrupted: restart code in ax, nanosleep in orig_ax */
		CHECK(t->in_syscall && t->regs->orig_ax == SYS_clock_nanosleep);
		CHECK(t->xstate.len >= 576);
		CHECK(t->rseq != NULL); /* glibc registers rseq */
		CHECK(t->has_clear_child_tid && t->clear_child_tid != 0);
		CHECK(t->sigaltstack && (t->sigaltstack->flags & SS_DISABLE));
	}
	img_free_msg(&c->base);
}

static void check_mm_and_pages(int dirfd, pid_t pid, const unsigned long areas[3])
{
	unsigned long area = areas[0], ro = areas[1], rw = areas[2];
	bool ro_vma = false, rw_vma = false, rw_saved = false;
	char name[64];
	MmEntry *mm;
	ProtobufCMessage **pm;
	size_t nr, page_idx = 0;
	bool found_area = false, vdso = false;
	struct img *pages = NULL;
	uint64_t covered = 0;

	snprintf(name, sizeof(name), "mm-%d.img", pid);
	mm = read_one(dirfd, name, IMG_MM);
	CHECK(mm);
	if (!mm)
		return;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		VmaEntry *v = mm->vmas[i];

		if (v->start <= area && area < v->end) {
			found_area = true;
			CHECK(v->kind == VMA_KIND__VMA_ANON);
			CHECK(v->prot == (PROT_READ | PROT_WRITE));
			CHECK(v->flags == (MAP_PRIVATE | MAP_ANONYMOUS));
		}
		if (v->kind == VMA_KIND__VMA_VDSO)
			vdso = true;
		if (v->kind == VMA_KIND__VMA_FILE_PRIVATE)
			CHECK(v->path && v->path[0] == '/' && v->has_ino);
		if (v->start == ro || v->start == rw) {
			CHECK(v->kind == VMA_KIND__VMA_FILE_PRIVATE && v->has_pgoff &&
			      v->pgoff == 0);
			CHECK(v->path && !strcmp(v->path, "/etc/passwd"));
			ro_vma |= v->start == ro;
			rw_vma |= v->start == rw;
		}
	}
	CHECK(found_area && vdso && ro_vma && rw_vma);
	CHECK(mm->brk >= mm->start_brk && mm->exe_path && mm->n_auxv >= 2);
	img_free_msg(&mm->base);

	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	pm = read_all_msgs(dirfd, name, IMG_PAGEMAP, &nr);
	CHECK(pm && nr >= 1);
	if (!pm)
		return;
	snprintf(name, sizeof(name), "pages-%d.img", pid);
	CHECK(img_open_read(dirfd, name, IMG_PAGES, &pages) == 0);
	CHECK(((PagemapHead *)pm[0])->nr_entries == nr - 1);
	for (size_t i = 1; i < nr && pages; i++) {
		PagemapEntry *e = (PagemapEntry *)pm[i];

		CHECK(e->flags & PAGEMAP_FLAG__PE_PAGES);
		for (uint64_t p = 0; p < e->nr_pages; p++, page_idx++) {
			uint64_t addr = e->vaddr + p * 4096;
			unsigned char got[4096], want[4096];

			/* A page only read stays in the file. */
			CHECK(addr != ro);
			if (addr == rw) {
				int fd = open("/etc/passwd", O_RDONLY);

				memset(want, 0, sizeof(want));
				CHECK(read(fd, want, sizeof(want)) > 0);
				close(fd);
				want[0] ^= 0x20;
				CHECK(!(e->flags & PAGEMAP_FLAG__PE_LAZY));
				CHECK(pread_all(img_fd(pages), got, 4096,
						(off_t)img_pages_offset(page_idx)) == 0);
				CHECK(!memcmp(got, want, 4096));
				rw_saved = true;
			}
			if (addr < area || addr >= area + PATTERN_PAGES * 4096)
				continue;
			CHECK(e->flags & PAGEMAP_FLAG__PE_LAZY);
			CHECK((addr - area) / 4096 != ZERO_PAGE);
			pattern(want, (addr - area) / 4096);
			CHECK(pread_all(img_fd(pages), got, 4096,
					(off_t)img_pages_offset(page_idx)) == 0);
			CHECK(!memcmp(got, want, 4096));
			covered++;
		}
	}
	CHECK(page_idx == ((PagemapHead *)pm[0])->nr_file_pages);
	/* every pattern page but the zero one, and nothing more of it */
	CHECK(covered == PATTERN_PAGES - 1);
	CHECK(rw_saved);
	img_close(pages);
	free_msgs(pm, nr);
}

static void check_files(int dirfd, pid_t pid)
{
	ProtobufCMessage **files, **fds;
	size_t nf, nd;
	char name[64];
	uint32_t id7 = 0, id8 = 0, id9 = 0;

	snprintf(name, sizeof(name), "fds-%d.img", pid);
	fds = read_all_msgs(dirfd, name, IMG_FDS, &nd);
	files = read_all_msgs(dirfd, "files.img", IMG_FILES, &nf);
	CHECK(fds && files);
	CHECK(nd == 6); /* 0 1 2 7 8 9 */
	for (size_t i = 0; i < nd; i++) {
		FdEntry *f = (FdEntry *)fds[i];

		if (f->fd == 7)
			id7 = f->file_id;
		if (f->fd == 8)
			id8 = f->file_id;
		if (f->fd == 9) {
			id9 = f->file_id;
			CHECK(f->cloexec);
		}
	}
	CHECK(id7 && id7 == id8 && id9 && id9 != id7);
	for (size_t i = 1; i < nf; i++) {
		FileEntry *f = (FileEntry *)files[i];

		if (f->id == id7) {
			CHECK(f->type == FILE_TYPE__FT_REG && f->reg);
			CHECK(!strcmp(f->reg->path, "/etc/passwd") && f->reg->pos == 10);
			CHECK((f->reg->flags & O_ACCMODE) == O_RDONLY);
		}
		if (f->id == id9)
			CHECK(f->reg && f->reg->pos == 0);
		if (f->reg && !strcmp(f->reg->path, "/dev/null"))
			CHECK(f->type == FILE_TYPE__FT_CHR && f->reg->has_rdev);
	}
	free_msgs(fds, nd);
	free_msgs(files, nf);
}

static bool exists(int dirfd, const char *name)
{
	return faccessat(dirfd, name, F_OK, 0) == 0;
}

/* Dump with -R: images complete and right; the child runs on untraced. */
static void test_leave_running(const char *dir, int dirfd, enum child_extra extra)
{
	unsigned long area[3];
	pid_t pid = start_child(extra, 1500, area);
	struct opts o = make_opts(pid, dir, true);
	InventoryEntry *inv;
	ProtobufCMessage **ps;
	size_t nps;
	int status;

	CHECK(pid > 0);
	if (extra == EXTRA_THREAD) {
		/* A thread's id is refused: the tree is made of processes. */
		char path[64];
		struct dirent *de;
		DIR *d;
		pid_t tid = 0;

		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		while (d && (de = readdir(d)))
			if (atoi(de->d_name) > 0 && atoi(de->d_name) != pid)
				tid = atoi(de->d_name);
		if (d)
			closedir(d);
		CHECK(tid > 0);
		o.tree = tid;
		CHECK(dump_tree(&o) == -EINVAL);
		CHECK(tracer_pid(pid) == 0 && tracer_pid(tid) == 0);
		o.tree = pid;
	}
	CHECK(dump_tree(&o) == 0);
	CHECK(tracer_pid(pid) == 0);

	inv = read_one(dirfd, "inventory.img", IMG_INVENTORY);
	CHECK(inv && inv->root_pid == (uint32_t)pid && inv->page_size == 4096);
	CHECK(inv && strlen(inv->image_set_id) == 32 && inv->format_version == IMG_FORMAT_VERSION);
	if (inv)
		img_free_msg(&inv->base);
	ps = read_all_msgs(dirfd, "pstree.img", IMG_PSTREE, &nps);
	CHECK(nps == (extra == EXTRA_CHILD ? 2u : 1u));
	if (nps >= 1) {
		PstreeEntry *e = (PstreeEntry *)ps[0];

		CHECK(e->pid == (uint32_t)pid && e->ppid == 0);
		CHECK(e->n_threads == (extra == EXTRA_THREAD ? 2u : 1u));
		CHECK(e->threads[0] == (uint32_t)pid);
	}
	if (nps == 2) {
		PstreeEntry *e = (PstreeEntry *)ps[1];

		CHECK(e->ppid == (uint32_t)pid);
		CHECK(tracer_pid(e->pid) == 0);
		kill(e->pid, SIGKILL);
	}
	free_msgs(ps, nps);
	check_core(dirfd, pid, extra == EXTRA_THREAD ? 2 : 1);
	check_mm_and_pages(dirfd, pid, area);
	check_files(dirfd, pid);

	/* It finishes its sleep on time, memory and signals intact. */
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "child status %#x\n", status);
}

/* Without -R the tree is killed once the images are complete. */
static void test_kill(const char *dir, int dirfd, enum child_extra extra)
{
	unsigned long area[3];
	pid_t pid = start_child(extra, 5000, area);
	struct opts o = make_opts(pid, dir, false);
	int status;

	CHECK(dump_tree(&o) == 0);
	CHECK(exists(dirfd, "inventory.img"));
	/* We are its parent and its tracer: dump already collected its exit. */
	CHECK(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD);
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

/* An unsupported fd: the dump fails, no inventory, the child runs on. */
static void test_refused(const char *dir, int dirfd)
{
	unsigned long area[3];
	pid_t pid = start_child(EXTRA_EVENTFD, 1000, area);
	struct opts o = make_opts(pid, dir, false);
	int status;

	CHECK(dump_tree(&o) == -EOPNOTSUPP);
	CHECK(!exists(dirfd, "inventory.img"));
	CHECK(tracer_pid(pid) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pid = start_child(EXTRA_SECCOMP, 1000, area);
	o = make_opts(pid, dir, false);
	CHECK(dump_tree(&o) == -EOPNOTSUPP);
	CHECK(!exists(dirfd, "inventory.img"));
	CHECK(tracer_pid(pid) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	o = make_opts(4194304 + 1, dir, false); /* above pid_max */
	CHECK(dump_tree(&o) == -ESRCH);
	o = make_opts(getpid(), "/nonexistent/dir", false);
	CHECK(dump_tree(&o) == -ENOENT);
}

int main(void)
{
	char dir[] = "/tmp/relive-test-dump-XXXXXX";
	int dirfd;

	log_init(LOG_WARN, NULL);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	test_leave_running(dir, dirfd, EXTRA_NONE);
	test_leave_running(dir, dirfd, EXTRA_THREAD);
	test_leave_running(dir, dirfd, EXTRA_CHILD);
	test_kill(dir, dirfd, EXTRA_NONE);
	test_kill(dir, dirfd, EXTRA_THREAD);
	test_refused(dir, dirfd);
	close(dirfd);
	/* Leave no images behind. */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
