// SPDX-License-Identifier: GPL-2.0-or-later
/* SSE/AVX/AVX-512 registers, MXCSR and the x87 control word held live across the dump. */
#include <cpuid.h>
#include <string.h>

#include "case.h"

/* xmm/ymm/zmm 0-13 (and zmm16-31) hold values; 14-15 are scratch. */
#define MXCSR_WANT 0xffc0u /* round toward zero, FTZ, DAZ, all masked */
#define FCW_WANT   0x0b7fu /* round up, 64-bit precision, all masked */

static uint8_t expect[16][32] __attribute__((aligned(32)));
/* zmm0-13 and zmm16-31 (index = register number), then k1-k7 as 16-bit words. */
static uint8_t expect512[32][64] __attribute__((aligned(64)));
static uint16_t expect_k[8];

static bool have_avx(void)
{
	unsigned a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	if (!(c & bit_AVX) || !(c & bit_OSXSAVE))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6; /* the OS saves SSE and AVX state */
}

static bool have_avx512(void)
{
	unsigned a, b, c, d, lo, hi;

	if (!have_avx() || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512F))
		return false;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 0xe0) == 0xe0; /* opmask, ZMM_Hi256 and Hi16_ZMM state */
}

/* One register check: copy to the scratch register, xor with the expected
 * value, any bit left set means the register changed. */
#define CHECK_XMM(i)                                                                               \
	"mov $" #i ", %%r8d\n\t"                                                                   \
	"movdqa %%xmm" #i ", %%xmm15\n\t"                                                          \
	"pxor " #i "*32(%[e]), %%xmm15\n\t"                                                        \
	"ptest %%xmm15, %%xmm15\n\t"                                                               \
	"jnz 8f\n\t"
#define CHECK_YMM(i)                                                                               \
	"mov $" #i ", %%r8d\n\t"                                                                   \
	"vxorps " #i "*32(%[e]), %%ymm" #i ", %%ymm15\n\t"                                         \
	"vptest %%ymm15, %%ymm15\n\t"                                                              \
	"jnz 8f\n\t"
#define LOAD_XMM(i) "movdqa " #i "*32(%[e]), %%xmm" #i "\n\t"
#define LOAD_YMM(i) "vmovdqa " #i "*32(%[e]), %%ymm" #i "\n\t"
#define ALL14(M)    M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13)

/* The control registers are checked in the same loop (results 101 and 102). */
#define CHECK_CONTROL                                                                              \
	"mov $100, %%r8d\n\t"                                                                      \
	"stmxcsr %[mx_now]\n\t"                                                                    \
	"mov %[mx_now], %%r9d\n\t"                                                                 \
	"cmp %[mx_want], %%r9d\n\t"                                                                \
	"jne 8f\n\t"                                                                               \
	"mov $101, %%r8d\n\t"                                                                      \
	"fnstcw %[cw_now]\n\t"                                                                     \
	"movzwl %[cw_now], %%r9d\n\t"                                                              \
	"cmp %[cw_want32], %%r9d\n\t"                                                              \
	"jne 8f\n\t"

/*
 * Load the registers and loop until *stop, never leaving the asm block, so
 * no compiled code can touch them. Returns 0, or 1 + the number of the
 * register found changed (101 MXCSR, 102 x87 control word).
 */
static int hold_sse(volatile sig_atomic_t *stop, unsigned long *iters)
{
	uint32_t mx_want = MXCSR_WANT, mx_now = 0;
	uint16_t cw_want = FCW_WANT, cw_now = 0;
	uint32_t cw_want32 = FCW_WANT;
	unsigned long n = 0;
	int ret;

	__asm__ volatile("ldmxcsr %[mx_want]\n\t"
			 "fldcw %[cw_want]\n\t" ALL14(LOAD_XMM) "1:\n\t" ALL14(CHECK_XMM)
			     CHECK_CONTROL "inc %[n]\n\t"
					   "mov (%[stop]), %%eax\n\t"
					   "test %%eax, %%eax\n\t"
					   "jz 1b\n\t"
					   "xor %%eax, %%eax\n\t"
					   "jmp 9f\n"
					   "8:\n\t"
					   "lea 1(%%r8), %%eax\n"
					   "9:\n\t"
			 : "=&a"(ret), [n] "+r"(n), [mx_now] "=m"(mx_now), [cw_now] "=m"(cw_now)
			 : [e] "r"(expect), [stop] "r"(stop), [mx_want] "m"(mx_want),
			   [cw_want] "m"(cw_want), [cw_want32] "m"(cw_want32)
			 : "r8", "r9", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			   "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
			   "xmm13", "xmm14", "xmm15");
	*iters = n;
	return ret;
}

static int hold_avx(volatile sig_atomic_t *stop, unsigned long *iters)
{
	uint32_t mx_want = MXCSR_WANT, mx_now = 0;
	uint16_t cw_want = FCW_WANT, cw_now = 0;
	uint32_t cw_want32 = FCW_WANT;
	unsigned long n = 0;
	int ret;

	__asm__ volatile("ldmxcsr %[mx_want]\n\t"
			 "fldcw %[cw_want]\n\t" ALL14(LOAD_YMM) "1:\n\t" ALL14(CHECK_YMM)
			     CHECK_CONTROL "inc %[n]\n\t"
					   "mov (%[stop]), %%eax\n\t"
					   "test %%eax, %%eax\n\t"
					   "jz 1b\n\t"
					   "xor %%eax, %%eax\n\t"
					   "jmp 9f\n"
					   "8:\n\t"
					   "lea 1(%%r8), %%eax\n"
					   "9:\n\t"
					   "vzeroupper\n\t"
			 : "=&a"(ret), [n] "+r"(n), [mx_now] "=m"(mx_now), [cw_now] "=m"(cw_now)
			 : [e] "r"(expect), [stop] "r"(stop), [mx_want] "m"(mx_want),
			   [cw_want] "m"(cw_want), [cw_want32] "m"(cw_want32)
			 : "r8", "r9", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			   "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
			   "xmm13", "xmm14", "xmm15");
	*iters = n;
	return ret;
}

