// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lazy-pages daemon against live processes, without restore: each
 * task child maps a region, writes its own pagemap/pages images (its pid
 * is the image id), registers a userfaultfd itself and hands it over with
 * uffd_send_to_daemon(); then it reads its memory and checks every page.
 * With --bench: fault latency and background fill throughput against
 * memcpy into fresh pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "img.h"
#include "inject.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "log.h"
#include "pagemap.pb-c.h"
#include "uffd-compat.h"
#include "uffd.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PG     4096ul
#define SET_ID "00112233445566778899aabbccddeeff"

/* Exit codes of a task child. */
enum { T_OK = 0, T_SETUP = 2, T_BADPAGE = 3, T_FORKCHILD = 4 };

struct layout_entry {
	unsigned long first, nr;
	unsigned flags;
};

struct env {
	char dir[64];
	char sock[128];
	unsigned long addr; /* where the region lives in every task */
	unsigned long nr_pages;
	struct layout_entry lay[8];
	int nr_lay;
	pid_t daemon;
	int daemon_done_fd; /* readable when the daemon exits (pidfd) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Content of image page p: never zero, different per page and word. */
static void fill_page(uint64_t *w, unsigned long p)
{
	for (unsigned i = 0; i < PG / 8; i++)
		w[i] = (p + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)i << 1) ^ 1;
}

/* 1: image data, 0: reads zero (hole or data-less entry). */
static int page_has_data(const struct env *e, unsigned long p)
{
	for (int i = 0; i < e->nr_lay; i++)
		if (p >= e->lay[i].first && p < e->lay[i].first + e->lay[i].nr)
			return !!(e->lay[i].flags & PAGEMAP_FLAG__PE_PAGES);
	return 0;
}

static int check_page(const struct env *e, const void *at, unsigned long p)
{
	static uint64_t want[PG / 8];
	static const uint64_t zero[PG / 8];

	if (!page_has_data(e, p))
		return memcmp(at, zero, PG) ? -1 : 0;
	fill_page(want, p);
	return memcmp(at, want, PG) ? -1 : 0;
}

static int write_inventory(int dirfd)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct img *img;
	int r;

	inv.format_version = 1;
	inv.root_pid = 1;
	inv.image_set_id = (char *)SET_ID;
	inv.page_size = 4096;
	r = img_open_write(dirfd, "inventory.img", IMG_INVENTORY, &img);
	if (r < 0)
		return r;
	r = img_write_msg(img, &inv.base);
	if (r == 0)
		r = img_commit(img);
	else
		img_close(img);
	return r;
}

/* pagemap-PID.img and pages-PID.img for the layout, at e->addr. */
static int write_images(const struct env *e, pid_t pid)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	struct img *pm = NULL, *pages = NULL;
	uint64_t *buf = malloc(256 * PG);
	char name[64];
	int dirfd = open(e->dir, O_RDONLY | O_DIRECTORY), r;

	if (!buf || dirfd < 0)
		return -ENOMEM;
	head.id = pid;
	head.nr_entries = e->nr_lay;
	for (int i = 0; i < e->nr_lay; i++)
		if (e->lay[i].flags & PAGEMAP_FLAG__PE_PAGES)
			head.nr_file_pages += e->lay[i].nr;
	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	r = img_open_write(dirfd, name, IMG_PAGEMAP, &pm);
	if (r == 0)
		r = img_write_msg(pm, &head.base);
	for (int i = 0; r == 0 && i < e->nr_lay; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = e->addr + e->lay[i].first * PG;
		pe.nr_pages = e->lay[i].nr;
		pe.flags = e->lay[i].flags;
		r = img_write_msg(pm, &pe.base);
	}
	if (r == 0)
		r = img_commit(pm), pm = NULL;
	snprintf(name, sizeof(name), "pages-%d.img", pid);
	if (r == 0)
		r = img_open_write(dirfd, name, IMG_PAGES, &pages);
	for (int i = 0; r == 0 && i < e->nr_lay; i++) {
		if (!(e->lay[i].flags & PAGEMAP_FLAG__PE_PAGES))
			continue;
		for (unsigned long p = 0; r == 0 && p < e->lay[i].nr; p += 256) {
			unsigned long n = e->lay[i].nr - p < 256 ? e->lay[i].nr - p : 256;

			for (unsigned long k = 0; k < n; k++)
				fill_page(buf + k * PG / 8, e->lay[i].first + p + k);
			r = img_write_pages(pages, buf, n * PG);
		}
	}
	if (r == 0)
		r = img_commit(pages), pages = NULL;
	img_close(pm);
	img_close(pages);
	free(buf);
	close(dirfd);
	return r;
}

