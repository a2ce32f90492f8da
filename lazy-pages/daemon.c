// SPDX-License-Identifier: GPL-2.0-or-later
/* The lazy-pages daemon: socket, epoll loop, hand-over, shutdown. */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "img.h"
#include "inventory.pb-c.h"
#include "kill-tree.h"
#include "lazy-proto.h"
#include "lazy-task.h"
#include "log.h"
#include "page-source.h"
#include "proc-parse.h"
#include "uffd-compat.h"
#include "util.h"
#include "watchdog.h"

/* Pages per background round (1 MiB): big copies, yet a fault arriving
 * meanwhile waits for one round at most. */
#define BG_BATCH_PAGES 256
/* With tasks still to come but nothing to serve, give up after this. */
#define WAIT_MORE_TASKS_MS 60000
/* How long to wait for killed tasks to be gone before closing uffds. */
#define KILL_WAIT_MS 5000

enum ep_kind { EP_LISTEN, EP_SIGNAL, EP_CONN, EP_UFFD, EP_PIDFD };

struct lp_ep {
	enum ep_kind kind;
	void *owner;
};

struct lp_served {
	struct lp_task *t;
	struct lp_ep uffd_ep, pid_ep;
	bool dead; /* freed after the current batch of events */
	struct lp_served *next;
};

struct lp_conn {
	int fd;
	struct lp_ep ep;
	bool dead;
	struct lp_conn *next;
};

/* A task handed over by a restore from a page server's images: is it released yet? */
struct lp_watch {
	pid_t pid;
	int pidfd;
	bool released;
};

struct lp_ctx {
	const struct lp_config *cfg;
	bool remote; /* pages from a page server (cfg->address) */
	bool running_sent;
	struct lp_watch *watch;
	size_t nr_watch;
	int dirfd;
	char image_set_id[LP_IMAGE_SET_ID_LEN + 1];
	struct page_source *src;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd, epfd, sigfd;
	struct lp_ep listen_ep, sig_ep;
	int wd_sock;
	pid_t wd_pid;
	struct lp_served *served, *bg_next;
	struct lp_conn *conns;
	uint64_t next_id;
	uint32_t expected, handed_over; /* tasks announced / received */
	struct lp_stats stats;
	struct lp_env env;
	struct timespec t0;
	const char *stop_reason;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ep_add(struct lp_ctx *c, int fd, struct lp_ep *ep)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ep};

	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return pr_err_ret(negerrno(), "epoll_ctl");
	return 0;
}

/* Read inventory.img: the image set id every hello must match. */
static int read_inventory(struct lp_ctx *c)
{
	_cleanup_img_ struct img *img = NULL;
	_cleanup_msg_ ProtobufCMessage *m = NULL;
	InventoryEntry *inv;
	int r;

	r = img_open_read(c->dirfd, "inventory.img", IMG_INVENTORY, &img);
	if (r < 0)
		return r;
	r = img_read_one(img, &m);
	if (r < 0)
		return r;
	inv = (InventoryEntry *)m;
	if (!inv->image_set_id || !lp_image_set_id_valid(inv->image_set_id))
		return pr_err_ret(-EINVAL, "%s/inventory.img: malformed image set id",
				  c->cfg->images_dir);
	if (inv->has_lazy_remote && inv->lazy_remote && !c->remote)
		return pr_err_ret(-EINVAL,
				  "%s: the lazy pages of this image set are on a page server: "
				  "run lazy-pages --page-server --address A --port P",
				  c->cfg->images_dir);
	if (c->remote && !(inv->has_lazy_remote && inv->lazy_remote))
		return pr_err_ret(-EINVAL,
				  "%s: this image set holds its pages locally (a dump without "
				  "--lazy-pages --port): run lazy-pages without --page-server",
				  c->cfg->images_dir);
	snprintf(c->image_set_id, sizeof(c->image_set_id), "%s", inv->image_set_id);
	return 0;
}