/* zmm: compare all eight qwords into k0; opmask registers one by one. */
#define CHECK_ZMM(i)                                                                               \
	"mov $" #i ", %%r8d\n\t"                                                                   \
	"vpcmpeqq " #i "*64(%[z]), %%zmm" #i ", %%k0\n\t"                                          \
	"kmovw %%k0, %%r9d\n\t"                                                                    \
	"cmp $0xff, %%r9d\n\t"                                                                     \
	"jne 8f\n\t"
#define CHECK_K(i)                                                                                 \
	"mov $" #i "+200, %%r8d\n\t"                                                               \
	"kmovw %%k" #i ", %%r9d\n\t"                                                               \
	"cmpw " #i "*2(%[k]), %%r9w\n\t"                                                           \
	"jne 8f\n\t"
#define LOAD_ZMM(i) "vmovdqa64 " #i "*64(%[z]), %%zmm" #i "\n\t"
#define LOAD_K(i)   "kmovw " #i "*2(%[k]), %%k" #i "\n\t"
#define ALL30(M)                                                                                   \
	ALL14(M)                                                                                   \
	M(16)                                                                                      \
	M(17) M(18) M(19) M(20) M(21) M(22) M(23) M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)
#define ALLK(M) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

/* Returns like hold_sse; 201-207 name an opmask register k1-k7. */
__attribute__((target("avx512f"))) static int hold_avx512(volatile sig_atomic_t *stop,
							  unsigned long *iters)
{
	uint32_t mx_want = MXCSR_WANT, mx_now = 0;
	uint16_t cw_want = FCW_WANT, cw_now = 0;
	uint32_t cw_want32 = FCW_WANT;
	unsigned long n = 0;
	int ret;

	__asm__ volatile(
	    "ldmxcsr %[mx_want]\n\t"
	    "fldcw %[cw_want]\n\t" ALL30(LOAD_ZMM) ALLK(LOAD_K) "1:\n\t" ALL30(CHECK_ZMM)
		ALLK(CHECK_K) CHECK_CONTROL "inc %[n]\n\t"
					    "mov (%[stop]), %%eax\n\t"
					    "test %%eax, %%eax\n\t"
					    "jz 1b\n\t"
					    "xor %%eax, %%eax\n\t"
					    "jmp 9f\n"
					    "8:\n\t"
					    "lea 1(%%r8), %%eax\n"
					    "9:\n\t"
					    "vzeroupper\n\t"
	    : "=&a"(ret), [n] "+r"(n), [mx_now] "=m"(mx_now), [cw_now] "=m"(cw_now)
	    : [z] "r"(expect512), [k] "r"(expect_k), [stop] "r"(stop), [mx_want] "m"(mx_want),
	      [cw_want] "m"(cw_want), [cw_want32] "m"(cw_want32)
	    : "r8", "r9", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	      "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm16", "xmm17", "xmm18",
	      "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",
	      "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
	*iters = n;
	return ret;
}

int main(int argc, char **argv)
{
	const char *isa, *force;
	unsigned long iters = 0;
	uint32_t mx_default = 0x1f80;
	uint16_t cw_default = 0x037f;
	int r;

	test_init(argc, argv);
	isa = have_avx512() ? "avx512" : have_avx() ? "avx" : "sse";
	/* --isa=sse or avx tests a smaller register file on a bigger machine. */
	force = test_opt("isa");
	if (force && (!strcmp(force, "sse") || (!strcmp(force, "avx") && strcmp(isa, "sse"))))
		isa = force;
	test_fill(expect, sizeof(expect), 0xf00d);
	test_fill(expect512, sizeof(expect512), 0xbeef);
	for (int i = 0; i < 8; i++)
		expect_k[i] = (uint16_t)test_pattern(0xcafe, i);
	test_ready();

	if (!strcmp(isa, "avx512"))
		r = hold_avx512(test_stop_flag(), &iters);
	else if (!strcmp(isa, "avx"))
		r = hold_avx(test_stop_flag(), &iters);
	else
		r = hold_sse(test_stop_flag(), &iters);
	__asm__ volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mx_default), "m"(cw_default));
	if (r == 101)
		fail("MXCSR changed (expected %#x)", MXCSR_WANT);
	if (r == 102)
		fail("the x87 control word changed (expected %#x)", FCW_WANT);
	if (r > 200)
		fail("opmask register k%d changed after %lu checks", r - 201, iters);
	if (r)
		fail("%s%d changed after %lu checks (%s loop)",
		     !strcmp(isa, "avx512") ? "zmm"
		     : !strcmp(isa, "avx")  ? "ymm"
					    : "xmm",
		     r - 1, iters, isa);
	if (iters < 1000)
		fail("the register loop ran only %lu times", iters);
	test_msg("%s registers held over %lu checks", isa, iters);
	pass();
}