static int daemon_ready(void *arg)
{
	int fd = *(int *)arg;
	char c = 1;

	return write(fd, &c, 1) == 1 ? 0 : -EIO;
}

static int start_daemon(struct env *e)
{
	int p[2];
	char c;

	if (pipe(p) < 0)
		return -1;
	e->daemon = fork();
	if (e->daemon == 0) {
		struct lp_config cfg = {.images_dir = e->dir,
					.work_dir = e->dir,
					.ready = daemon_ready,
					.ready_arg = &p[1],
					.close_in_watchdog = -1};

		close(p[0]);
		_exit(lazy_pages_run(&cfg) < 0 ? 1 : 0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	e->daemon_done_fd = (int)syscall(SYS_pidfd_open, e->daemon, 0);
	return 0;
}

static int wait_daemon(struct env *e)
{
	int st;

	if (waitpid(e->daemon, &st, 0) < 0)
		return -1;
	close(e->daemon_done_fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In a task child: map, image, register, hand over. */
static int setup_task(const struct env *e, uint32_t nr_tasks)
{
	struct uffdio_api api = {.api = UFFD_API, .features = LP_UFFD_REQUIRED_FEATURES};
	struct uffdio_register reg = {.range = {e->addr, e->nr_pages * PG},
				      .mode = UFFDIO_REGISTER_MODE_MISSING};
	void *m;
	int uffd, r;

	m = mmap((void *)e->addr, e->nr_pages * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != (void *)e->addr)
		return -1;
	if (write_images(e, getpid()) < 0)
		return -1;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return -1;
	r = uffd_send_to_daemon(e->sock, (uint32_t)getpid(), getpid(), nr_tasks, SET_ID, uffd);
	close(uffd);
	return r;
}

static void shuffle(unsigned long *a, unsigned long n, unsigned seed)
{
	for (unsigned long i = 0; i < n; i++)
		a[i] = i;
	for (unsigned long i = n - 1; i > 0; i--) {
		unsigned long j, t;

		seed = seed * 1103515245u + 12345u;
		j = ((unsigned long)seed << 16 ^ seed >> 8) % (i + 1);
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* Read every page in random order; pages in [z0, z1) and [z2, z3) must
 * read zero. */
static int read_all_pages4(const struct env *e, unsigned seed, unsigned long z0, unsigned long z1,
			   unsigned long z2, unsigned long z3)
{
	unsigned long *order = malloc(e->nr_pages * sizeof(*order));
	static const uint64_t zero[PG / 8];
	int bad = 0;

	shuffle(order, e->nr_pages, seed);
	for (unsigned long i = 0; i < e->nr_pages; i++) {
		unsigned long p = order[i];
		const void *at = (const void *)(e->addr + p * PG);

		if ((p >= z0 && p < z1) || (p >= z2 && p < z3))
			bad |= memcmp(at, zero, PG) != 0;
		else
			bad |= check_page(e, at, p) != 0;
		if (bad) {
			fprintf(stderr, "task %d: page %lu has the wrong contents\n", getpid(), p);
			break;
		}
	}
	free(order);
	return bad ? -1 : 0;
}

static int read_all_pages(const struct env *e, unsigned seed, unsigned long z0, unsigned long z1)
{
	return read_all_pages4(e, seed, z0, z1, 0, 0);
}

enum mode { M_READ, M_FORK, M_DROP, M_REMAP, M_HOLD, M_FORK_HOLD };

static void task_main(const struct env *e, enum mode mode, uint32_t nr_tasks, int note_fd,
		      int go_fd)
{
	char c = 0;

	if (setup_task(e, nr_tasks) < 0)
		_exit(T_SETUP);
	switch (mode) {
	case M_READ:
		_exit(read_all_pages(e, (unsigned)getpid(), 0, 0) ? T_BADPAGE : T_OK);
	case M_FORK: {
		pid_t k = fork();
		int st;

		if (k == 0)
			_exit(read_all_pages(e, 7, 0, 0) ? T_BADPAGE : T_OK);
		if (read_all_pages(e, 8, 0, 0))
			_exit(T_BADPAGE);
		if (waitpid(k, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			_exit(T_FORKCHILD);
		_exit(T_OK);
	}
	case M_DROP:
		/* Dropped before touched: must read zeros, never the image. */
		if (madvise((void *)(e->addr + 40 * PG), 60 * PG, MADV_DONTNEED))
			_exit(T_SETUP);
		if (munmap((void *)(e->addr + 1200 * PG), 50 * PG) ||
		    mmap((void *)(e->addr + 1200 * PG), 50 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			_exit(T_SETUP);
		{
			static const uint64_t zero[PG / 8];

			for (unsigned long p = 1200; p < 1250; p++)
				if (memcmp((void *)(e->addr + p * PG), zero, PG))
					_exit(T_BADPAGE);
		}
		_exit(read_all_pages4(e, 3, 40, 100, 1200, 1250) ? T_BADPAGE : T_OK);
	case M_REMAP: {
		/* Move a part away before touching: its pages follow it. */
		unsigned long from = e->addr + 1700 * PG, n = 200;
		void *to = mmap(NULL, n * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (to == MAP_FAILED ||
		    mremap((void *)from, n * PG, n * PG, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
			_exit(T_SETUP);
		for (unsigned long p = 0; p < n; p++)
			if (check_page(e, (char *)to + p * PG, 1700 + p))
				_exit(T_BADPAGE);
		/* The rest (without the moved part, now unmapped) reads as before. */
		for (unsigned long p = 0; p < 1700; p++)
			if (check_page(e, (void *)(e->addr + p * PG), p))
				_exit(T_BADPAGE);
		_exit(T_OK);
	}
	case M_HOLD:
		/* Tell the parent we run, wait for its go, then read everything. */
		if (write(note_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
			_exit(T_SETUP);
		_exit(read_all_pages(e, 5, 0, 0) ? T_BADPAGE : T_OK);
	case M_FORK_HOLD: {
		/* Both the task and its child: note, go, read; a wrong page
		 * is reported as 'B' on note_fd (the child is not the test's
		 * to wait for). */
		pid_t k = fork();
		int bad;

		if (k < 0 || write(note_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
			_exit(T_SETUP);
		bad = read_all_pages(e, k ? 5 : 6, 0, 0);
		if (bad) {
			c = 'B';
			if (write(note_fd, &c, 1) != 1)
				_exit(T_SETUP);
		}
		if (k > 0)
			waitpid(k, NULL, 0);
		_exit(bad ? T_BADPAGE : T_OK);
	}
	}
	_exit(T_SETUP);
}

static pid_t spawn_task(const struct env *e, enum mode mode, uint32_t nr_tasks, int note_fd,
			int go_fd)
{
	pid_t pid = fork();

	if (pid == 0)
		task_main(e, mode, nr_tasks, note_fd, go_fd);
	return pid;
}

static int task_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void env_init(struct env *e, unsigned long nr_pages, int small_layout)
{
	void *probe;
	int dirfd;

	memset(e, 0, sizeof(*e));
	strcpy(e->dir, "/tmp/relive-lazy-XXXXXX");
	if (!mkdtemp(e->dir))
		exit(2);
	snprintf(e->sock, sizeof(e->sock), "%s/lazy-pages.socket", e->dir);
	e->nr_pages = nr_pages;
	/* A free spot in our layout is free in each forked task too. */
	probe = mmap(NULL, (nr_pages + 512) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e->addr = ((unsigned long)probe + 256 * PG) & ~(PG - 1);
	munmap(probe, (nr_pages + 512) * PG);
	if (small_layout) {
		/* data | hole | data | zero entry | data */
		e->lay[0] =
		    (struct layout_entry){0, 1000, PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY};
		e->lay[1] = (struct layout_entry){1100, 400,
						  PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY};
		e->lay[2] = (struct layout_entry){1500, 100, PAGEMAP_FLAG__PE_LAZY};
		e->lay[3] = (struct layout_entry){1600, nr_pages - 1600,
						  PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY};
		e->nr_lay = 4;
	} else {
		e->lay[0] = (struct layout_entry){0, nr_pages,
						  PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY};
		e->nr_lay = 1;
	}
	dirfd = open(e->dir, O_RDONLY | O_DIRECTORY);
	if (dirfd < 0 || write_inventory(dirfd) < 0)
		exit(2);
	close(dirfd);
}

static void env_fini(struct env *e)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", e->dir);
}

/* Tasks reading in random order, forking, dropping and moving memory. */
static void test_serving(void)
{
	static const struct {
		const char *name;
		enum mode mode;
	} tasks[] = {
	    {"random reads", M_READ},	      {"random reads (2nd task)", M_READ},
	    {"fork, both read", M_FORK},      {"munmap/DONTNEED before touch", M_DROP},
	    {"mremap before touch", M_REMAP},
	};
	pid_t pids[ARRAY_SIZE(tasks)];
	struct env e;

	env_init(&e, 2048, 1);
	CHECK(start_daemon(&e) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(tasks); i++)
		pids[i] = spawn_task(&e, tasks[i].mode, ARRAY_SIZE(tasks), -1, -1);
	for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
		int st = task_status(pids[i]);

		if (st != T_OK) {
			fprintf(stderr, "task '%s' ended with %d\n", tasks[i].name, st);
			fails++;
		}
	}
	/* Everything was served: the daemon leaves by itself, cleanly. */
	CHECK(wait_daemon(&e) == 0);
	CHECK(access(e.sock, F_OK) < 0);
	env_fini(&e);
}

/* A task with nothing to fill (only a data-less lazy run) is let go at once. */
static void test_nothing_missing(void)
{
	struct env e;
	pid_t t;

	env_init(&e, 64, 0);
	e.lay[0].flags = PAGEMAP_FLAG__PE_LAZY;
	CHECK(start_daemon(&e) == 0);
	t = spawn_task(&e, M_READ, 1, -1, -1);
	CHECK(task_status(t) == T_OK);
	CHECK(wait_daemon(&e) == 0);
	env_fini(&e);
}

/* Wrong image set, no daemon, truncated pages: clear refusals. */
static void test_refusals(void)
{
	struct env e;
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = {.api = UFFD_API};

	CHECK(uffd >= 0 && ioctl(uffd, UFFDIO_API, &api) == 0);
	env_init(&e, 64, 0);
	/* No daemon yet. */
	CHECK(uffd_send_to_daemon(e.sock, 1, getpid(), 1, SET_ID, uffd) == -ENOENT);
	CHECK(start_daemon(&e) == 0);
	/* Another image set. */
	CHECK(uffd_send_to_daemon(e.sock, 1, getpid(), 1, "ffffffffffffffffffffffffffffffff",
				  uffd) == -EXDEV);
	/* No pagemap for that pid. */
	CHECK(uffd_send_to_daemon(e.sock, 999999, getpid(), 1, SET_ID, uffd) < 0);
	/* A truncated pages file. */
	{
		pid_t me = getpid();
		char path[160];

		CHECK(write_images(&e, me) == 0);
		snprintf(path, sizeof(path), "%s/pages-%d.img", e.dir, me);
		CHECK(truncate(path, 4096 + 10 * PG) == 0);
		CHECK(uffd_send_to_daemon(e.sock, (uint32_t)me, me, 1, SET_ID, uffd) == -EINVAL);
	}
	/* Nothing was taken: the daemon still waits; SIGTERM ends it cleanly. */
	kill(e.daemon, SIGTERM);
	CHECK(wait_daemon(&e) == 1); /* stopped by a signal: non-zero */
	close(uffd);
	env_fini(&e);
}

/*
 * The daemon stops while a task still misses pages: on SIGTERM it kills
 * the task itself; on SIGKILL its watchdog does. Either way the task dies
 * by SIGKILL, never reads a missing page as zeros, and never hangs.
 */
static void test_daemon_dies(int sig, bool with_fork)
{
	int note[2], go[2], nr = with_fork ? 2 : 1;
	struct env e;
	pid_t t;
	char c = 0;
	int st;

	env_init(&e, 64 * 1024, 0); /* 256 MiB: the fill can't finish at once */
	CHECK(start_daemon(&e) == 0);
	CHECK(pipe(note) == 0 && pipe(go) == 0);
	t = spawn_task(&e, with_fork ? M_FORK_HOLD : M_HOLD, 1, note[1], go[0]);
	close(note[1]);
	for (int i = 0; i < nr; i++)
		CHECK(read(note[0], &c, 1) == 1);
	/*
	 * A fork returns in the parent as soon as the daemon has read the
	 * event, a few instructions before the daemon hands the child's uffd
	 * to its watchdog: let it get there (Documentation/lazy-pages.md
	 * describes that window).
	 */
	if (with_fork)
		usleep(50 * 1000);
	/* Freeze the daemon mid-way, then stop it for good. */
	kill(e.daemon, SIGSTOP);
	for (int i = 0; i < nr; i++)
		CHECK(write(go[1], &c, 1) == 1);
	usleep(100 * 1000); /* the tasks now wait for a page */
	kill(e.daemon, sig);
	if (sig != SIGKILL)
		kill(e.daemon, SIGCONT);
	st = task_status(t);
	if (st != 128 + SIGKILL) {
		fprintf(stderr, "daemon killed by signal %d: task ended with %d, want SIGKILL\n",
			sig, st);
		fails++;
	}
	/* Every task, the forked child included, is gone without having
	 * read a wrong page: EOF on note, and no 'B'. */
	{
		struct pollfd p = {.fd = note[0], .events = POLLIN};
		ssize_t n;

		while (poll(&p, 1, 5000) == 1 && (n = read(note[0], &c, 1)) == 1) {
			if (c == 'B') {
				fprintf(stderr,
					"daemon killed by signal %d: a %s read a wrong page\n", sig,
					with_fork ? "task or its child" : "task");
				fails++;
			}
		}
		CHECK(read(note[0], &c, 1) == 0);
	}
	st = wait_daemon(&e);
	CHECK(sig == SIGKILL ? st == 128 + SIGKILL : st == 1);
	close(note[0]);
	close(note[1]);
	close(go[0]);
	close(go[1]);
	env_fini(&e);
}

static int find_vdso(pid_t pid, unsigned long *s, unsigned long *e)
{
	char path[64], line[512];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", s, e) == 2)
			r = 0;
	fclose(f);
	return r;
}

static bool task_has_uffd(pid_t pid)
{
	char path[64], link[64];
	bool found = false;

	for (int fd = 0; fd < 256 && !found; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strstr(link, "userfaultfd") != NULL;
		}
	}
	return found;
}

/*
 * The restore side: the userfaultfd is made inside a ptrace-stopped task by
 * remote calls (uffd_create_in_task), taken out, handed to the daemon, and
 * the task, released, reads its memory from the daemon.
 */
static void test_remote_create(void)
{
	int ready[2], go[2];
	struct env e;
	pid_t t;
	char c = 0;

	env_init(&e, 2048, 1);
	CHECK(start_daemon(&e) == 0);
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	t = fork();
	if (t == 0) {
		void *m = mmap((void *)e.addr, e.nr_pages * PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (m != (void *)e.addr || write_images(&e, getpid()) < 0)
			_exit(T_SETUP);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(T_SETUP);
		_exit(read_all_pages(&e, 11, 0, 0) ? T_BADPAGE : T_OK);
	}
	CHECK(read(ready[0], &c, 1) == 1);
	{
		VmaEntry vma = VMA_ENTRY__INIT, *vmas[1] = {&vma};
		MmEntry mm = MM_ENTRY__INIT;
		unsigned long vs = 0, ve = 0, ip = 0;
		struct remote rt;
		int status, uffd = -1;

		vma.start = e.addr;
		vma.end = e.addr + e.nr_pages * PG;
		vma.prot = PROT_READ | PROT_WRITE;
		vma.flags = MAP_PRIVATE | MAP_ANONYMOUS;
		vma.kind = VMA_KIND__VMA_ANON;
		mm.n_vmas = 1;
		mm.vmas = vmas;
		CHECK(ptrace(PTRACE_SEIZE, t, 0, PTRACE_O_TRACESYSGOOD) == 0);
		CHECK(ptrace(PTRACE_INTERRUPT, t, 0, 0) == 0);
		CHECK(waitpid(t, &status, __WALL) == t);
		CHECK(find_vdso(t, &vs, &ve) == 0);
		CHECK(remote_find_syscall_insn(t, vs, ve, &ip) == 0);
		CHECK(remote_init(&rt, t, ip) == 0);
		CHECK(remote_map_scratch(&rt, 4096) == 0);
		CHECK(uffd_create_in_task(&rt, &mm, NULL, &uffd) == 0);
		CHECK(uffd >= 0);
		/* The task keeps no copy: closing ours must be the end of it. */
		CHECK(!task_has_uffd(t));
		CHECK(uffd_send_to_daemon(e.sock, (uint32_t)t, t, 1, SET_ID, uffd) == 0);
		close(uffd);
		CHECK(remote_unmap_scratch(&rt) == 0);
		CHECK(remote_fini(&rt) == 0);
		CHECK(ptrace(PTRACE_DETACH, t, 0, 0) == 0);
	}
	CHECK(write(go[1], &c, 1) == 1);
	CHECK(task_status(t) == T_OK);
	CHECK(wait_daemon(&e) == 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	env_fini(&e);
}

/* --bench: what a fault and the background fill cost, against memcpy. */
static void bench(void)
{
	const unsigned long n = 64 * 1024; /* 256 MiB */
	struct env e;
	double t0, t_memcpy, t_present, t_fill;
	int p[2], go[2];
	pid_t t;
	char c;

	env_init(&e, n, 0);
	/* Baseline: memcpy from the pages file (in the page cache) into
	 * freshly allocated pages, as UFFDIO_COPY must allocate too. */
	{
		char path[160];
		int fd;
		void *src, *dst;

		/* Images written by a child with a known pid: use our own. */
		CHECK(write_images(&e, getpid()) == 0);
		snprintf(path, sizeof(path), "%s/pages-%d.img", e.dir, getpid());
		fd = open(path, O_RDONLY);
		src = mmap(NULL, n * PG + 4096, PROT_READ, MAP_SHARED, fd, 0);
		for (unsigned long i = 0; i < n * PG + 4096; i += PG)
			(void)*(volatile char *)((char *)src + i);
		dst =
		    mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t0 = now_s();
		memcpy(dst, (char *)src + 4096, n * PG);
		t_memcpy = now_s() - t0;
		/* Again into the same, now present, pages: the copy alone. */
		t0 = now_s();
		memcpy(dst, (char *)src + 4096, n * PG);
		t_present = now_s() - t0;
		munmap(dst, n * PG);
		munmap(src, n * PG + 4096);
		close(fd);
	}
	/* Background fill: a task that touches nothing; the daemon exits
	 * once all is in. */
	CHECK(start_daemon(&e) == 0);
	CHECK(pipe(p) == 0 && pipe(go) == 0);
	t0 = now_s();
	t = spawn_task(&e, M_HOLD, 1, p[1], go[0]);
	CHECK(read(p[0], &c, 1) == 1);
	t0 = now_s(); /* handed over */
	CHECK(wait_daemon(&e) == 0);
	t_fill = now_s() - t0;
	CHECK(write(go[1], &c, 1) == 1);
	CHECK(task_status(t) == T_OK);
	printf("256 MiB: memcpy into fresh pages %.1f ms (%.2f GB/s); background fill %.1f ms "
	       "(%.2f GB/s) = %.0f%% of memcpy; memcpy into present pages %.1f ms (%.2f GB/s)\n",
	       t_memcpy * 1e3, n * PG / t_memcpy / 1e9, t_fill * 1e3, n * PG / t_fill / 1e9,
	       100 * t_memcpy / t_fill, t_present * 1e3, n * PG / t_present / 1e9);
	fflush(stdout);
	env_fini(&e);
}

/* --bench: fault latency, one page at a time, pages far apart. */
static void bench_faults(void)
{
	const unsigned long n = 64 * 1024, stride = 64;
	struct env e;
	int p[2];
	pid_t t;
	char c;

	env_init(&e, n, 0);
	CHECK(start_daemon(&e) == 0);
	CHECK(pipe(p) == 0);
	t = fork();
	if (t == 0) {
		unsigned nr = n / stride, k = 0;
		double *lat = malloc(nr * sizeof(*lat));

		if (setup_task(&e, 1) < 0)
			_exit(T_SETUP);
		for (unsigned long pg = 0; pg < n; pg += stride) {
			double a = now_s();

			(void)*(volatile char *)(e.addr + pg * PG);
			lat[k++] = now_s() - a;
		}
		/* sort (insertion is fine for 1024) */
		for (unsigned i = 1; i < k; i++)
			for (unsigned j = i; j > 0 && lat[j - 1] > lat[j]; j--) {
				double x = lat[j];

				lat[j] = lat[j - 1];
				lat[j - 1] = x;
			}
		printf("fault latency (touch to resume, %u touches, background fill running): "
		       "median %.1f us, p90 %.1f us, p99 %.1f us\n",
		       k, lat[k / 2] * 1e6, lat[k * 9 / 10] * 1e6, lat[k * 99 / 100] * 1e6);
		fflush(stdout);
		(void)c;
		_exit(T_OK);
	}
	CHECK(task_status(t) == T_OK);
	CHECK(wait_daemon(&e) == 0);
	close(p[0]);
	close(p[1]);
	env_fini(&e);
}

int main(int argc, char **argv)
{
	log_init(getenv("LAZY_TEST_VERBOSE") ? LOG_DEBUG : LOG_WARN, NULL);
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		bench();
		bench_faults();
		return fails ? 1 : 0;
	}
	test_serving();
	test_remote_create();
	test_nothing_missing();
	test_refusals();
	test_daemon_dies(SIGTERM, false);
	test_daemon_dies(SIGKILL, false);
	test_daemon_dies(SIGTERM, true);
	test_daemon_dies(SIGKILL, true);
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("ok\n");
	return 0;
}
