// SPDX-License-Identifier: GPL-2.0-or-later
/* Lazy restore, restore side: a userfaultfd made in the task, sent to the daemon. */
#define LOG_PREFIX "uffd: "
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "inject.h"
#include "lazy-proto.h"
#include "log.h"
#include "restore-mm.h"
#include "uffd-compat.h"
#include "uffd-repair.h"
#include "uffd.h"
#include "util.h"

#define DAEMON_ANSWER_TIMEOUT_S 10

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
    {UFFD_FEATURE_EVENT_FORK, "EVENT_FORK"},
    {UFFD_FEATURE_EVENT_REMAP, "EVENT_REMAP"},
    {UFFD_FEATURE_EVENT_REMOVE, "EVENT_REMOVE"},
    {UFFD_FEATURE_EVENT_UNMAP, "EVENT_UNMAP"},
};

/* What this kernel offers: ask a throw-away userfaultfd of our own. */
static int probe_features(uint64_t *ret)
{
	struct uffdio_api api = {.api = UFFD_API};
	_cleanup_close_ int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0 && errno == EPERM) {
		_cleanup_close_ int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev >= 0)
			fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
	}
	if (fd < 0)
		return pr_err_ret(negerrno(), "userfaultfd is not available here");
	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return pr_err_ret(negerrno(), "UFFDIO_API");
	*ret = api.features;
	return 0;
}

static int remote_close(struct remote *rt, long fd)
{
	long ret;

	return remote_call1(rt, &ret, SYS_close, fd);
}

/* userfaultfd() in the task, or /dev/userfaultfd when that is refused. */
static int remote_userfaultfd(struct remote *rt, long *ret_fd)
{
	static const char dev[] = "/dev/userfaultfd";
	long fd, devfd;
	int r;

	r = remote_call1(rt, &fd, SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r < 0)
		return r;
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (fd != -EPERM)
		return pr_err_ret((int)fd, "task %d: userfaultfd()", rt->pid);
	/* vm.unprivileged_userfaultfd=0 and no CAP_SYS_PTRACE in the task. */
	r = remote_write(rt->pid, rt->scratch, dev, sizeof(dev));
	if (r < 0)
		return r;
	r = remote_call3(rt, &devfd, SYS_openat, AT_FDCWD, rt->scratch, O_RDWR | O_CLOEXEC);
	if (r < 0)
		return r;
	if (devfd < 0)
		return pr_err_ret((int)devfd,
				  "task %d: userfaultfd() is not allowed (EPERM) and %s can't be "
				  "opened",
				  rt->pid, dev);
	r = remote_call3(rt, &fd, SYS_ioctl, devfd, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	remote_close(rt, devfd);
	if (r < 0)
		return r;
	if (fd < 0)
		return pr_err_ret((int)fd, "task %d: USERFAULTFD_IOC_NEW", rt->pid);
	*ret_fd = fd;
	return 0;
}

static int remote_api(struct remote *rt, long fd)
{
	struct uffdio_api api = {.api = UFFD_API};
	uint64_t have = 0, missing;
	long ret;
	int r;

	r = probe_features(&have);
	if (r < 0)
		return r;
	missing = LP_UFFD_REQUIRED_FEATURES & ~have;
	if (missing) {
		char names[128] = "";

		for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++)
			if (missing & feature_names[i].bit) {
				strcat(names, " UFFD_FEATURE_");
				strcat(names, feature_names[i].name);
			}
		return pr_err_ret(-EOPNOTSUPP,
				  "lazy restore needs userfaultfd features this kernel lacks:%s",
				  names);
	}
	api.features = LP_UFFD_REQUIRED_FEATURES | (LP_UFFD_OPTIONAL_FEATURES & have);
	r = remote_write(rt->pid, rt->scratch, &api, sizeof(api));
	if (r < 0)
		return r;
	r = remote_call3(rt, &ret, SYS_ioctl, fd, UFFDIO_API, rt->scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: UFFDIO_API (features 0x%llx)", rt->pid,
				  (unsigned long long)api.features);
	return 0;
}

static int remote_register(struct remote *rt, long fd, const VmaEntry *v)
{
	struct uffdio_register reg = {.range = {.start = v->start, .len = v->end - v->start},
				      .mode = UFFDIO_REGISTER_MODE_MISSING};
	uint64_t need =
	    (1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_ZEROPAGE) | (1ull << _UFFDIO_WAKE);
	long ret;
	int r;

	r = remote_write(rt->pid, rt->scratch, &reg, sizeof(reg));
	if (r < 0)
		return r;
	r = remote_call3(rt, &ret, SYS_ioctl, fd, UFFDIO_REGISTER, rt->scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: UFFDIO_REGISTER of 0x%llx-0x%llx", rt->pid,
				  (unsigned long long)v->start, (unsigned long long)v->end);
	r = remote_read(rt->pid, rt->scratch, &reg, sizeof(reg));
	if (r < 0)
		return r;
	if ((reg.ioctls & need) != need)
		return pr_err_ret(
		    -EOPNOTSUPP, "task %d: 0x%llx-0x%llx registered without UFFDIO_COPY/ZEROPAGE",
		    rt->pid, (unsigned long long)v->start, (unsigned long long)v->end);
	return 0;
}