static int start_listening(struct lp_ctx *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n, fd;

	n = snprintf(c->socket_path, sizeof(c->socket_path), "%s/%s", c->cfg->work_dir,
		     LP_SOCKET_NAME);
	if (n < 0 || (size_t)n >= sizeof(c->socket_path))
		return pr_err_ret(-ENAMETOOLONG, "socket path %s/%s is longer than %zu bytes",
				  c->cfg->work_dir, LP_SOCKET_NAME, sizeof(c->socket_path) - 1);
	memcpy(sa.sun_path, c->socket_path, (size_t)n + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pr_err_ret(negerrno(), "socket");
	/* A socket file left by a daemon that died: remove it, unless a live
	 * daemon still answers on it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		c->socket_path[0] = '\0';
		return pr_err_ret(-EADDRINUSE, "another lazy-pages daemon listens on %s/%s",
				  c->cfg->work_dir, LP_SOCKET_NAME);
	}
	close(fd);
	unlink(c->socket_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return pr_err_ret(negerrno(), "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int r = negerrno();

		close(fd);
		c->socket_path[0] = '\0';
		return pr_err_ret(r, "cannot listen on %s", sa.sun_path);
	}
	c->listen_fd = fd;
	c->listen_ep = (struct lp_ep){EP_LISTEN, NULL};
	return ep_add(c, fd, &c->listen_ep);
}

static int setup_signals(struct lp_ctx *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return pr_err_ret(negerrno(), "sigprocmask");
	c->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (c->sigfd < 0)
		return pr_err_ret(negerrno(), "signalfd");
	c->sig_ep = (struct lp_ep){EP_SIGNAL, NULL};
	return ep_add(c, c->sigfd, &c->sig_ep);
}

static int adopt(void *daemon, struct lp_task *t)
{
	struct lp_ctx *c = daemon;
	struct lp_served *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	if (!t->id)
		t->id = ++c->next_id;
	s->t = t;
	s->uffd_ep = (struct lp_ep){EP_UFFD, s};
	s->pid_ep = (struct lp_ep){EP_PIDFD, s};
	r = ep_add(c, t->uffd, &s->uffd_ep);
	if (r == 0 && t->pidfd >= 0)
		r = ep_add(c, t->pidfd, &s->pid_ep);
	/* A fork child: the watchdog holds its uffd too (the hand-over
	 * did it for the others). */
	if (r == 0 && t->fork_child)
		r = lp_watchdog_add(c->wd_sock, t->id, t->uffd, -1);
	if (r < 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, t->uffd, NULL);
		if (t->pidfd >= 0)
			epoll_ctl(c->epfd, EPOLL_CTL_DEL, t->pidfd, NULL);
		free(s);
		return r;
	}
	s->next = c->served;
	c->served = s;
	c->stats.tasks++;
	return 0;
}

/* Forget a task whose pages are all in place or whose mm is gone. */
static void finish_task(struct lp_ctx *c, struct lp_served *s, const char *why)
{
	if (s->dead)
		return;
	pr_info("task %d (image %u%s): %s\n", s->t->pid, s->t->image_pid,
		s->t->fork_child ? ", forked" : "", why);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->t->uffd, NULL);
	if (s->t->pidfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, s->t->pidfd, NULL);
	lp_watchdog_drop(c->wd_sock, s->t->id);
	close(s->t->uffd);
	s->t->uffd = -1;
	s->dead = true;
}

/*
 * Kill a task we can no longer serve; never leave it waiting on a page.
 * With tree set (the daemon stops), its descendants go too: children it
 * forked are served by pid-less uffds, and only found that way.
 */
