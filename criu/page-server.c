// SPDX-License-Identifier: GPL-2.0-or-later
/* Page server over TCP: lazy serving from a frozen tree, pre-copy push and receive. */
#define LOG_PREFIX "page-server: "
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "img.h"
#include "log.h"
#include "page-server.h"
#include "util.h"

#include "pagemap.pb-c.h"

/* A peer that says nothing for this long after connecting is dropped. */
#define HELLO_TIMEOUT_S 10
/* Connections served at once: a flood can't make us start more threads. */
#define MAX_CONNS 16
/* Caps on what a pushing dump can make the receiver hold. */
#define MAX_PUSH_RUNS  (1u << 24)
#define MAX_PUSH_TASKS 65536u
/* Socket buffers for bulk transfer (the kernel caps them at rmem/wmem_max). */
#define BULK_SOCKBUF (4 << 20)
/* A peer that vanished without a FIN (host down, cable cut) is found by
 * keepalive probes: silent for 10 s, then 3 probes 5 s apart. */
#define KEEPIDLE_S  10
#define KEEPINTVL_S 5
#define KEEPCNT	    3
/* A client waits this long for any reply before it gives the server up. */
#define REPLY_TIMEOUT_S 30

void px_ignore_sigpipe(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};

	/* A peer that closes while we write must be an error return, not
	 * the end of a dump that holds a frozen tree. */
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- sockets ---- */

