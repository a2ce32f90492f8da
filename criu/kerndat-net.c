// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel probes for sockets: NETLINK_SOCK_DIAG dumps through libnl. */
#define LOG_PREFIX "kerndat: "

#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kerndat-probe.h"
#include "kerndat.h"
#include "util.h"

static void nl_sock_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

static void nl_msg_freep(struct nl_msg **msg)
{
	if (*msg)
		nlmsg_free(*msg);
}

/*
 * Send a SOCK_DIAG_BY_FAMILY dump request and look at the first reply: an
 * NLMSG_ERROR means the kernel cannot dump that family. Returns the number
 * of sockets in the first reply (0 for an empty dump), or -errno; libnl's
 * own failures are described in why.
 */
static int sock_diag_dump(const void *req, size_t len, const char **why)
{
	_cleanup_(nl_sock_freep) struct nl_sock *sk = nl_socket_alloc();
	_cleanup_(nl_msg_freep) struct nl_msg *msg = NULL;
	_cleanup_free_ unsigned char *buf = NULL;
	struct sockaddr_nl peer;
	struct nlmsghdr *h;
	int n, err, count = 0;

	*why = "netlink";
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (err < 0) {
		*why = nl_geterror(err);
		return -EIO;
	}
	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	err = nlmsg_append(msg, (void *)req, len, NLMSG_ALIGNTO);
	if (err >= 0)
		err = nl_send_auto(sk, msg);
	if (err < 0) {
		*why = nl_geterror(err);
		return -EIO;
	}
	n = nl_recv(sk, &peer, &buf, NULL);
	if (n <= 0) {
		*why = n < 0 ? nl_geterror(n) : "no reply";
		return -EIO;
	}
	for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = nlmsg_data(h);

			*why = "kernel";
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error < 0 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type == NLMSG_DONE)
			break;
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			count++;
	}
	return count;
}

void kerndat_probe_sock_diag(struct kerndat *kd)
{
	struct unix_diag_req ureq = {
	    .sdiag_family = AF_UNIX,
	    .udiag_states = ~0u,
	    .udiag_show = UDIAG_SHOW_NAME,
	};
	struct inet_diag_req_v2 ireq = {
	    .sdiag_family = AF_INET,
	    .sdiag_protocol = IPPROTO_TCP,
	    .idiag_states = ~0u,
	};
	const char *why;
	int n;

	n = sock_diag_dump(&ureq, sizeof(ureq), &why);
	if (n < 0)
		kd_set_item(kd, KD_SOCK_DIAG_UNIX, false, "unix dump (%s): %s", why, strerror(-n));
	else
		kd_set_item(kd, KD_SOCK_DIAG_UNIX, true, "unix dump answered (%d in first reply)",
			    n);
	n = sock_diag_dump(&ireq, sizeof(ireq), &why);
	if (n < 0)
		kd_set_item(kd, KD_SOCK_DIAG_INET, false, "tcp dump (%s): %s", why, strerror(-n));
	else
		kd_set_item(kd, KD_SOCK_DIAG_INET, true, "tcp dump answered (%d in first reply)",
			    n);
}