static void fail_task(struct lp_ctx *c, struct lp_served *s, const char *why, bool tree)
{
	struct lp_task *t = s->t;

	if (s->dead)
		return;
	if (t->pidfd >= 0) {
		pr_err("killing task %d (image %u): %s; %llu pages were still missing\n", t->pid,
		       t->image_pid, why, (unsigned long long)t->missing.nr_pages);
		if (tree)
			lp_kill_tree(t->pid, t->pidfd, why);
		else if (syscall(SYS_pidfd_send_signal, t->pidfd, SIGKILL, NULL, 0) < 0 &&
			 errno != ESRCH)
			pr_err("cannot kill task %d: %s\n", t->pid, strerror(errno));
	} else {
		/* A fork child: its pid is not known to us, only its uffd.
		 * Poisoned pages raise SIGBUS when touched. */
		unsigned long long nr = t->missing.nr_pages;
		int r = lp_task_poison(t);

		if (r < 0)
			pr_err("a child forked by image task %u can't be failed (%s): "
			       "its %llu missing pages will read as zeros\n",
			       t->image_pid, strerror(-r), nr);
		else
			pr_err("a child forked by image task %u: %s; "
			       "its %llu missing pages now raise SIGBUS\n",
			       t->image_pid, why, nr);
	}
}

static void wait_killed(struct lp_ctx *c)
{
	uint64_t deadline = now_ms() + KILL_WAIT_MS;

	for (struct lp_served *s = c->served; s; s = s->next) {
		struct pollfd p = {.fd = s->t->pidfd, .events = POLLIN};
		uint64_t now = now_ms();

		if (s->dead || s->t->pidfd < 0)
			continue;
		poll(&p, 1, now < deadline ? (int)(deadline - now) : 0);
	}
}

/* Stop early: every task still served is killed (or poisoned), then let go. */
static void abort_all(struct lp_ctx *c, const char *why)
{
	/* Pid-less fork children first: poisoned before their parent dies
	 * and they are reparented out of reach. */
	for (struct lp_served *s = c->served; s; s = s->next)
		if (s->t->pidfd < 0)
			fail_task(c, s, why, true);
	for (struct lp_served *s = c->served; s; s = s->next)
		if (s->t->pidfd >= 0)
			fail_task(c, s, why, true);
	wait_killed(c);
	for (struct lp_served *s = c->served; s; s = s->next)
		finish_task(c, s, "stopped");
}

static void reap(struct lp_ctx *c)
{
	struct lp_served **pp = &c->served;

	/* A task may have had nothing to fill from the start. */
	for (struct lp_served *s = c->served; s; s = s->next)
		if (!s->dead && lazy_ranges_empty(&s->t->missing) && !s->t->nr_retry)
			finish_task(c, s, "all pages in place");

	while (*pp) {
		struct lp_served *s = *pp;

		if (!s->dead) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		if (c->bg_next == s)
			c->bg_next = NULL;
		lp_task_free(s->t);
		free(s);
	}
	for (struct lp_conn **cp = &c->conns; *cp;) {
		struct lp_conn *n = *cp;

		if (!n->dead) {
			cp = &n->next;
			continue;
		}
		*cp = n->next;
		close(n->fd);
		free(n);
	}
}

/* After work on a task: done, gone, or failed? */
static void task_result(struct lp_ctx *c, struct lp_served *s, long r)
{
	if (s->dead)
		return;
	if (r == -ESRCH) {
		finish_task(c, s, "exited");
		return;
	}
	if (r < 0) {
		fail_task(c, s, "its pages can't be served (see above)", false);
		if (s->t->pidfd >= 0) {
			struct pollfd p = {.fd = s->t->pidfd, .events = POLLIN};

			poll(&p, 1, KILL_WAIT_MS);
		}
		finish_task(c, s, "failed");
		return;
	}
	if (lazy_ranges_empty(&s->t->missing) && !s->t->nr_retry)
		finish_task(c, s, "all pages in place");
}

