// SPDX-License-Identifier: GPL-2.0-or-later
/* The watchdog process that kills served tasks if the daemon dies. */
#define LOG_PREFIX "lazy-pages watchdog: "
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kill-tree.h"
#include "log.h"
#include "util.h"
#include "watchdog.h"

enum { WD_ADD = 1, WD_DROP = 2 };

struct wd_msg {
	uint32_t op;
	uint32_t pad;
	uint64_t id;
};

struct wd_task {
	uint64_t id;
	int uffd;
	int pidfd;
	pid_t pid;
};

static pid_t pidfd_pid(int pidfd)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	char *p;
	int pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (read_file_str(path, &s, NULL) < 0)
		return 0;
	p = strstr(s, "\nPid:");
	if (!p || sscanf(p + 5, "%d", &pid) != 1)
		return 0;
	return pid;
}

static void kill_all(struct wd_task *t, size_t nr)
{
	size_t nr_children = 0;

	for (size_t i = 0; i < nr; i++) {
		if (t[i].pidfd < 0) {
			nr_children++;
			continue;
		}
		pr_err(
		    "the lazy-pages daemon died with pages of task %d still missing: killing it\n",
		    t[i].pid);
		/* Children it forked have pid-less uffds: they die as its
		 * descendants. */
		lp_kill_tree(t[i].pid, t[i].pidfd, "the lazy-pages daemon died");
	}
	/* Keep the uffds until the tasks are really gone, so that nothing
	 * reads a missing page as zeros on its way out. */
	for (size_t i = 0; i < nr; i++) {
		struct pollfd p = {.fd = t[i].pidfd, .events = POLLIN};

		if (t[i].pidfd < 0)
			continue;
		poll(&p, 1, 5000);
		close(t[i].pidfd);
	}
	if (nr_children) {
		/* Descendants killed above need a moment to be gone too. */
		usleep(100 * 1000);
		pr_warn("also held %zu forked children: killed above as descendants, unless "
			"their parent had exited (those could not be found)\n",
			nr_children);
	}
	for (size_t i = 0; i < nr; i++)
		close(t[i].uffd);
}

static void watchdog_main(int sock)
{
	struct wd_task *t = NULL;
	size_t nr = 0;

	for (;;) {
		struct wd_msg m;
		char cbuf[CMSG_SPACE(2 * sizeof(int))];
		struct iovec iov = {&m, sizeof(m)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *c;
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		int fds[2] = {-1, -1};

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the daemon is gone */
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)) && c->cmsg_len <= CMSG_LEN(sizeof(fds)))
			memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
		if (n != sizeof(m))
			continue;
		if (m.op == WD_ADD && fds[0] >= 0) {
			struct wd_task *nt = reallocarray(t, nr + 1, sizeof(*t));

			if (!nt) {
				/* Cannot guard it: better kill it now than risk zeros later. */
				if (fds[1] >= 0) {
					syscall(SYS_pidfd_send_signal, fds[1], SIGKILL, NULL, 0);
					close(fds[1]);
				}
				close(fds[0]);
				continue;
			}
			t = nt;
			t[nr++] = (struct wd_task){m.id, fds[0], fds[1],
						   fds[1] >= 0 ? pidfd_pid(fds[1]) : 0};
		} else if (m.op == WD_DROP) {
			for (size_t i = 0; i < nr; i++) {
				if (t[i].id != m.id)
					continue;
				close(t[i].uffd);
				if (t[i].pidfd >= 0)
					close(t[i].pidfd);
				t[i] = t[--nr];
				break;
			}
		}
	}
	kill_all(t, nr);
	_exit(0);
}

int lp_watchdog_start(int close_fd, int *ret_sock, pid_t *ret_pid)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return pr_err_ret(negerrno(), "socketpair");
	pid = fork();
	if (pid < 0) {
		int r = negerrno();

		close(sv[0]);
		close(sv[1]);
		return pr_err_ret(r, "cannot fork the watchdog");
	}
	if (pid == 0) {
		/* The daemon handles SIGINT/SIGTERM by killing its tasks
		 * itself; the watchdog must outlive it to cover the rest. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		prctl(PR_SET_NAME, "relive-lp-wdog");
		close(sv[0]);
		if (close_fd >= 0)
			close(close_fd);
		watchdog_main(sv[1]);
	}
	close(sv[1]);
	*ret_sock = sv[0];
	*ret_pid = pid;
	return 0;
}

static int wd_send(int sock, const struct wd_msg *m, const int *fds, int nr_fds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {0};
	struct iovec iov = {(void *)m, sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nr_fds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nr_fds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nr_fds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nr_fds * sizeof(int));
	}
	for (;;) {
		if (sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*m))
			return 0;
		if (errno != EINTR)
			return pr_err_ret(negerrno(), "cannot talk to the watchdog");
	}
}

int lp_watchdog_add(int sock, uint64_t id, int uffd, int pidfd)
{
	struct wd_msg m = {.op = WD_ADD, .id = id};
	int fds[2] = {uffd, pidfd};

	return wd_send(sock, &m, fds, pidfd >= 0 ? 2 : 1);
}

int lp_watchdog_drop(int sock, uint64_t id)
{
	struct wd_msg m = {.op = WD_DROP, .id = id};

	return wd_send(sock, &m, NULL, 0);
}