int uffd_create_in_task(struct remote *rt, const MmEntry *mm, const struct mm_pages *pages,
			int *ret_uffd)
{
	_cleanup_close_ int ours = -1;
	size_t nr_reg = 0;
	long fd = -1;
	int r;

	if (!rt->scratch || rt->scratch_len < sizeof(struct uffdio_register) + 64)
		return pr_err_ret(-EINVAL, "task %d: no scratch area for the userfaultfd calls",
				  rt->pid);
	r = remote_userfaultfd(rt, &fd);
	if (r < 0)
		return r;
	r = remote_api(rt, fd);
	for (size_t i = 0; r == 0 && i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->kind != VMA_KIND__VMA_ANON)
			continue;
		r = remote_register(rt, fd, v);
		nr_reg++;
	}
	/* Pages a reader faulted in before registration hold zeros, not the
	 * image's contents; from here on no page can appear behind our back. */
	if (r == 0) {
		int fixed = uffd_repair_early_pages(rt->pid, mm, pages);

		if (fixed < 0)
			r = fixed;
	}
	if (r == 0) {
		r = pidfd_take_fd(rt->pid, (int)fd, &ours);
		if (r < 0)
			pr_err_ret(r, "task %d: pidfd_getfd of its userfaultfd", rt->pid);
	}
	/* The task must not keep it: the daemon's copy is the only one. */
	if (remote_close(rt, fd) < 0 && r == 0)
		r = -ESRCH;
	if (r < 0)
		return r;
	pr_info("task %d: userfaultfd registered on %zu VMAs (%zu pagemap entries)\n", rt->pid,
		nr_reg, pages ? pages->nr_entries : 0);
	*ret_uffd = TAKE_FD(ours);
	return 0;
}

int uffd_socket_path(const char *work_dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", work_dir, LP_SOCKET_NAME);

	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return pr_err_ret(-ENAMETOOLONG, "%s/%s: path too long for a unix socket", work_dir,
				  LP_SOCKET_NAME);
	return 0;
}

static int send_hello(int sock, const struct lp_hello *h, int uffd, int pidfd)
{
	uint8_t buf[LP_HELLO_SIZE];
	char cbuf[CMSG_SPACE(LP_NR_FDS * sizeof(int))] = {0};
	int fds[LP_NR_FDS] = {[LP_FD_UFFD] = uffd, [LP_FD_PIDFD] = pidfd};
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int r;

	r = lp_hello_encode(h, buf, sizeof(buf));
	if (r < 0)
		return pr_err_ret(r, "bad hand-over of task %u (image set id or pid)",
				  h->image_pid);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
		return negerrno();
	return 0;
}

int uffd_send_to_daemon(const char *socket_path, uint32_t image_pid, pid_t task, uint32_t nr_tasks,
			const char *image_set_id, int uffd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int sock = -1, pidfd = -1;
	struct lp_hello h = {.image_pid = image_pid, .nr_tasks = nr_tasks};
	struct lp_reply rp;
	uint8_t buf[LP_REPLY_SIZE + 1];
	struct pollfd p;
	const char *why = NULL;
	ssize_t n;
	int r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return pr_err_ret(-ENAMETOOLONG, "%s: path too long for a unix socket",
				  socket_path);
	if (!image_set_id || strlen(image_set_id) != LP_IMAGE_SET_ID_LEN)
		return pr_err_ret(-EINVAL, "malformed image set id");
	strcpy(h.image_set_id, image_set_id);
	strcpy(sa.sun_path, socket_path);

	pidfd = (int)syscall(SYS_pidfd_open, task, 0);
	if (pidfd < 0)
		return pr_err_ret(negerrno(), "pidfd_open(%d)", task);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return pr_err_ret(negerrno(), "socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = negerrno();
		if (r == -ENOENT || r == -ECONNREFUSED)
			return pr_err_ret(r,
					  "no lazy-pages daemon is listening on %s (start relive "
					  "lazy-pages -D DIR first)",
					  socket_path);
		return pr_err_ret(r, "cannot connect to the lazy-pages daemon on %s", socket_path);
	}
	r = send_hello(sock, &h, uffd, pidfd);
	if (r < 0)
		return pr_err_ret(r, "cannot send task %u to the lazy-pages daemon on %s",
				  image_pid, socket_path);
	p = (struct pollfd){.fd = sock, .events = POLLIN};
	do
		r = poll(&p, 1, DAEMON_ANSWER_TIMEOUT_S * 1000);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return pr_err_ret(
		    r < 0 ? negerrno() : -ETIMEDOUT,
		    "the lazy-pages daemon on %s did not answer for task %u within %d s",
		    socket_path, image_pid, DAEMON_ANSWER_TIMEOUT_S);
	n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return pr_err_ret(negerrno(), "no answer from the lazy-pages daemon on %s",
				  socket_path);
	if (n == 0)
		return pr_err_ret(
		    -ECONNRESET,
		    "the lazy-pages daemon on %s hung up without answering for task %u",
		    socket_path, image_pid);
	r = lp_reply_decode(buf, (size_t)n, &rp, &why);
	if (r < 0)
		return pr_err_ret(r, "bad answer from the lazy-pages daemon on %s: %s", socket_path,
				  why);
	if (rp.status < 0)
		return pr_err_ret(rp.status, "the lazy-pages daemon refused task %u: %s", image_pid,
				  rp.message);
	pr_info("task %d (image %u): %s\n", task, image_pid, rp.message);
	return 0;
}
