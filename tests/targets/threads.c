/* Threads target: several threads, each holding distinctive values live in
 * its AVX registers (ymm0..ymm15) and callee-saved general registers
 * across the wait, inside one inline-asm block that sleeps in futex(), and
 * its own TLS values and thread name. After SIGUSR1 the main thread wakes
 * them; each stores its registers and checks them, and its TLS.
 *
 *	threads [-n NR]		(default 4 threads besides the main one)
 *
 * A dump must save every thread's xsave area and registers; a restore must
 * bring each back exactly. */
#include <linux/futex.h>
#include <stddef.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "target.h"

#define MAX_THREADS	64

struct ymm_set {
	uint64_t q[16][4];	/* ymm0..ymm15, four quadwords each */
};

struct gpr_set {
	uint64_t rbx, r12, r13, r14, r15;
};

struct worker {
	pthread_t thread;
	unsigned idx;
	pid_t tid;
	struct ymm_set in, out;
	struct gpr_set gin, gout;
	char name[16];
	const char *fail;
} __attribute__((aligned(32)));

static struct worker workers[MAX_THREADS];
static unsigned nr_workers = 4;
static volatile int wake_flag;
static pthread_barrier_t started;

static __thread uint64_t tls_value = 0x7715;
static __thread char tls_text[64];
static __thread uint64_t tls_array[512];

/* Load ymm0..15 and five callee-saved registers, sleep in futex() until
 * wake_flag is set (the loop touches only rax, rcx, rdx, rsi, rdi, r10,
 * r11, which the syscall ABI clobbers anyway), then store them all. */
