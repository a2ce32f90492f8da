// SPDX-License-Identifier: GPL-2.0-or-later
/* glibc's rseq registration survives: cpu_id follows the CPU the thread runs on. */
#include <errno.h>
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "case.h"

#ifndef RSEQ_SIG
#define RSEQ_SIG 0x53053053
#endif

static struct rseq *rseq_area(void)
{
	char *tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (struct rseq *)(tp + __rseq_offset);
}

/* Before the dump a mismatch is a broken machine, after it a broken restore. */
#define bad(...)                                                                                   \
	do {                                                                                       \
		if (setup)                                                                         \
			test_setup_failed(__VA_ARGS__);                                            \
		fail(__VA_ARGS__);                                                                 \
	} while (0)

static void check(bool setup)
{
	volatile struct rseq *rs = rseq_area();
	cpu_set_t orig, one;
	long r;
	int tries = 0, ok = 0;

	/* Registering the same area again answers EBUSY only while it is
	 * registered; EINVAL means another area or length is registered. */
	r = syscall(SYS_rseq, rs, 32, 0, RSEQ_SIG);
	if (r == 0)
		bad("rseq was not registered (a new registration succeeded)");
	if (errno != EBUSY)
		bad("re-registering glibc's rseq area gives %m, not EBUSY");

	if (sched_getaffinity(0, sizeof(orig), &orig) < 0)
		bad("sched_getaffinity: %m");
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &orig))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			bad("sched_setaffinity(%d): %m", cpu);
		for (int i = 0; i < 3; i++) {
			unsigned sys_cpu = ~0u;

			/* Pinned: the kernel's answer and rseq's must agree. */
			tries++;
			if (syscall(SYS_getcpu, &sys_cpu, NULL, NULL) < 0)
				bad("getcpu: %m");
			if (sys_cpu != (unsigned)cpu)
				continue; /* not migrated yet */
			if (rs->cpu_id != (uint32_t)cpu || rs->cpu_id_start != (uint32_t)cpu)
				bad("pinned to CPU %d, the rseq area says cpu_id %u start %u", cpu,
				    rs->cpu_id, rs->cpu_id_start);
			if (sched_getcpu() != cpu)
				bad("pinned to CPU %d, sched_getcpu() says %d", cpu,
				    sched_getcpu());
			ok++;
		}
	}
	if (sched_setaffinity(0, sizeof(orig), &orig) < 0)
		bad("sched_setaffinity: %m");
	if (!ok)
		bad("never ran on the CPU it was pinned to (%d tries)", tries);
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	if (__rseq_size == 0)
		test_setup_failed("glibc did not register rseq (__rseq_size is 0)");
	check(true);
	test_ready();

	test_wait_stop();
	check(false);
	pass();
}
