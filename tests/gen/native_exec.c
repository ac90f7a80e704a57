/* native_exec.c - the reference for the model's per-instruction tests: runs
 * code snippets natively on this host's CPU, in ring 3 of a Linux process,
 * at the addresses the test harness uses (code at 0x100000, data at 0x200000,
 * stack at 0x300000; 0x600000 up not executable; nothing mapped from
 * 0x800000), and prints what the CPU
 * did: the vector it raised (from the signal's trap number), the RIP, RFLAGS,
 * error code and CR2 of that exception, the 16 general registers and the
 * first 256 bytes of the data area. A snippet ends with an appended UD2, so a
 * normal end is vector 6 at code+len.
 *
 * Input, one case per line: CODEHEX RFLAGS RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
 * (hex). Output, one line per case: "ok VECTOR RIP RFLAGS ERR CR2 R0..R15 DATAHEX"
 * or "error MESSAGE". Each case runs in its own child process. */
#define _GNU_SOURCE /* REG_* in ucontext.h, MAP_FIXED_NOREPLACE */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define RAM_LO   0x100000ul /* below: the model's tables, not reachable here */
#define RAM_HI   0x800000ul /* the harness's 8 MiB of RAM ends here */
#define CODE     0x100000ul
#define DATA     0x200000ul
#define DATA_LEN 256u
#define NX_BASE  0x600000ul /* from here to RAM_HI: not executable */
#define MAX_CODE 4096u

uint64_t vt_in[16];
uint64_t vt_in_rflags;
uint64_t vt_code = CODE;
void vt_enter(void);

/* Load every register from vt_in (RSP too) and jump to the snippet; the
 * flags go first, through this process's own stack. */
__asm__(".text\n"
        ".globl vt_enter\n"
        "vt_enter:\n"
        "  pushq vt_in_rflags(%rip)\n"
        "  popfq\n"
        "  movq vt_in+0(%rip), %rax\n"
        "  movq vt_in+8(%rip), %rcx\n"
        "  movq vt_in+16(%rip), %rdx\n"
        "  movq vt_in+24(%rip), %rbx\n"
        "  movq vt_in+40(%rip), %rbp\n"
        "  movq vt_in+48(%rip), %rsi\n"
        "  movq vt_in+56(%rip), %rdi\n"
        "  movq vt_in+64(%rip), %r8\n"
        "  movq vt_in+72(%rip), %r9\n"
        "  movq vt_in+80(%rip), %r10\n"
        "  movq vt_in+88(%rip), %r11\n"
        "  movq vt_in+96(%rip), %r12\n"
        "  movq vt_in+104(%rip), %r13\n"
        "  movq vt_in+112(%rip), %r14\n"
        "  movq vt_in+120(%rip), %r15\n"
        "  movq vt_in+32(%rip), %rsp\n"
        "  jmpq *vt_code(%rip)\n");

static int out_fd = 1;

static void put(char **p, const char *fmt, unsigned long long v) {
  *p += sprintf(*p, fmt, v);
}

/* The exception ends the snippet: report the state the kernel saved. */
static void on_trap(int sig, siginfo_t *si, void *ctx) {
  (void)si;
  const ucontext_t *uc = ctx;
  const greg_t *g = uc->uc_mcontext.gregs;
  static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};
  static char line[2048];
  char *p = line;
  if (sig == SIGALRM) {
    p += sprintf(p, "error the snippet did not end within 2 s\n");
  } else {
    p += sprintf(p, "ok");
    put(&p, " %llu", (unsigned long long)g[REG_TRAPNO]);
    put(&p, " %llx", (unsigned long long)g[REG_RIP]);
    put(&p, " %llx", (unsigned long long)g[REG_EFL]);
    put(&p, " %llx", (unsigned long long)g[REG_ERR]);
    put(&p, " %llx", (unsigned long long)g[REG_CR2]);
    for (int i = 0; i < 16; i++)
      put(&p, " %llx", (unsigned long long)g[order[i]]);
    *p++ = ' ';
    const uint8_t *d = (const uint8_t *)DATA;
    for (unsigned i = 0; i < DATA_LEN; i++)
      p += sprintf(p, "%02x", d[i]);
    *p++ = '\n';
  }
  ssize_t n = write(out_fd, line, (size_t)(p - line));
  _exit(n == p - line ? 0 : 3);
}

static void fail(const char *what) {
  dprintf(out_fd, "error %s: %s\n", what, strerror(errno));
  _exit(2);
}

/* In the child: map the harness's address space, place the code, run it. */
static void run_case(const uint8_t *code, size_t len) {
  void *hole = mmap((void *)RAM_HI, 0x200000, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (hole != (void *)RAM_HI) fail("0x800000..0xa00000 is not free (a case faults there)");
  munmap(hole, 0x200000);
  void *ram = mmap((void *)RAM_LO, RAM_HI - RAM_LO, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (ram != (void *)RAM_LO) fail("mapping 0x100000..0x800000");
  /* the harness maps its last 2 MiB not executable (test_model_harness.h) */
  if (mprotect((void *)NX_BASE, RAM_HI - NX_BASE, PROT_READ | PROT_WRITE) < 0) fail("mprotect");
  memcpy((void *)CODE, code, len);
  ((uint8_t *)CODE)[len] = 0x0f; /* ud2 */
  ((uint8_t *)CODE)[len + 1] = 0x0b;

  stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16};
  if (!ss.ss_sp || sigaltstack(&ss, NULL) < 0) fail("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  const int sigs[] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGALRM};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) < 0) fail("sigaction");
  alarm(2);
  vt_enter();
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(void) {
  static char line[16384];
  static uint8_t code[MAX_CODE];
  while (fgets(line, sizeof line, stdin)) {
    char *save = NULL, *tok = strtok_r(line, " \n", &save);
    if (!tok) continue;
    size_t n = strlen(tok) / 2;
    int bad = strlen(tok) % 2 != 0 || n > MAX_CODE - 2;
    for (size_t i = 0; !bad && i < n; i++) {
      int hi = hexval(tok[2 * i]), lo = hexval(tok[2 * i + 1]);
      if (hi < 0 || lo < 0) bad = 1;
      code[i] = (uint8_t)(hi << 4 | lo);
    }
    uint64_t vals[17];
    for (int i = 0; !bad && i < 17; i++) {
      tok = strtok_r(NULL, " \n", &save);
      if (!tok)
        bad = 1;
      else
        vals[i] = strtoull(tok, NULL, 16);
    }
    if (bad) {
      printf("error malformed input line (want CODEHEX RFLAGS and 16 registers in hex)\n");
      fflush(stdout);
      continue;
    }
    vt_in_rflags = vals[0];
    memcpy(vt_in, vals + 1, sizeof vt_in);
    int fds[2];
    if (pipe(fds) < 0) return perror("pipe"), 2;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 2;
    if (pid == 0) {
      close(fds[0]);
      out_fd = fds[1];
      run_case(code, n);
      _exit(4);
    }
    close(fds[1]);
    char buf[2048];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
      got += (size_t)r;
    close(fds[0]);
    buf[got] = 0;
    int st;
    waitpid(pid, &st, 0);
    if (got == 0)
      printf("error the child ended without a report (status 0x%x)\n", st);
    else
      fputs(buf, stdout);
    fflush(stdout);
  }
  return 0;
}