static void send_reply(int fd, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void send_reply(int fd, int status, const char *fmt, ...)
{
	struct lp_reply rp = {.status = status};
	uint8_t buf[LP_REPLY_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp.message, sizeof(rp.message), fmt, ap);
	va_end(ap);
	if (lp_reply_encode(&rp, buf, sizeof(buf)) < 0)
		return;
	if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(buf))
		pr_warn("cannot answer a restore: %s\n", strerror(errno));
}

static bool fd_is(int fd, const char *what)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, what);
}

static pid_t pidfd_to_pid(int pidfd)
{
	_cleanup_free_ char *s = NULL;
	char path[64];
	const char *p;
	int pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (read_file_str(path, &s, NULL) < 0)
		return 0;
	p = strstr(s, "\nPid:");
	if (!p || sscanf(p + 5, "%d", &pid) != 1 || pid <= 0)
		return 0;
	return pid;
}

/* Remember a task to tell when the restore has released it. */
static void watch_task(struct lp_ctx *c, pid_t pid, int pidfd)
{
	struct lp_watch *n = reallocarray(c->watch, c->nr_watch + 1, sizeof(*n));
	int fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);

	if (!n || fd < 0) {
		/* Without it the tree is never reported running: the source
		 * stays resumable, and the end says so. */
		pr_warn("cannot watch task %d: %s\n", pid, strerror(errno));
		if (fd >= 0)
			close(fd);
		if (n)
			c->watch = n;
		return;
	}
	c->watch = n;
	c->watch[c->nr_watch++] = (struct lp_watch){pid, fd, false};
}

static pid_t tracer_of(pid_t pid)
{
	_cleanup_free_ char *s = NULL;
	struct proc_status st;
	char path[64];
	size_t len;
	pid_t tracer;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file_str(path, &s, &len) < 0 || proc_parse_status(s, len, &st) < 0)
		return -1;
	tracer = st.tracer_pid;
	proc_status_free(&st);
	return tracer;
}

/*
 * Has the restore released every task it handed over (no tracer any
 * more)? 1 yes, 0 not yet, -ECHILD if one died before it was released
 * (the restore failed: the source must resume, not be killed).
 */
static int tree_released(struct lp_ctx *c)
{
	if (!c->handed_over || c->handed_over < c->expected || c->nr_watch < c->handed_over)
		return 0;
	for (size_t i = 0; i < c->nr_watch; i++) {
		struct lp_watch *w = &c->watch[i];
		struct pollfd p = {.fd = w->pidfd, .events = POLLIN};

		if (w->released)
			continue;
		if (poll(&p, 1, 0) == 1) {
			pr_err("task %d died before the restore released it\n", w->pid);
			return -ECHILD;
		}
		if (tracer_of(w->pid) != 0)
			return 0;
		w->released = true;
	}
	return 1;
}

/* Page server: once the tree runs, the source must never resume. */
static void report_running(struct lp_ctx *c)
{
	if (!c->remote || c->running_sent || tree_released(c) != 1)
		return;
	if (page_source_tcp_running(c->src) == 0) {
		pr_info("the restored tree runs: told the page server\n");
		c->running_sent = true;
	}
}

/*
 * Page server, every page in place: wait for the restore to release the
 * tree, then send the final acknowledgement so the source exits. If the
 * tree died before it ran, the source is left to resume.
 */
static int finish_remote(struct lp_ctx *c)
{
	uint64_t deadline = now_ms() + 2 * WAIT_MORE_TASKS_MS;
	int r = 0;

	while (!c->running_sent) {
		r = tree_released(c);
		if (r < 0)
			return pr_err_ret(r, "the restore failed after it handed its tasks over: "
					     "the source keeps its tree and resumes it");
		if (r == 1) {
			report_running(c);
			if (!c->running_sent)
				return pr_err_ret(-EIO, "cannot tell the page server");
			break;
		}
		if (now_ms() > deadline)
			return pr_err_ret(-ETIMEDOUT, "the restore never released its tasks");
		usleep(2000);
	}
	r = page_source_tcp_done(c->src);
	if (r < 0)
		return r;
	pr_info("final acknowledgement sent: the source may exit\n");
	return 0;
}