static int resolve(const char *addr, int port, bool passive, struct addrinfo **ret)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
	char service[16];
	int r;

	snprintf(service, sizeof(service), "%d", port);
	r = getaddrinfo(addr, service, &hints, ret);
	if (r) {
		pr_err("cannot resolve %s: %s\n", addr ? addr : "(any)", gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	return 0;
}

int px_listen(const char *addr, int port, int *ret_fd)
{
	struct addrinfo *ai = NULL;
	int fd, one = 1, r;

	px_ignore_sigpipe();
	r = resolve(addr, port, true, &ai);
	if (r < 0)
		return r;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return pr_err_ret(negerrno(), "socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		r = negerrno();
		close(fd);
		freeaddrinfo(ai);
		if (r == -EADDRINUSE)
			pr_err("port %d on %s is already in use\n", port, addr ? addr : "*");
		else
			pr_err_ret(r, "cannot listen on %s port %d", addr ? addr : "*", port);
		return r;
	}
	freeaddrinfo(ai);
	*ret_fd = fd;
	return 0;
}

static void tune(int fd, enum px_channel ch)
{
	int one = 1, sz = BULK_SOCKBUF, idle = KEEPIDLE_S, intvl = KEEPINTVL_S, cnt = KEEPCNT;

	/* A fault request must not wait for Nagle; neither must a reply. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (ch != PX_CH_FAULT) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

int px_connect(const char *addr, int port, enum px_channel channel, const char *id, int *ret_fd,
	       uint32_t *ret_nr_tasks)
{
	struct px_hello h = {.version = PX_VERSION, .channel = channel, .page_size = PX_PAGE};
	struct px_hello_reply rep;
	uint8_t buf[PX_HELLO_SIZE], rbuf[PX_REPLY_SIZE];
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	struct addrinfo *ai = NULL;
	_cleanup_close_ int fd = -1;
	const char *why = NULL;
	int r;

	px_ignore_sigpipe();
	snprintf(h.image_set_id, sizeof(h.image_set_id), "%s", id);
	r = resolve(addr, port, false, &ai);
	if (r < 0)
		return r;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return pr_err_ret(negerrno(), "socket");
	}
	tune(fd, channel);
	/* Never wait for good on a server that went silent (a page server
	 * may take long to sync a large set: keepalive covers the push). */
	if (channel != PX_CH_PUSH) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = negerrno();
		freeaddrinfo(ai);
		return pr_err_ret(r, "cannot connect to the page server at %s port %d", addr, port);
	}
	freeaddrinfo(ai);
	r = px_hello_encode(&h, buf, sizeof(buf));
	if (r < 0)
		return pr_err_ret(r, "bad image set id %s", id);
	r = write_all(fd, buf, sizeof(buf));
	if (r == 0)
		r = read_all(fd, rbuf, sizeof(rbuf));
	if (r < 0)
		return pr_err_ret(r, "page server at %s port %d: hello", addr, port);
	r = px_reply_decode(rbuf, sizeof(rbuf), &rep, &why);
	if (r < 0)
		return pr_err_ret(r, "page server at %s port %d: %s", addr, port, why);
	if (rep.status == -EXDEV) {
		pr_err("the page server at %s port %d serves another image set than %s\n", addr,
		       port, id);
		return -EXDEV;
	}
	if (rep.status < 0)
		return pr_err_ret(rep.status, "the page server at %s port %d refused us", addr,
				  port);
	if (ret_nr_tasks)
		*ret_nr_tasks = rep.nr_tasks;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int px_send_msg(int fd, const struct px_msg *m)
{
	uint8_t buf[PX_MSG_SIZE];

	px_msg_encode(m, buf, sizeof(buf));
	return write_all(fd, buf, sizeof(buf));
}

int px_recv_msg(int fd, struct px_msg *m)
{
	uint8_t buf[PX_MSG_SIZE];
	const char *why = NULL;
	size_t got = 0;
	int r;

	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;
		if (n < 0)
			return negerrno();
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	r = px_msg_decode(buf, sizeof(buf), m, &why);
	if (r < 0)
		pr_warn("bad message from the peer: %s\n", why);
	return r;
}

/* Read the hello of an accepted connection; answer it. */
static int accept_hello(int fd, const char *id, uint32_t nr_tasks, struct px_hello *h)
{
	struct timeval tv = {.tv_sec = HELLO_TIMEOUT_S};
	struct timeval none = {0};
	struct px_hello_reply rep = {.version = PX_VERSION, .nr_tasks = nr_tasks};
	uint8_t buf[PX_HELLO_SIZE], rbuf[PX_REPLY_SIZE];
	const char *why = NULL;
	int r;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = read_all(fd, buf, sizeof(buf));
	if (r < 0) {
		pr_warn("dropped a client: no hello (%s)\n", strerror(-r));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	r = px_hello_decode(buf, sizeof(buf), h, &why);
	if (r < 0) {
		pr_warn("dropped a client: %s\n", why);
		rep.status = -EPROTO;
	} else if (id && strcasecmp(h->image_set_id, id)) {
		pr_warn("dropped a client asking for image set %s: this is %s\n", h->image_set_id,
			id);
		rep.status = r = -EXDEV;
	}
	px_reply_encode(&rep, rbuf, sizeof(rbuf));
	write_all(fd, rbuf, sizeof(rbuf));
	return r;
}

/* ---- lazy server ---- */

struct ps_task {
	uint32_t pid;
	struct px_run *runs;
	size_t nr, cap;
};

struct ps_conn {
	struct ps_lazy *s;
	int fd;
	pthread_t thread;
	bool joined;
	struct ps_conn *next;
};

struct ps_lazy {
	int listen_fd;
	const char *id;
	struct ps_task *tasks;
	size_t nr_tasks;
	uint64_t nr_pages;
	/* Shared with the connection threads. */
	pthread_mutex_t lock;
	struct ps_conn *conns;
	size_t nr_open;	   /* connection threads still running */
	size_t nr_members; /* open connections that took part in the transfer */
	bool had_member;
	bool running, done;
	int failure; /* -errno once the destination is lost or in error */
	int wake[2]; /* threads write a byte when something changed */
	uint64_t served_pages, served_reqs;
};

int ps_lazy_new(const char *addr, int port, struct ps_lazy **ret)
{
	struct ps_lazy *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->wake[0] = s->wake[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = px_listen(addr, port, &s->listen_fd);
	if (r < 0) {
		s->listen_fd = -1;
		ps_lazy_free(s);
		return r;
	}
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = pr_err_ret(negerrno(), "pipe");
		ps_lazy_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ps_lazy_add_run(struct ps_lazy *s, uint32_t pid, uint64_t vaddr, uint64_t nr_pages)
{
	struct ps_task *t = s->nr_tasks ? &s->tasks[s->nr_tasks - 1] : NULL;

	if (!t || t->pid != pid) {
		struct ps_task *n = reallocarray(s->tasks, s->nr_tasks + 1, sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->tasks = n;
		t = &s->tasks[s->nr_tasks++];
		*t = (struct ps_task){.pid = pid};
	}
	if (t->nr && t->runs[t->nr - 1].vaddr + t->runs[t->nr - 1].nr_pages * PX_PAGE > vaddr)
		return pr_err_ret(-EINVAL, "lazy run %#lx of %u out of order", (unsigned long)vaddr,
				  pid);
	if (t->nr == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct px_run *n = reallocarray(t->runs, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->runs = n;
		t->cap = cap;
	}
	t->runs[t->nr++] = (struct px_run){vaddr, nr_pages};
	s->nr_pages += nr_pages;
	return 0;
}

uint64_t ps_lazy_nr_pages(const struct ps_lazy *s)
{
	return s->nr_pages;
}

static const struct ps_task *find_task(const struct ps_lazy *s, uint32_t pid)
{
	for (size_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].pid == pid)
			return &s->tasks[i];
	return NULL;
}

static void poke(struct ps_lazy *s)
{
	char c = 0;

	if (write(s->wake[1], &c, 1) < 0 && errno != EAGAIN)
		pr_warn("cannot wake the server: %s\n", strerror(errno));
}

/* Read [vaddr, +n pages) of pid: process_vm_readv, /proc/PID/mem for the rest. */
static int read_pages(uint32_t pid, uint64_t vaddr, uint32_t n, uint8_t *buf, int *mem_fd)
{
	struct iovec l = {buf, (size_t)n * PX_PAGE}, rv = {(void *)vaddr, (size_t)n * PX_PAGE};
	ssize_t got = process_vm_readv((pid_t)pid, &l, 1, &rv, 1, 0);

	if (got < 0)
		got = 0;
	if ((size_t)got < l.iov_len) {
		/* Pages without PROT_READ: /proc/PID/mem reads them anyway. */
		if (*mem_fd < 0) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/%u/mem", pid);
			*mem_fd = open(path, O_RDONLY | O_CLOEXEC);
			if (*mem_fd < 0)
				return pr_err_ret(negerrno(), "cannot open %s", path);
		}
		int r = pread_all(*mem_fd, buf + got, l.iov_len - (size_t)got,
				  (off_t)(vaddr + (uint64_t)got));
		if (r < 0)
			return pr_err_ret(r, "task %u: cannot read memory at %#lx", pid,
					  (unsigned long)(vaddr + (uint64_t)got));
	}
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint64_t w;

	/* Data pages nearly always differ in their first word: cheap exit. */
	for (size_t off = 0; off < len; off += PX_PAGE) {
		memcpy(&w, p + off, sizeof(w));
		if (w)
			return false;
	}
	return p[0] == 0 && !memcmp(p, p + 1, len - 1);
}

static int send_error(int fd, int status)
{
	struct px_msg m = {.type = PX_ERROR, .status = status};

	return px_send_msg(fd, &m);
}

/* Answer one request. Returns 0, or -errno to drop the connection. */
static int serve_request(struct ps_lazy *s, int fd, const struct px_msg *q, uint8_t *buf,
			 int *mem_fd, uint32_t *mem_pid)
{
	const struct ps_task *t = find_task(s, q->task);
	struct px_msg a = {
	    .type = PX_PAGES, .task = q->task, .vaddr = q->vaddr, .nr_pages = q->nr_pages};
	uint8_t hdr[PX_MSG_SIZE];
	struct iovec iov[2];
	int r;

	if (!t) {
		pr_warn("dropped a client: request for task %u, which was not dumped\n", q->task);
		send_error(fd, -ESRCH);
		return -ESRCH;
	}
	if (!px_runs_contain(t->runs, t->nr, q->vaddr, q->nr_pages)) {
		pr_warn("dropped a client: request for %u pages at %#lx of task %u, outside what "
			"was dumped lazily\n",
			q->nr_pages, (unsigned long)q->vaddr, q->task);
		send_error(fd, -ERANGE);
		return -ERANGE;
	}
	if (*mem_pid != q->task && *mem_fd >= 0) {
		close(*mem_fd);
		*mem_fd = -1;
	}
	*mem_pid = q->task;
	r = read_pages(q->task, q->vaddr, q->nr_pages, buf, mem_fd);
	if (r < 0) {
		send_error(fd, r);
		return r;
	}
	iov[1] = (struct iovec){buf, (size_t)q->nr_pages * PX_PAGE};
	if (all_zero(buf, iov[1].iov_len)) {
		a.type = PX_ZERO;
		iov[1].iov_len = 0;
	}
	px_msg_encode(&a, hdr, sizeof(hdr));
	iov[0] = (struct iovec){hdr, sizeof(hdr)};
	for (size_t i = 0; i < 2;) {
		ssize_t n = writev(fd, iov + i, (int)(2 - i));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negerrno();
		while (i < 2 && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < 2) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	pthread_mutex_lock(&s->lock);
	s->served_reqs++;
	s->served_pages += q->nr_pages;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Mark conn a member of the transfer (once). */
static void join_transfer(struct ps_lazy *s, bool *member)
{
	if (*member)
		return;
	*member = true;
	pthread_mutex_lock(&s->lock);
	s->nr_members++;
	s->had_member = true;
	pthread_mutex_unlock(&s->lock);
}

static void *conn_main(void *arg)
{
	struct ps_conn *c = arg;
	struct ps_lazy *s = c->s;
	struct px_hello h;
	uint8_t *buf = NULL;
	int mem_fd = -1, r;
	uint32_t mem_pid = 0;
	bool member = false, done = false;

	r = accept_hello(c->fd, s->id, (uint32_t)s->nr_tasks, &h);
	if (r == 0 && h.channel == PX_CH_PUSH) {
		pr_warn("dropped a client: it pushes pages, this server serves them\n");
		r = -EPROTO;
	}
	/* The fault connection speaks for the destination from its hello on:
	 * a daemon that dies before it asked for anything still ends the
	 * transfer (and the source resumes). */
	if (r == 0 && h.channel == PX_CH_FAULT)
		join_transfer(s, &member);
	if (r == 0) {
		tune(c->fd, h.channel);
		buf = mmap(NULL, PX_MAX_PAGES * PX_PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED) {
			buf = NULL;
			r = -ENOMEM;
		}
	}
	while (r == 0) {
		struct px_msg m;

		r = px_recv_msg(c->fd, &m);
		if (r < 0)
			break;
		switch (m.type) {
		case PX_REQ_PAGES:
			r = serve_request(s, c->fd, &m, buf, &mem_fd, &mem_pid);
			if (r == 0)
				join_transfer(s, &member);
			break;
		case PX_RUNNING:
			join_transfer(s, &member);
			pthread_mutex_lock(&s->lock);
			if (!s->running)
				pr_info("the destination reports its tree running\n");
			s->running = true;
			pthread_mutex_unlock(&s->lock);
			break;
		case PX_DONE: {
			struct px_msg ack = {.type = PX_DONE_ACK};

			join_transfer(s, &member);
			pthread_mutex_lock(&s->lock);
			s->done = s->running = true;
			pthread_mutex_unlock(&s->lock);
			px_send_msg(c->fd, &ack);
			done = true;
			r = 1;
			break;
		}
		default:
			pr_warn("dropped a client: message type %u is not a request\n", m.type);
			send_error(c->fd, -EPROTO);
			r = -EPROTO;
		}
	}
	pthread_mutex_lock(&s->lock);
	s->nr_open--;
	if (member) {
		s->nr_members--;
		/* The destination is gone only when its last connection is:
		 * a stray client that joined and left must not end it all. */
		if (!done && !s->done && !s->nr_members && !s->failure)
			s->failure = r == -ECONNRESET ? -ECONNRESET : r < 0 ? r : -EPIPE;
	}
	pthread_mutex_unlock(&s->lock);
	if (member && !done && r < 0)
		pr_warn("a destination connection ended: %s\n",
			r == -ECONNRESET ? "closed by the peer" : strerror(-r));
	if (mem_fd >= 0)
		close(mem_fd);
	if (buf)
		munmap(buf, PX_MAX_PAGES * PX_PAGE);
	/* The peer sees the end now; the fd is closed when the thread is joined. */
	shutdown(c->fd, SHUT_RDWR);
	poke(s);
	return NULL;
}

static void accept_one(struct ps_lazy *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct ps_conn *c;

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->nr_open >= MAX_CONNS) {
		pthread_mutex_unlock(&s->lock);
		pr_warn("dropped a client: %d connections are open already\n", MAX_CONNS);
		close(fd);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	pthread_mutex_lock(&s->lock);
	s->nr_open++;
	pthread_mutex_unlock(&s->lock);
	if (pthread_create(&c->thread, NULL, conn_main, c)) {
		pr_warn("cannot start a connection thread\n");
		pthread_mutex_lock(&s->lock);
		s->nr_open--;
		pthread_mutex_unlock(&s->lock);
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	s->conns = c;
}

/* Close every connection and wait for its thread. */
static void stop_conns(struct ps_lazy *s)
{
	for (struct ps_conn *c = s->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (s->conns) {
		struct ps_conn *c = s->conns;

		s->conns = c->next;
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
	}
}

/* Close the pidfds in the poll set from index first on. */
static void close_pidfds(struct pollfd *p, size_t first, size_t n)
{
	for (size_t i = first; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
}

/*
 * The poll set: the listening socket, the threads' wake pipe, the signals,
 * then a pidfd per served task. A served task killed from outside stays a
 * zombie under the dump (its tracer), so nothing else would ever tell the
 * server that its pages are gone; its pidfd turns readable when it exits.
 */
static int poll_set_new(struct ps_lazy *s, int sfd, struct pollfd **ret, size_t *ret_n)
{
	size_t n = 3 + s->nr_tasks;
	struct pollfd *p = calloc(n, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[0] = (struct pollfd){s->listen_fd, POLLIN, 0};
	p[1] = (struct pollfd){s->wake[0], POLLIN, 0};
	p[2] = (struct pollfd){sfd, POLLIN, 0};
	for (size_t i = 0; i < s->nr_tasks; i++) {
		int fd = (int)syscall(SYS_pidfd_open, (pid_t)s->tasks[i].pid, 0);

		if (fd < 0) {
			int r = negerrno();

			close_pidfds(p, 3, 3 + i);
			free(p);
			return pr_err_ret(r, "task %u: pidfd_open", s->tasks[i].pid);
		}
		p[3 + i] = (struct pollfd){fd, POLLIN, 0};
	}
	*ret = p;
	*ret_n = n;
	return 0;
}

int ps_lazy_serve(struct ps_lazy *s, const char *id, bool *ret_running)
{
	_cleanup_close_ int sfd = -1;
	_cleanup_free_ struct pollfd *p = NULL;
	size_t np = 0;
	sigset_t sigs;
	int r = 0;

	s->id = id;
	/* The dump blocks these while the tree is stopped: take them here. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return pr_err_ret(negerrno(), "signalfd");
	r = poll_set_new(s, sfd, &p, &np);
	if (r < 0)
		return r;
	pr_info("serving %llu lazy pages of %zu task(s) of image set %s\n",
		(unsigned long long)s->nr_pages, s->nr_tasks, id);
	for (;;) {
		char drain[64];

		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = pr_err_ret(negerrno(), "poll");
			break;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				pr_err("interrupted by signal %u while serving pages\n",
				       si.ssi_signo);
				r = -EINTR;
				break;
			}
		}
		for (size_t i = 3; i < np; i++) {
			if (!p[i].revents)
				continue;
			pr_err("task %u of the source tree died while its pages were served (killed "
			       "from outside?): its lazy pages are lost\n",
			       s->tasks[i - 3].pid);
			r = -ESRCH;
			break;
		}
		if (r)
			break;
		while (read(s->wake[0], drain, sizeof(drain)) > 0)
			;
		if (p[0].revents & POLLIN)
			accept_one(s);
		pthread_mutex_lock(&s->lock);
		if (s->done)
			r = 1;
		else if (s->failure)
			r = s->failure;
		pthread_mutex_unlock(&s->lock);
		if (r)
			break;
	}
	close_pidfds(p, 3, np);
	stop_conns(s);
	*ret_running = s->running;
	if (r == 1) {
		pr_info("the destination has every page: %llu requests, %llu pages sent\n",
			(unsigned long long)s->served_reqs, (unsigned long long)s->served_pages);
		return 0;
	}
	if (r != -EINTR && r != -ESRCH)
		pr_err("the destination was lost (%s) after %llu of %llu pages\n", strerror(-r),
		       (unsigned long long)s->served_pages, (unsigned long long)s->nr_pages);
	return r;
}

void ps_lazy_free(struct ps_lazy *s)
{
	if (!s)
		return;
	stop_conns(s);
	for (size_t i = 0; i < s->nr_tasks; i++)
		free(s->tasks[i].runs);
	free(s->tasks);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- pre-copy: the dump pushes ---- */

struct ps_push {
	int fd;
	pthread_mutex_t lock; /* the page writer thread and the dump both send */
};

int ps_push_open(const char *addr, int port, struct ps_push **ret)
{
	struct ps_push *p = calloc(1, sizeof(*p));
	/* The set's id is made when the dump ends; the receiver does not check it. */
	static const char anon_id[] = "00000000000000000000000000000000";
	int r;

	if (!p)
		return -ENOMEM;
	r = px_connect(addr, port, PX_CH_PUSH, anon_id, &p->fd, NULL);
	if (r < 0) {
		free(p);
		return r;
	}
	pthread_mutex_init(&p->lock, NULL);
	*ret = p;
	return 0;
}

int ps_push_data(struct ps_push *p, uint32_t pid, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	while (len && r == 0) {
		size_t n = len / PX_PAGE < PX_MAX_PAGES ? len / PX_PAGE : PX_MAX_PAGES;
		struct px_msg m = {.type = PX_PUT_DATA, .task = pid, .nr_pages = (uint32_t)n};

		r = px_send_msg(p->fd, &m);
		if (r == 0)
			r = write_all(p->fd, b, n * PX_PAGE);
		b += n * PX_PAGE;
		len -= n * PX_PAGE;
	}
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		return pr_err_ret(r, "sending pages of %u to the page server", pid);
	return 0;
}

int ps_push_run(struct ps_push *p, uint32_t pid, uint64_t vaddr, uint64_t nr_pages, uint32_t flags)
{
	struct px_msg m = {.type = PX_PUT_RUN,
			   .task = pid,
			   .vaddr = vaddr,
			   .nr_pages = (uint32_t)nr_pages,
			   .flags = (uint16_t)flags};
	int r;

	/* A longer run goes as several entries. */
	while (nr_pages > UINT32_MAX) {
		m.nr_pages = UINT32_MAX & ~0xffu;
		r = ps_push_run(p, pid, vaddr, m.nr_pages, flags);
		if (r < 0)
			return r;
		vaddr += (uint64_t)m.nr_pages * PX_PAGE;
		nr_pages -= m.nr_pages;
		m.vaddr = vaddr;
		m.nr_pages = (uint32_t)nr_pages;
	}
	pthread_mutex_lock(&p->lock);
	r = px_send_msg(p->fd, &m);
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		return pr_err_ret(r, "sending the pagemap of %u to the page server", pid);
	return 0;
}

int ps_push_end(struct ps_push *p, uint32_t pid, uint64_t data_pages)
{
	struct px_msg m = {.type = PX_PUT_END, .task = pid, .vaddr = data_pages};
	int r;

	pthread_mutex_lock(&p->lock);
	r = px_send_msg(p->fd, &m);
	pthread_mutex_unlock(&p->lock);
	if (r < 0)
		return pr_err_ret(r, "sending the pagemap of %u to the page server", pid);
	return 0;
}

int ps_push_finish(struct ps_push *p)
{
	struct px_msg m = {.type = PX_DONE};
	int r = px_send_msg(p->fd, &m);

	if (r == 0)
		r = px_recv_msg(p->fd, &m);
	if (r < 0)
		return pr_err_ret(r, "the page server did not acknowledge the pages");
	if (m.type == PX_ERROR)
		return pr_err_ret(m.status, "the page server failed to store the pages");
	if (m.type != PX_DONE_ACK)
		return pr_err_ret(-EPROTO, "the page server answered %u to the end", m.type);
	return 0;
}

void ps_push_free(struct ps_push *p)
{
	if (!p)
		return;
	close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- pre-copy: the page server receives ---- */

struct rx_task {
	uint32_t pid;
	struct img *pages;
	PagemapEntry *runs;
	size_t nr, cap;
	uint64_t data_pages, run_data_pages, prev_end;
};

struct rx_ctx {
	int dirfd;
	struct rx_task cur; /* pid 0: none open */
	uint32_t *finished;
	size_t nr_finished;
	uint8_t *buf;
};

static void rx_task_reset(struct rx_task *t)
{
	img_close(t->pages);
	free(t->runs);
	*t = (struct rx_task){0};
}

static int rx_begin(struct rx_ctx *c, uint32_t pid)
{
	char name[64];
	int r;

	if (c->cur.pid == pid)
		return 0;
	if (c->cur.pid)
		return pr_err_ret(-EPROTO, "pages of task %u while task %u is not finished", pid,
				  c->cur.pid);
	for (size_t i = 0; i < c->nr_finished; i++)
		if (c->finished[i] == pid)
			return pr_err_ret(-EPROTO, "task %u sent twice", pid);
	if (c->nr_finished >= MAX_PUSH_TASKS)
		return pr_err_ret(-EPROTO, "more than %u tasks", MAX_PUSH_TASKS);
	snprintf(name, sizeof(name), "pages-%u.img", pid);
	r = img_open_write(c->dirfd, name, IMG_PAGES, &c->cur.pages);
	if (r < 0)
		return r;
	c->cur.pid = pid;
	return 0;
}

static int rx_end(struct rx_ctx *c, const struct px_msg *m)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	_cleanup_img_ struct img *img = NULL;
	struct rx_task *t = &c->cur;
	uint32_t *n;
	char name[64];
	int r;

	r = rx_begin(c, m->task); /* a task with no data pages at all */
	if (r < 0)
		return r;
	if (m->vaddr != t->data_pages || t->run_data_pages != t->data_pages)
		return pr_err_ret(-EPROTO,
				  "task %u: %llu pages received, its pagemap holds %llu, the "
				  "dump says %llu",
				  t->pid, (unsigned long long)t->data_pages,
				  (unsigned long long)t->run_data_pages,
				  (unsigned long long)m->vaddr);
	snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
	r = img_open_write(c->dirfd, name, IMG_PAGEMAP, &img);
	if (r < 0)
		return r;
	head.id = t->pid;
	head.nr_entries = t->nr;
	head.nr_file_pages = t->data_pages;
	r = img_write_msg(img, &head.base);
	for (size_t i = 0; i < t->nr && r == 0; i++)
		r = img_write_msg(img, &t->runs[i].base);
	if (r == 0)
		r = img_commit(t->pages);
	if (r == 0)
		r = img_commit(img);
	if (r < 0)
		return r;
	n = reallocarray(c->finished, c->nr_finished + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->finished = n;
	c->finished[c->nr_finished++] = t->pid;
	pr_info("task %u: %zu pagemap entries, %llu pages stored\n", t->pid, t->nr,
		(unsigned long long)t->data_pages);
	rx_task_reset(t);
	return 0;
}

static int rx_run(struct rx_ctx *c, const struct px_msg *m)
{
	struct rx_task *t = &c->cur;
	const unsigned where =
	    PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_PARENT | PAGEMAP_FLAG__PE_REMOTE;
	const char *why = NULL;
	int r = rx_begin(c, m->task);

	if (r < 0)
		return r;
	if (__builtin_popcount(m->flags & where) > 1)
		return pr_err_ret(-EPROTO, "task %u: run with flags %#x", m->task, m->flags);
	r = px_run_next_ok(m->vaddr, m->nr_pages, &t->prev_end, &why);
	if (r < 0)
		return pr_err_ret(r, "task %u: run at %#lx: %s", m->task, (unsigned long)m->vaddr,
				  why);
	if (t->nr == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		PagemapEntry *n;

		if (cap > MAX_PUSH_RUNS)
			return pr_err_ret(-EPROTO, "task %u: more than %u runs", m->task,
					  MAX_PUSH_RUNS);
		n = reallocarray(t->runs, cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->runs = n;
		t->cap = cap;
	}
	t->runs[t->nr] = (PagemapEntry)PAGEMAP_ENTRY__INIT;
	t->runs[t->nr].vaddr = m->vaddr;
	t->runs[t->nr].nr_pages = m->nr_pages;
	t->runs[t->nr].flags = m->flags;
	t->nr++;
	if (m->flags & PAGEMAP_FLAG__PE_PAGES)
		t->run_data_pages += m->nr_pages;
	return 0;
}

static int rx_data(struct rx_ctx *c, int fd, const struct px_msg *m)
{
	int r = rx_begin(c, m->task);

	if (r < 0)
		return r;
	r = read_all(fd, c->buf, (size_t)m->nr_pages * PX_PAGE);
	if (r < 0)
		return pr_err_ret(r, "task %u: pages cut short", m->task);
	r = img_write_pages(c->cur.pages, c->buf, (size_t)m->nr_pages * PX_PAGE);
	if (r < 0)
		return r;
	c->cur.data_pages += m->nr_pages;
	return 0;
}

/* One push connection to its end. Returns 0 once DONE was acknowledged. */
static int rx_session(struct rx_ctx *c, int fd)
{
	for (;;) {
		struct px_msg m;
		int r = px_recv_msg(fd, &m);

		if (r < 0)
			return r == -ECONNRESET ? pr_err_ret(r, "the dump closed the connection")
						: r;
		switch (m.type) {
		case PX_PUT_DATA:
			r = rx_data(c, fd, &m);
			break;
		case PX_PUT_RUN:
			r = rx_run(c, &m);
			break;
		case PX_PUT_END:
			r = rx_end(c, &m);
			break;
		case PX_DONE: {
			struct px_msg ack = {.type = PX_DONE_ACK};

			if (c->cur.pid)
				return pr_err_ret(-EPROTO, "the dump ended inside task %u",
						  c->cur.pid);
			if (fsync(c->dirfd) < 0)
				r = pr_err_ret(negerrno(), "fsync of the images directory");
			if (r == 0)
				return px_send_msg(fd, &ack);
			break;
		}
		default:
			r = pr_err_ret(-EPROTO, "message type %u from a dump", m.type);
		}
		if (r < 0) {
			send_error(fd, r);
			return r;
		}
	}
}

int ps_receive(int listen_fd, int dirfd)
{
	struct rx_ctx c = {.dirfd = dirfd};
	int r = -EIO;

	c.buf = malloc(PX_MAX_PAGES * PX_PAGE);
	if (!c.buf)
		return -ENOMEM;
	for (;;) {
		_cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct px_hello h;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			r = pr_err_ret(negerrno(), "accept");
			break;
		}
		if (accept_hello(fd, NULL, 0, &h) < 0)
			continue;
		if (h.channel != PX_CH_PUSH) {
			pr_warn("dropped a client: it asks for pages, this server receives them\n");
			continue;
		}
		tune(fd, PX_CH_PUSH);
		pr_info("receiving pages from a dump\n");
		r = rx_session(&c, fd);
		if (r < 0)
			pr_err("the transfer from the dump failed: the pages in the images "
			       "directory are incomplete\n");
		break;
	}
	rx_task_reset(&c.cur);
	free(c.finished);
	free(c.buf);
	return r;
}