static void hold_registers(struct worker *w)
{
	/* the worker pointer lives in r9, which neither the loop nor the
	 * syscall touches */
	register struct worker *wr __asm__("r9") = w;

	__asm__ volatile(
		"vmovdqu %c[in]+0x000(%[w]), %%ymm0\n\t"
		"vmovdqu %c[in]+0x020(%[w]), %%ymm1\n\t"
		"vmovdqu %c[in]+0x040(%[w]), %%ymm2\n\t"
		"vmovdqu %c[in]+0x060(%[w]), %%ymm3\n\t"
		"vmovdqu %c[in]+0x080(%[w]), %%ymm4\n\t"
		"vmovdqu %c[in]+0x0a0(%[w]), %%ymm5\n\t"
		"vmovdqu %c[in]+0x0c0(%[w]), %%ymm6\n\t"
		"vmovdqu %c[in]+0x0e0(%[w]), %%ymm7\n\t"
		"vmovdqu %c[in]+0x100(%[w]), %%ymm8\n\t"
		"vmovdqu %c[in]+0x120(%[w]), %%ymm9\n\t"
		"vmovdqu %c[in]+0x140(%[w]), %%ymm10\n\t"
		"vmovdqu %c[in]+0x160(%[w]), %%ymm11\n\t"
		"vmovdqu %c[in]+0x180(%[w]), %%ymm12\n\t"
		"vmovdqu %c[in]+0x1a0(%[w]), %%ymm13\n\t"
		"vmovdqu %c[in]+0x1c0(%[w]), %%ymm14\n\t"
		"vmovdqu %c[in]+0x1e0(%[w]), %%ymm15\n\t"
		"mov %c[gin]+0x00(%[w]), %%rbx\n\t"
		"mov %c[gin]+0x08(%[w]), %%r12\n\t"
		"mov %c[gin]+0x10(%[w]), %%r13\n\t"
		"mov %c[gin]+0x18(%[w]), %%r14\n\t"
		"mov %c[gin]+0x20(%[w]), %%r15\n\t"
		"1:\n\t"
		"mov %[flag], %%eax\n\t"
		"test %%eax, %%eax\n\t"
		"jnz 2f\n\t"
		"mov %[nr], %%eax\n\t"
		"lea %[flag], %%rdi\n\t"
		"mov %[op], %%esi\n\t"
		"xor %%edx, %%edx\n\t"
		"xor %%r10d, %%r10d\n\t"
		"syscall\n\t"
		"jmp 1b\n\t"
		"2:\n\t"
		"mov %%rbx, %c[gout]+0x00(%[w])\n\t"
		"mov %%r12, %c[gout]+0x08(%[w])\n\t"
		"mov %%r13, %c[gout]+0x10(%[w])\n\t"
		"mov %%r14, %c[gout]+0x18(%[w])\n\t"
		"mov %%r15, %c[gout]+0x20(%[w])\n\t"
		"vmovdqu %%ymm0, %c[out]+0x000(%[w])\n\t"
		"vmovdqu %%ymm1, %c[out]+0x020(%[w])\n\t"
		"vmovdqu %%ymm2, %c[out]+0x040(%[w])\n\t"
		"vmovdqu %%ymm3, %c[out]+0x060(%[w])\n\t"
		"vmovdqu %%ymm4, %c[out]+0x080(%[w])\n\t"
		"vmovdqu %%ymm5, %c[out]+0x0a0(%[w])\n\t"
		"vmovdqu %%ymm6, %c[out]+0x0c0(%[w])\n\t"
		"vmovdqu %%ymm7, %c[out]+0x0e0(%[w])\n\t"
		"vmovdqu %%ymm8, %c[out]+0x100(%[w])\n\t"
		"vmovdqu %%ymm9, %c[out]+0x120(%[w])\n\t"
		"vmovdqu %%ymm10, %c[out]+0x140(%[w])\n\t"
		"vmovdqu %%ymm11, %c[out]+0x160(%[w])\n\t"
		"vmovdqu %%ymm12, %c[out]+0x180(%[w])\n\t"
		"vmovdqu %%ymm13, %c[out]+0x1a0(%[w])\n\t"
		"vmovdqu %%ymm14, %c[out]+0x1c0(%[w])\n\t"
		"vmovdqu %%ymm15, %c[out]+0x1e0(%[w])\n\t"
		"vzeroupper\n\t"
		: [flag] "+m"(wake_flag)
		: [w] "r"(wr),
		  [in] "i"(offsetof(struct worker, in)),
		  [out] "i"(offsetof(struct worker, out)),
		  [gin] "i"(offsetof(struct worker, gin)),
		  [gout] "i"(offsetof(struct worker, gout)),
		  [nr] "i"(SYS_futex), [op] "i"(FUTEX_WAIT_PRIVATE)
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "r12",
		  "r13", "r14", "r15", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
		  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t seed = 0x5000 + w->idx;
	char name[16];

	w->tid = syscall(SYS_gettid);
	for (unsigned r = 0; r < 16; r++)
		for (unsigned q = 0; q < 4; q++)
			w->in.q[r][q] = target_pattern(seed, r * 4 + q);
	w->gin = (struct gpr_set){ target_pattern(seed, 100), target_pattern(seed, 101),
				   target_pattern(seed, 102), target_pattern(seed, 103),
				   target_pattern(seed, 104) };
	tls_value = target_pattern(seed, 200);
	snprintf(tls_text, sizeof(tls_text), "thread %u of %d", w->idx, getpid());
	target_fill(tls_array, sizeof(tls_array), seed + 1);
	snprintf(w->name, sizeof(w->name), "worker-%u", w->idx);
	prctl(PR_SET_NAME, w->name);

	pthread_barrier_wait(&started);
	hold_registers(w);

	if (memcmp(&w->in, &w->out, sizeof(w->in)))
		w->fail = "ymm registers differ";
	else if (memcmp(&w->gin, &w->gout, sizeof(w->gin)))
		w->fail = "callee-saved registers differ";
	else if (tls_value != target_pattern(seed, 200))
		w->fail = "TLS value differs";
	else if (target_check(tls_array, sizeof(tls_array), seed + 1) >= 0)
		w->fail = "TLS array differs";
	else if (w->tid != syscall(SYS_gettid))
		w->fail = "thread id changed";
	else if (prctl(PR_GET_NAME, name) || strcmp(name, w->name))
		w->fail = "thread name changed";
	else {
		char want[64];

		snprintf(want, sizeof(want), "thread %u of %d", w->idx, getpid());
		if (strcmp(tls_text, want))
			w->fail = "TLS text differs";
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: threads [-n NR]\n");
			return 2;
		}
		nr_workers = strtoul(optarg, NULL, 0);
		if (nr_workers < 1 || nr_workers > MAX_THREADS)
			nr_workers = 4;
	}
	target_init();
	tls_value = 0x1234;
	pthread_barrier_init(&started, NULL, nr_workers + 1);
	for (unsigned i = 0; i < nr_workers; i++) {
		workers[i].idx = i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			target_fail("pthread_create %u", i);
	}
	pthread_barrier_wait(&started);
	/* let every worker reach its futex wait */
	for (unsigned i = 0; i < nr_workers; i++) {
		char path[64], state = 0;
		FILE *f;

		for (int tries = 0; tries < 1000 && state != 'S'; tries++) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/stat", workers[i].tid);
			f = fopen(path, "re");
			if (f) {
				if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
					state = 0;
				fclose(f);
			}
			if (state != 'S')
				usleep(1000);
		}
	}

	target_ready();
	target_wait();

	wake_flag = 1;
	syscall(SYS_futex, &wake_flag, FUTEX_WAKE_PRIVATE, MAX_THREADS, NULL, NULL, 0);
	for (unsigned i = 0; i < nr_workers; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].fail)
			target_fail("thread %u (tid %d): %s", i, workers[i].tid, workers[i].fail);
	}
	if (tls_value != 0x1234)
		target_fail("main thread TLS value differs");
	target_pass();
}