static int add_missing(void *arg, uint64_t vaddr, uint64_t nr_pages)
{
	struct lp_task *t = arg;

	return lazy_ranges_insert(&t->missing, vaddr, vaddr + nr_pages * 4096, vaddr);
}

/* One hello on a connection: take the task or say why not. */
static void handle_hello(struct lp_ctx *c, struct lp_conn *conn)
{
	uint8_t buf[LP_HELLO_SIZE + 1];
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	_cleanup_close_ int uffd = -1, pidfd = -1;
	struct lp_task *t;
	struct lp_hello h;
	const char *why = NULL;
	struct cmsghdr *cm;
	ssize_t n;
	pid_t pid;
	int r;

	n = recvmsg(conn->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	conn->dead = true; /* one hello per connection */
	/* Take every fd that came, whatever else is wrong. */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (uffd < 0)
				uffd = fd;
			else if (pidfd < 0)
				pidfd = fd;
			else
				close(fd);
		}
	}
	if (n <= 0)
		return;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		send_reply(conn->fd, -EPROTO, "hello too long");
		return;
	}
	r = lp_hello_decode(buf, (size_t)n, &h, &why);
	if (r < 0) {
		pr_warn("rejected a hand-over: %s\n", why);
		send_reply(conn->fd, r, "%s", why);
		return;
	}
	if (strcasecmp(h.image_set_id, c->image_set_id)) {
		pr_warn("rejected task %u: image set %s, this daemon serves %s\n", h.image_pid,
			h.image_set_id, c->image_set_id);
		send_reply(conn->fd, -EXDEV,
			   "wrong images: this daemon serves image set %s, not %s (one image "
			   "directory per daemon; several at once is not supported yet)",
			   c->image_set_id, h.image_set_id);
		return;
	}
	if (uffd < 0 || pidfd < 0 || !fd_is(uffd, "anon_inode:[userfaultfd]") ||
	    !fd_is(pidfd, "anon_inode:[pidfd]")) {
		send_reply(conn->fd, -EBADF, "hello must carry a userfaultfd and a pidfd");
		return;
	}
	pid = pidfd_to_pid(pidfd);
	if (pid <= 0) {
		send_reply(conn->fd, -ESRCH, "task %u is already gone", h.image_pid);
		return;
	}
	fcntl(uffd, F_SETFL, O_NONBLOCK);
	t = lp_task_new(0, h.image_pid, pid, uffd, pidfd);
	if (!t) {
		send_reply(conn->fd, -ENOMEM, "out of memory");
		return;
	}
	r = c->src->ops->open_task(c->src, h.image_pid, add_missing, t);
	if (r < 0) {
		t->uffd = t->pidfd = -1; /* still ours: closed below */
		lp_task_free(t);
		send_reply(conn->fd, r, "cannot serve task %u from %s: %s (see the daemon's log)",
			   h.image_pid, c->cfg->images_dir, strerror(-r));
		return;
	}
	/* The watchdog holds the task before the restorer may release it. */
	t->id = ++c->next_id;
	r = lp_watchdog_add(c->wd_sock, t->id, uffd, pidfd);
	if (r == 0) {
		r = adopt(c, t);
		if (r < 0)
			lp_watchdog_drop(c->wd_sock, t->id);
	}
	if (r < 0) {
		t->uffd = t->pidfd = -1; /* still ours: closed below */
		lp_task_free(t);
		send_reply(conn->fd, r, "cannot take task %u: %s", h.image_pid, strerror(-r));
		return;
	}
	TAKE_FD(uffd);
	TAKE_FD(pidfd);
	if (c->remote)
		watch_task(c, pid, t->pidfd);
	if (h.nr_tasks > c->expected)
		c->expected = h.nr_tasks;
	c->handed_over++;
	pr_info("task %d (image %u): %llu pages to fill\n", pid, h.image_pid,
		(unsigned long long)t->missing.nr_pages);
	send_reply(conn->fd, 0, "serving %llu pages of task %u",
		   (unsigned long long)t->missing.nr_pages, h.image_pid);
}

