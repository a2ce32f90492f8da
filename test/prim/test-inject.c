// SPDX-License-Identifier: GPL-2.0-or-later
/* Remote syscalls in a live child: results, registers and restarts kept. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"
#include "log.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static int find_vdso(pid_t pid, unsigned long *s, unsigned long *e)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vdso]")) {
			sscanf(line, "%lx-%lx", s, e);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static pid_t seize_stopped(pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
		return -1;
	if (waitpid(pid, &status, __WALL) < 0)
		return -1;
	return pid;
}

/* The child sleeps 300 ms in nanosleep, then exits 0 if it saw no EINTR. */
static void child_sleeper(void)
{
	struct timespec ts = {0, 300 * 1000 * 1000};
	int r = nanosleep(&ts, NULL);

	_exit(r == 0 ? 0 : 3);
}

int main(void)
{
	unsigned long vs, ve, ip;
	struct remote rt;
	long ret;
	int status;
	pid_t pid;

	log_init(LOG_WARN, NULL);
	pid = fork();
	if (pid == 0)
		child_sleeper();
	usleep(50 * 1000);
	CHECK(seize_stopped(pid) == pid);
	CHECK(find_vdso(pid, &vs, &ve) == 0);
	CHECK(remote_find_syscall_insn(pid, vs, ve, &ip) == 0);
	CHECK(remote_init(&rt, pid, ip) == 0);
	CHECK(regs_in_restartable_syscall(&rt.regs));

	CHECK(remote_call0(&rt, &ret, SYS_getpid) == 0);
	CHECK(ret == pid);
	CHECK(remote_call1(&rt, &ret, SYS_close, 12345) == 0);
	CHECK(ret == -EBADF);
	CHECK(remote_map_scratch(&rt, 4096) == 0);
	CHECK(rt.scratch != 0);
	CHECK(remote_write(pid, rt.scratch, "hello", 6) == 0);
	char buf[8] = "";
	CHECK(remote_read(pid, rt.scratch, buf, 6) == 0);
	CHECK(strcmp(buf, "hello") == 0);
	CHECK(remote_unmap_scratch(&rt) == 0);
	CHECK(remote_fini(&rt) == 0);
	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	/* nanosleep was re-executed, not failed with EINTR */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