static void handle_accept(struct lp_ctx *c)
{
	for (;;) {
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct lp_conn *n;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("accept: %s\n", strerror(errno));
			return;
		}
		n = calloc(1, sizeof(*n));
		if (!n) {
			close(fd);
			return;
		}
		n->fd = fd;
		n->ep = (struct lp_ep){EP_CONN, n};
		if (ep_add(c, fd, &n->ep) < 0) {
			close(fd);
			free(n);
			return;
		}
		n->next = c->conns;
		c->conns = n;
	}
}

static void handle_signal(struct lp_ctx *c)
{
	struct signalfd_siginfo si;

	if (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		c->stop_reason = si.ssi_signo == SIGINT	  ? "interrupted (SIGINT)"
				 : si.ssi_signo == SIGHUP ? "hung up (SIGHUP)"
							  : "terminated (SIGTERM)";
}

static bool background_work(struct lp_ctx *c)
{
	for (struct lp_served *s = c->served; s; s = s->next)
		if (!s->dead && (!lazy_ranges_empty(&s->t->missing) || s->t->nr_retry))
			return true;
	return false;
}

/* One round of background fill on the next task in turn. */
static void background_round(struct lp_ctx *c)
{
	struct lp_served *s = c->bg_next ? c->bg_next : c->served;

	for (; s; s = s->next)
		if (!s->dead && !lazy_ranges_empty(&s->t->missing))
			break;
	if (!s) {
		c->bg_next = NULL;
		return;
	}
	task_result(c, s, lp_task_fill(s->t, &c->env, BG_BATCH_PAGES));
	c->bg_next = s->next;
}

static bool nothing_left(struct lp_ctx *c)
{
	return c->handed_over && c->handed_over >= c->expected && !c->served && !c->conns;
}

static int serve(struct lp_ctx *c)
{
	uint64_t idle_since = 0;

	for (;;) {
		struct epoll_event ev[32];
		bool busy = background_work(c);
		int n, timeout = busy ? 0 : -1;

		if (!busy && c->handed_over && !c->served && !c->conns)
			timeout = 1000; /* more tasks announced: wait, not forever */
		if (!busy && c->remote && !c->running_sent && c->handed_over)
			timeout = 5; /* watch the restore release the tree */
		n = epoll_wait(c->epfd, ev, ARRAY_SIZE(ev), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort_all(c, "epoll_wait failed");
			return pr_err_ret(negerrno(), "epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct lp_ep *ep = ev[i].data.ptr;
			struct lp_served *s = ep->owner;

			switch (ep->kind) {
			case EP_LISTEN:
				handle_accept(c);
				break;
			case EP_SIGNAL:
				handle_signal(c);
				break;
			case EP_CONN:
				handle_hello(c, ep->owner);
				break;
			case EP_UFFD:
				if (!s->dead)
					task_result(c, s, lp_task_handle_uffd(s->t, &c->env));
				break;
			case EP_PIDFD:
				if (!s->dead)
					finish_task(c, s, "exited");
				break;
			}
		}
		if (c->stop_reason) {
			abort_all(c, c->stop_reason);
			reap(c);
			return -EINTR;
		}
		for (struct lp_served *s = c->served; s; s = s->next)
			if (!s->dead && s->t->nr_retry)
				task_result(c, s, lp_task_retry(s->t, &c->env));
		if (n == 0 && busy)
			background_round(c);
		report_running(c);
		reap(c);
		if (nothing_left(c))
			return c->remote ? finish_remote(c) : 0;
		if (c->handed_over && !c->served && !c->conns) {
			if (!idle_since)
				idle_since = now_ms();
			else if (now_ms() - idle_since > WAIT_MORE_TASKS_MS)
				return pr_err_ret(
				    -ETIMEDOUT,
				    "restore announced %u tasks, only %u were handed over",
				    c->expected, c->handed_over);
		} else {
			idle_since = 0;
		}
	}
}

static void print_summary(struct lp_ctx *c)
{
	struct timespec t1;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - c->t0.tv_sec) + (t1.tv_nsec - c->t0.tv_nsec) / 1e9;
	const struct lp_stats *st = &c->stats;

	pr_msg("lazy-pages: %llu tasks, %llu faults, %llu pages by fault, %llu pages in the "
	       "background, %llu zero pages, %llu already present (EEXIST), %llu memory events, "
	       "%.3f s\n",
	       (unsigned long long)st->tasks, (unsigned long long)st->faults,
	       (unsigned long long)st->pages_fault, (unsigned long long)st->pages_bg,
	       (unsigned long long)st->zero_pages, (unsigned long long)st->eexist,
	       (unsigned long long)st->events, secs);
	pr_msg("lazy-pages: %.1f us of daemon work per fault, background fill %.2f GB/s\n",
	       st->faults ? st->fault_ns / 1e3 / st->faults : 0.0,
	       st->bg_ns ? st->pages_bg * 4096.0 / st->bg_ns : 0.0);
}

static void ctx_fini(struct lp_ctx *c)
{
	/* Tasks left here were killed or are complete (abort_all/finish). */
	reap(c);
	while (c->conns) {
		struct lp_conn *n = c->conns;

		c->conns = n->next;
		close(n->fd);
		free(n);
	}
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->socket_path[0])
		unlink(c->socket_path);
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->wd_sock >= 0) {
		close(c->wd_sock); /* the watchdog sees EOF with nothing held and leaves */
		waitpid(c->wd_pid, NULL, 0);
	}
	page_source_close(c->src);
	for (size_t i = 0; i < c->nr_watch; i++)
		close(c->watch[i].pidfd);
	free(c->watch);
	if (c->dirfd >= 0)
		close(c->dirfd);
}

int lazy_pages_run(const struct lp_config *cfg)
{
	struct lp_ctx c = {.cfg = cfg,
			   .dirfd = -1,
			   .listen_fd = -1,
			   .epfd = -1,
			   .sigfd = -1,
			   .wd_sock = -1,
			   .remote = cfg->address != NULL};
	int r;

	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	c.dirfd = open(cfg->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dirfd < 0)
		return pr_err_ret(negerrno(), "cannot open images directory %s", cfg->images_dir);
	r = read_inventory(&c);
	if (r == 0 && c.remote)
		r = page_source_tcp_open(c.dirfd, cfg->address, cfg->port, c.image_set_id, &c.src);
	else if (r == 0)
		r = page_source_local_open(c.dirfd, &c.src);
	/* The watchdog first: it must not inherit the socket or the epoll. */
	if (r == 0)
		r = lp_watchdog_start(cfg->close_in_watchdog, &c.wd_sock, &c.wd_pid);
	if (r == 0) {
		c.epfd = epoll_create1(EPOLL_CLOEXEC);
		if (c.epfd < 0)
			r = pr_err_ret(negerrno(), "epoll_create1");
	}
	if (r == 0)
		r = setup_signals(&c);
	if (r == 0)
		r = start_listening(&c);
	if (r == 0 && cfg->ready)
		r = cfg->ready(cfg->ready_arg);
	if (r < 0) {
		ctx_fini(&c);
		return r;
	}
	c.env = (struct lp_env){.src = c.src, .stats = &c.stats, .adopt = adopt, .daemon = &c};
	pr_info("serving image set %s of %s on %s\n", c.image_set_id, cfg->images_dir,
		c.socket_path);
	r = serve(&c);
	if (r < 0 && c.served)
		abort_all(&c, "the daemon stops on an error");
	print_summary(&c);
	ctx_fini(&c);
	return r;
}
