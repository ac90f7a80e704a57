/* test_model_exec.c - per-instruction tests of the model CPU: hand-assembled
 * snippets (bytes from GNU as, the source in each comment) run from a given
 * register state; registers, flags, memory and the delivered exception are
 * checked against values derived from the Intel SDM by hand. Undefined flags
 * are left out of each case's flag mask. Cases are generated once from a
 * table (kept in the comments) and embedded here. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "test_model_harness.h"

struct xcheck {
  int reg;
  uint64_t val;
};
struct xdata {
  unsigned off, len;
  const char *bytes;
};
struct xcase {
  const char *name;
  const uint8_t *code;
  size_t len;
  int cpl;
  uint64_t flags_in;
  uint64_t regs_in[16];
  int vector;            /* expected exception vector (6 = normal end at the UD2) */
  struct xcheck exp[8];  /* registers to check (val) */
  uint64_t flags_exp, flags_mask;
  int rip_off;           /* expected frame RIP - TM_CODE, -1 unchecked */
  int64_t err;           /* expected error code, -1 unchecked */
  bool check_cr2;
  uint64_t cr2;
  struct xdata data[4];
  int ndata;
};

/* generated cases: see tests/unit/test_model_exec.c for the format */
static const uint8_t code_0[] = {0x00, 0xd8}; /* add al, bl */
static const uint8_t code_1[] = {0x00, 0xd8}; /* add al, bl */
static const uint8_t code_2[] = {0x48, 0x01, 0xd8}; /* add rax, rbx */
static const uint8_t code_3[] = {0x01, 0xd8}; /* add eax, ebx */
static const uint8_t code_4[] = {0x66, 0x01, 0xd8}; /* add ax, bx */
static const uint8_t code_5[] = {0x29, 0xd8}; /* sub eax, ebx */
static const uint8_t code_6[] = {0x28, 0xd8}; /* sub al, bl */
static const uint8_t code_7[] = {0x39, 0xd8}; /* cmp eax, ebx */
static const uint8_t code_8[] = {0x48, 0x83, 0xf8, 0xff}; /* cmp rax, -1 */
static const uint8_t code_9[] = {0xf9, 0xfe, 0xc0}; /* stc; inc al */
static const uint8_t code_10[] = {0x48, 0xff, 0xc0}; /* inc rax */
static const uint8_t code_11[] = {0xf8, 0xfe, 0xc8}; /* clc; dec al */
static const uint8_t code_12[] = {0xf9, 0x48, 0x11, 0xd8}; /* stc; adc rax, rbx */
static const uint8_t code_13[] = {0xf9, 0x10, 0xd8}; /* stc; adc al, bl */
static const uint8_t code_14[] = {0xf9, 0x19, 0xd8}; /* stc; sbb eax, ebx */
static const uint8_t code_15[] = {0xf9, 0x18, 0xd8}; /* stc; sbb al, bl */
static const uint8_t code_16[] = {0x48, 0xf7, 0xd8}; /* neg rax */
static const uint8_t code_17[] = {0xf6, 0xd8}; /* neg al */
static const uint8_t code_18[] = {0xf9, 0x21, 0xd8}; /* stc; and eax, ebx */
static const uint8_t code_19[] = {0x31, 0xc0}; /* xor eax, eax */
static const uint8_t code_20[] = {0x48, 0x85, 0xc0}; /* test rax, rax */
static const uint8_t code_21[] = {0xd2, 0xe0}; /* shl al, cl */
static const uint8_t code_22[] = {0x48, 0xd3, 0xe0}; /* shl rax, cl */
static const uint8_t code_23[] = {0xd0, 0xe0}; /* shl al, 1 */
static const uint8_t code_24[] = {0xd0, 0xe0}; /* shl al, 1 */
static const uint8_t code_25[] = {0xd2, 0xe0}; /* shl al, cl */
static const uint8_t code_26[] = {0xd0, 0xe8}; /* shr al, 1 */
static const uint8_t code_27[] = {0xd3, 0xe8}; /* shr eax, cl */
static const uint8_t code_28[] = {0xd0, 0xf8}; /* sar al, 1 */
static const uint8_t code_29[] = {0x48, 0xc1, 0xf8, 0x3f}; /* sar rax, 63 */
static const uint8_t code_30[] = {0xd0, 0xc0}; /* rol al, 1 */
static const uint8_t code_31[] = {0xd0, 0xc8}; /* ror al, 1 */
static const uint8_t code_32[] = {0xd3, 0xc0}; /* rol eax, cl */
static const uint8_t code_33[] = {0xf9, 0xd0, 0xd0}; /* stc; rcl al, 1 */
static const uint8_t code_34[] = {0xf8, 0xd0, 0xd8}; /* clc; rcr al, 1 */
static const uint8_t code_35[] = {0xf8, 0x66, 0xd3, 0xd0}; /* clc; rcl ax, cl */
static const uint8_t code_36[] = {0x0f, 0xa4, 0xd8, 0x04}; /* shld eax, ebx, 4 */
static const uint8_t code_37[] = {0x48, 0x0f, 0xac, 0xd8, 0x08}; /* shrd rax, rbx, 8 */
static const uint8_t code_38[] = {0x48, 0xf7, 0xe3}; /* mul rbx */
static const uint8_t code_39[] = {0xf6, 0xe3}; /* mul bl */
static const uint8_t code_40[] = {0xf7, 0xe3}; /* mul ebx */
static const uint8_t code_41[] = {0x48, 0x0f, 0xaf, 0xc3}; /* imul rax, rbx */
static const uint8_t code_42[] = {0x6b, 0xc3, 0x02}; /* imul eax, ebx, 2 */
static const uint8_t code_43[] = {0x66, 0xf7, 0xeb}; /* imul bx */
static const uint8_t code_44[] = {0x48, 0xf7, 0xf3}; /* div rbx */
static const uint8_t code_45[] = {0xf6, 0xf3}; /* div bl */
static const uint8_t code_46[] = {0x48, 0xf7, 0xf3}; /* div rbx */
static const uint8_t code_47[] = {0x48, 0xf7, 0xf3}; /* div rbx */
static const uint8_t code_48[] = {0x48, 0xf7, 0xfb}; /* idiv rbx */
static const uint8_t code_49[] = {0xf7, 0xf9}; /* idiv ecx */
static const uint8_t code_50[] = {0xf6, 0xfb}; /* idiv bl */
static const uint8_t code_51[] = {0xf3, 0xaa}; /* rep stosb */
static const uint8_t code_52[] = {0xfd, 0xf3, 0xaa}; /* std; rep stosb */
static const uint8_t code_53[] = {0xf3, 0x48, 0xab, 0x48, 0x89, 0xde, 0x48, 0x8d, 0x7b, 0x40, 0xb9, 0x04, 0x00, 0x00, 0x00, 0xf3, 0x48, 0xa5}; /* rep stosq; mov rsi, rbx; lea rdi, [rbx+64]; mov ecx, 4; rep movsq */
static const uint8_t code_54[] = {0xf3, 0xaa}; /* rep stosb */
static const uint8_t code_55[] = {0xc7, 0x07, 0x61, 0x62, 0x63, 0x00, 0xf2, 0xae}; /* mov dword ptr [rdi], 0x00636261; repne scasb */
static const uint8_t code_56[] = {0xc7, 0x06, 0x11, 0x22, 0x33, 0x44, 0xc7, 0x07, 0x11, 0x22, 0x33, 0x45, 0xf3, 0xa6}; /* mov dword ptr [rsi], 0x44332211; mov dword ptr [rdi], 0x45332211; repe cmpsb */
static const uint8_t code_57[] = {0xc7, 0x06, 0xef, 0xcd, 0xab, 0x89, 0xad}; /* mov dword ptr [rsi], 0x89abcdef; lodsd */
static const uint8_t code_58[] = {0x48, 0xc7, 0x03, 0x05, 0x00, 0x00, 0x00, 0x48, 0x0f, 0xb1, 0x0b}; /* mov qword ptr [rbx], 5; cmpxchg [rbx], rcx */
static const uint8_t code_59[] = {0x48, 0xc7, 0x03, 0x05, 0x00, 0x00, 0x00, 0x48, 0x0f, 0xb1, 0x0b}; /* mov qword ptr [rbx], 5; cmpxchg [rbx], rcx */
static const uint8_t code_60[] = {0x48, 0x0f, 0xc1, 0xd8}; /* xadd rax, rbx */
static const uint8_t code_61[] = {0x48, 0xc7, 0x03, 0x07, 0x00, 0x00, 0x00, 0x48, 0x87, 0x03}; /* mov qword ptr [rbx], 7; xchg [rbx], rax */
static const uint8_t code_62[] = {0x48, 0x0f, 0xbc, 0xc3}; /* bsf rax, rbx */
static const uint8_t code_63[] = {0x48, 0x0f, 0xbc, 0xc3}; /* bsf rax, rbx */
static const uint8_t code_64[] = {0x0f, 0xbd, 0xc3}; /* bsr eax, ebx */
static const uint8_t code_65[] = {0xf3, 0x48, 0x0f, 0xbc, 0xc3}; /* tzcnt rax, rbx */
static const uint8_t code_66[] = {0xf3, 0x48, 0x0f, 0xbd, 0xc3}; /* lzcnt rax, rbx */
static const uint8_t code_67[] = {0xf3, 0x48, 0x0f, 0xb8, 0xc3}; /* popcnt rax, rbx */
static const uint8_t code_68[] = {0x48, 0x0f, 0xba, 0xe0, 0x03}; /* bt rax, 3 */
static const uint8_t code_69[] = {0x48, 0x0f, 0xab, 0x0b}; /* bts qword ptr [rbx], rcx */
static const uint8_t code_70[] = {0xc6, 0x43, 0xff, 0xff, 0x0f, 0xb3, 0x0b}; /* mov byte ptr [rbx-1], 0xff; btr dword ptr [rbx], ecx */
static const uint8_t code_71[] = {0x0f, 0xc8}; /* bswap eax */
static const uint8_t code_72[] = {0x48, 0x0f, 0xc8}; /* bswap rax */
static const uint8_t code_73[] = {0x66, 0x98}; /* cbw */
static const uint8_t code_74[] = {0x98}; /* cwde */
static const uint8_t code_75[] = {0x48, 0x98}; /* cdqe */
static const uint8_t code_76[] = {0x48, 0x99}; /* cqo */
static const uint8_t code_77[] = {0x99}; /* cdq */
static const uint8_t code_78[] = {0x0f, 0xb6, 0xcb, 0x48, 0x0f, 0xbe, 0xd3, 0x0f, 0xbf, 0xf3, 0x48, 0x63, 0xfb}; /* movzx ecx, bl; movsx rdx, bl; movsx esi, bx; movsxd rdi, ebx */
static const uint8_t code_79[] = {0x88, 0xdc, 0xb7, 0x12}; /* mov ah, bl; mov bh, 0x12 */
static const uint8_t code_80[] = {0x40, 0x88, 0xde}; /* mov sil, bl */
static const uint8_t code_81[] = {0x48, 0xb8, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12}; /* movabs rax, 0x123456789abcdef0 */
static const uint8_t code_82[] = {0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff}; /* mov rax, -2 */
static const uint8_t code_83[] = {0x48, 0x8d, 0x44, 0xcb, 0xf0}; /* lea rax, [rbx+rcx*8-16] */
static const uint8_t code_84[] = {0x48, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00}; /* lea rax, [rip+0x100] */
static const uint8_t code_85[] = {0x8d, 0x04, 0x0b}; /* lea eax, [rbx+rcx] */
static const uint8_t code_86[] = {0x39, 0xd8, 0x0f, 0x9c, 0xc1, 0x0f, 0x92, 0xc2, 0x48, 0x0f, 0x4f, 0xf3, 0x0f, 0x4c, 0xfb}; /* cmp eax, ebx; setl cl; setb dl; cmovg rsi, rbx; cmovl edi, ebx */
static const uint8_t code_87[] = {0x39, 0xc0, 0x0f, 0x45, 0xcb}; /* cmp eax, eax; cmovne ecx, ebx */
static const uint8_t code_88[] = {0x50, 0x6a, 0x7f, 0x59, 0x5a, 0x6a, 0xff, 0x66, 0x5e}; /* push rax; push 0x7f; pop rcx; pop rdx; push -1; pop si */
static const uint8_t code_89[] = {0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x06, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3, 0x90}; /* call 1f; jmp 2f; 1: mov eax, 42; ret; 2: nop */
static const uint8_t code_90[] = {0x31, 0xc0, 0x83, 0xc0, 0x02, 0xe2, 0xfb}; /* xor eax, eax; 1: add eax, 2; loop 1b */
static const uint8_t code_91[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x83, 0xfb, 0x00, 0x7c, 0x05, 0xb8, 0x02, 0x00, 0x00, 0x00, 0x90}; /* mov eax, 1; cmp rbx, 0; jl 1f; mov eax, 2; 1: nop */
static const uint8_t code_92[] = {0xe3, 0x05, 0xb8, 0x05, 0x00, 0x00, 0x00, 0x90}; /* jrcxz 1f; mov eax, 5; 1: nop */
static const uint8_t code_93[] = {0xc8, 0x10, 0x00, 0x00, 0x48, 0x89, 0xe8, 0xc9}; /* enter 16, 0; mov rax, rbp; leave */
static const uint8_t code_94[] = {0x68, 0xd7, 0x3a, 0x00, 0x00, 0x9d, 0x9c, 0x58}; /* push 0x3ad7; popf; pushf; pop rax */
static const uint8_t code_95[] = {0xb4, 0xd5, 0x9e, 0x9f}; /* mov ah, 0xd5; sahf; lahf */
static const uint8_t code_96[] = {0xc6, 0x43, 0x05, 0x99, 0xd7}; /* mov byte ptr [rbx+5], 0x99; xlatb */
static const uint8_t code_97[] = {0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00}; /* mov rax, fs:[8] */
static const uint8_t code_98[] = {0xcc}; /* int3 */
static const uint8_t code_99[] = {0xcd, 0x81}; /* int 0x81 */
static const uint8_t code_100[] = {0xcd, 0x80}; /* int 0x80 */
static const uint8_t code_101[] = {0xf4}; /* hlt */
static const uint8_t code_102[] = {0xfa}; /* cli */
static const uint8_t code_103[] = {0x0f, 0x20, 0xd8}; /* mov rax, cr3 */
static const uint8_t code_104[] = {0x48, 0x8b, 0x03}; /* mov rax, [rbx] */
static const uint8_t code_105[] = {0x89, 0x03}; /* mov [rbx], eax */
static const uint8_t code_106[] = {0x48, 0x8b, 0x03}; /* mov rax, [rbx] */
static const uint8_t code_107[] = {0x06}; /* .byte 0x06 */
static const uint8_t code_108[] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90}; /* .byte 0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66,0x66; nop */
static const uint8_t code_109[] = {0xb9, 0x02, 0x01, 0x00, 0xc0, 0xb8, 0x44, 0x33, 0x22, 0x11, 0xba, 0x55, 0x00, 0x00, 0x00, 0x0f, 0x30, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x32, 0x0f, 0x01, 0xf8, 0xb9, 0x01, 0x01, 0x00, 0xc0, 0x0f, 0x32}; /* mov ecx, 0xc0000102; mov eax, 0x11223344; mov edx, 0x55; wrmsr; xor eax, eax; xor edx, edx; rdmsr; swapgs; mov ecx, 0xc0000101; rdmsr */
static const uint8_t code_110[] = {0xb9, 0x45, 0x23, 0x01, 0x00, 0x0f, 0x32}; /* mov ecx, 0x12345; rdmsr */
static const uint8_t code_111[] = {0x31, 0xc0, 0x0f, 0xa2}; /* xor eax, eax; cpuid */
static const uint8_t code_112[] = {0x6a, 0x1b, 0x68, 0x00, 0xf0, 0x2f, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00, 0x6a, 0x23, 0x48, 0x8d, 0x05, 0x03, 0x00, 0x00, 0x00, 0x50, 0x48, 0xcf, 0xb9, 0x03, 0x00, 0x00, 0x00}; /* push 0x1b; push 0x2ff000; push 0x202; push 0x23; lea rax, [rip+1f]; push rax; iretq; 1: mov ecx, 3 */
static const uint8_t code_113[] = {0x0f, 0x01, 0x03}; /* sgdt [rbx] */
static const uint8_t code_114[] = {0x0f, 0x20, 0xc0, 0x0f, 0x20, 0xe3, 0xb9, 0x05, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc1, 0x44, 0x0f, 0x20, 0xc2}; /* mov rax, cr0; mov rbx, cr4; mov ecx, 5; mov cr8, rcx; mov rdx, cr8 */
static const uint8_t code_115[] = {0xb8, 0x20, 0x00, 0x00, 0x00, 0x0f, 0xba, 0xe8, 0x1e, 0x0f, 0x22, 0xe0}; /* mov eax, 0x20; bts eax, 30; mov cr4, rax */
static const struct xcase cases[] = {
    {"add8_wrap", code_0, sizeof code_0, 3, 0x0ull, {[0] = 0xffull, [3] = 0x1ull}, 6, {{0, 0x0ull}}, 0x55ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"add8_overflow", code_1, sizeof code_1, 3, 0x0ull, {[0] = 0x7full, [3] = 0x1ull}, 6, {{0, 0x80ull}}, 0x890ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"add64_carry_overflow", code_2, sizeof code_2, 3, 0x0ull, {[0] = 0x8000000000000000ull, [3] = 0x8000000000000000ull}, 6, {{0, 0x0ull}}, 0x845ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"add32_zero_extends", code_3, sizeof code_3, 3, 0x0ull, {[0] = 0xdeadbeef00000001ull, [3] = 0x1ull}, 6, {{0, 0x2ull}}, 0x0ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"add16_keeps_upper", code_4, sizeof code_4, 3, 0x0ull, {[0] = 0x1234ffffull, [3] = 0x1ull}, 6, {{0, 0x12340000ull}}, 0x55ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"sub32_borrow", code_5, sizeof code_5, 3, 0x0ull, {[0] = 0xdeadbeef00000000ull, [3] = 0x1ull}, 6, {{0, 0xffffffffull}}, 0x95ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"sub8_overflow", code_6, sizeof code_6, 3, 0x0ull, {[0] = 0x80ull, [3] = 0x1ull}, 6, {{0, 0x7full}}, 0x810ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"cmp_equal", code_7, sizeof code_7, 3, 0x0ull, {[0] = 0x5ull, [3] = 0x5ull}, 6, {{0, 0x5ull}, {3, 0x5ull}}, 0x44ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"cmp_imm8_sext", code_8, sizeof code_8, 3, 0x0ull, {[0] = 0xffffffffffffffffull}, 6, {{0, 0xffffffffffffffffull}}, 0x44ull, 0x8d5ull, 4, -1, false, 0x0ull, {}, 0},
    {"inc_keeps_cf", code_9, sizeof code_9, 3, 0x0ull, {[0] = 0xffull}, 6, {{0, 0x0ull}}, 0x55ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"inc64_overflow", code_10, sizeof code_10, 3, 0x0ull, {[0] = 0x7fffffffffffffffull}, 6, {{0, 0x8000000000000000ull}}, 0x894ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"dec_keeps_cf", code_11, sizeof code_11, 3, 0x0ull, {[0] = 0x80ull}, 6, {{0, 0x7full}}, 0x810ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"adc64_chain", code_12, sizeof code_12, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [3] = 0x0ull}, 6, {{0, 0x0ull}}, 0x55ull, 0x8d5ull, 4, -1, false, 0x0ull, {}, 0},
    {"adc8_cf_full", code_13, sizeof code_13, 3, 0x0ull, {[0] = 0xffull, [3] = 0xffull}, 6, {{0, 0xffull}}, 0x95ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"sbb32_chain", code_14, sizeof code_14, 3, 0x0ull, {[0] = 0x0ull, [3] = 0x0ull}, 6, {{0, 0xffffffffull}}, 0x95ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"sbb8_equal_with_cf", code_15, sizeof code_15, 3, 0x0ull, {[0] = 0x5ull, [3] = 0x5ull}, 6, {{0, 0xffull}}, 0x95ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"neg_zero", code_16, sizeof code_16, 3, 0x0ull, {[0] = 0x0ull}, 6, {{0, 0x0ull}}, 0x44ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"neg8_min", code_17, sizeof code_17, 3, 0x0ull, {[0] = 0x80ull}, 6, {{0, 0x80ull}}, 0x881ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"and_clears_cf_of", code_18, sizeof code_18, 3, 0x0ull, {[0] = 0xf0ull, [3] = 0x3cull}, 6, {{0, 0x30ull}}, 0x4ull, 0x8c5ull, 3, -1, false, 0x0ull, {}, 0},
    {"xor_self", code_19, sizeof code_19, 3, 0x0ull, {[0] = 0xffffffffffffffffull}, 6, {{0, 0x0ull}}, 0x44ull, 0x8c5ull, 2, -1, false, 0x0ull, {}, 0},
    {"test_sign", code_20, sizeof code_20, 3, 0x0ull, {[0] = 0x8000000000000000ull}, 6, {{0, 0x8000000000000000ull}}, 0x84ull, 0x8c5ull, 3, -1, false, 0x0ull, {}, 0},
    {"shl_count0_keeps_flags", code_21, sizeof code_21, 3, 0x8d5ull, {[0] = 0x81ull, [1] = 0x0ull}, 6, {{0, 0x81ull}}, 0x8d5ull, 0x8d5ull, 2, -1, false, 0x0ull, {}, 0},
    {"shl64_count64_masked", code_22, sizeof code_22, 3, 0x41ull, {[0] = 0x5ull, [1] = 0x40ull}, 6, {{0, 0x5ull}}, 0x41ull, 0x8d5ull, 3, -1, false, 0x0ull, {}, 0},
    {"shl8_by1_cf_of", code_23, sizeof code_23, 3, 0x0ull, {[0] = 0xc0ull}, 6, {{0, 0x80ull}}, 0x81ull, 0x8c5ull, 2, -1, false, 0x0ull, {}, 0},
    {"shl8_by1_of", code_24, sizeof code_24, 3, 0x0ull, {[0] = 0x40ull}, 6, {{0, 0x80ull}}, 0x880ull, 0x8c5ull, 2, -1, false, 0x0ull, {}, 0},
    {"shl8_by9", code_25, sizeof code_25, 3, 0x0ull, {[0] = 0xffull, [1] = 0x9ull}, 6, {{0, 0x0ull}}, 0x44ull, 0xc4ull, 2, -1, false, 0x0ull, {}, 0},
    {"shr8_by1", code_26, sizeof code_26, 3, 0x0ull, {[0] = 0x81ull}, 6, {{0, 0x40ull}}, 0x801ull, 0x8c5ull, 2, -1, false, 0x0ull, {}, 0},
    {"shr32_by33", code_27, sizeof code_27, 3, 0x0ull, {[0] = 0x3ull, [1] = 0x21ull}, 6, {{0, 0x1ull}}, 0x1ull, 0xc5ull, 2, -1, false, 0x0ull, {}, 0},
    {"sar8_by1", code_28, sizeof code_28, 3, 0x0ull, {[0] = 0x81ull}, 6, {{0, 0xc0ull}}, 0x85ull, 0x8c5ull, 2, -1, false, 0x0ull, {}, 0},
    {"sar64_by63", code_29, sizeof code_29, 3, 0x0ull, {[0] = 0x8000000000000000ull}, 6, {{0, 0xffffffffffffffffull}}, 0x84ull, 0xc5ull, 4, -1, false, 0x0ull, {}, 0},
    {"rol8_by1", code_30, sizeof code_30, 3, 0x0ull, {[0] = 0x81ull}, 6, {{0, 0x3ull}}, 0x801ull, 0x801ull, 2, -1, false, 0x0ull, {}, 0},
    {"ror8_by1", code_31, sizeof code_31, 3, 0x0ull, {[0] = 0x1ull}, 6, {{0, 0x80ull}}, 0x801ull, 0x801ull, 2, -1, false, 0x0ull, {}, 0},
    {"rol32_by_cl", code_32, sizeof code_32, 3, 0x0ull, {[0] = 0x80000001ull, [1] = 0x4ull}, 6, {{0, 0x18ull}}, 0x0ull, 0x1ull, 2, -1, false, 0x0ull, {}, 0},
    {"rcl8_by1_cf", code_33, sizeof code_33, 3, 0x0ull, {[0] = 0x80ull}, 6, {{0, 0x1ull}}, 0x801ull, 0x801ull, 3, -1, false, 0x0ull, {}, 0},
    {"rcr8_by1", code_34, sizeof code_34, 3, 0x0ull, {[0] = 0x1ull}, 6, {{0, 0x0ull}}, 0x1ull, 0x801ull, 3, -1, false, 0x0ull, {}, 0},
    {"rcl16_by17_identity", code_35, sizeof code_35, 3, 0x0ull, {[0] = 0x1234ull, [1] = 0x11ull}, 6, {{0, 0x1234ull}}, 0x0ull, 0x1ull, 4, -1, false, 0x0ull, {}, 0},
    {"shld32", code_36, sizeof code_36, 3, 0x0ull, {[0] = 0x12345678ull, [3] = 0x9abcdef0ull}, 6, {{0, 0x23456789ull}}, 0x1ull, 0xc1ull, 4, -1, false, 0x0ull, {}, 0},
    {"shrd64", code_37, sizeof code_37, 3, 0x0ull, {[0] = 0x1122334455667788ull, [3] = 0xffull}, 6, {{0, 0xff11223344556677ull}}, 0x81ull, 0xc1ull, 5, -1, false, 0x0ull, {}, 0},
    {"mul64", code_38, sizeof code_38, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [3] = 0x2ull}, 6, {{0, 0xfffffffffffffffeull}, {2, 0x1ull}}, 0x801ull, 0x801ull, 3, -1, false, 0x0ull, {}, 0},
    {"mul8", code_39, sizeof code_39, 3, 0x0ull, {[0] = 0xaaaa0010ull, [3] = 0x10ull}, 6, {{0, 0xaaaa0100ull}}, 0x801ull, 0x801ull, 2, -1, false, 0x0ull, {}, 0},
    {"mul32_no_overflow", code_40, sizeof code_40, 3, 0x0ull, {[0] = 0x10000ull, [3] = 0x10ull, [2] = 0xffffull}, 6, {{0, 0x100000ull}, {2, 0x0ull}}, 0x0ull, 0x801ull, 2, -1, false, 0x0ull, {}, 0},
    {"imul2_neg", code_41, sizeof code_41, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [3] = 0xffffffffffffffffull}, 6, {{0, 0x1ull}}, 0x0ull, 0x801ull, 4, -1, false, 0x0ull, {}, 0},
    {"imul3_overflow32", code_42, sizeof code_42, 3, 0x0ull, {[3] = 0x40000000ull}, 6, {{0, 0x80000000ull}}, 0x801ull, 0x801ull, 3, -1, false, 0x0ull, {}, 0},
    {"imul1_16", code_43, sizeof code_43, 3, 0x0ull, {[0] = 0xfffeull, [3] = 0x3ull}, 6, {{0, 0xfffaull}, {2, 0xffffull}}, 0x0ull, 0x801ull, 3, -1, false, 0x0ull, {}, 0},
    {"div64", code_44, sizeof code_44, 3, 0x0ull, {[0] = 0x64ull, [2] = 0x0ull, [3] = 0x7ull}, 6, {{0, 0xeull}, {2, 0x2ull}}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {}, 0},
    {"div8", code_45, sizeof code_45, 3, 0x0ull, {[0] = 0x107ull, [3] = 0x10ull}, 6, {{0, 0x710ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"div_by_zero", code_46, sizeof code_46, 3, 0x0ull, {[0] = 0x1ull, [3] = 0x0ull}, 0, {{0, 0x1ull}}, 0x0ull, 0x0ull, 0, -1, false, 0x0ull, {}, 0},
    {"div_overflow", code_47, sizeof code_47, 3, 0x0ull, {[0] = 0x0ull, [2] = 0x1ull, [3] = 0x1ull}, 0, {{0, 0x0ull}, {2, 0x1ull}}, 0x0ull, 0x0ull, 0, -1, false, 0x0ull, {}, 0},
    {"idiv64_neg", code_48, sizeof code_48, 3, 0x0ull, {[0] = 0xfffffffffffffff9ull, [2] = 0xffffffffffffffffull, [3] = 0x2ull}, 6, {{0, 0xfffffffffffffffdull}, {2, 0xffffffffffffffffull}}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {}, 0},
    {"idiv32_overflow", code_49, sizeof code_49, 3, 0x0ull, {[0] = 0x80000000ull, [2] = 0xffffffffull, [1] = 0xffffffffull}, 0, {}, 0x0ull, 0x0ull, 0, -1, false, 0x0ull, {}, 0},
    {"idiv8", code_50, sizeof code_50, 3, 0x0ull, {[0] = 0xff9cull, [3] = 0x7ull}, 6, {{0, 0xfef2ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"rep_stosb", code_51, sizeof code_51, 3, 0x0ull, {[0] = 0xabull, [1] = 0x10ull, [7] = 0x200000ull}, 6, {{1, 0x0ull}, {7, 0x200010ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {{0, 16, "\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab\xab"}, {16, 1, "\x00"}}, 2},
    {"rep_stosb_df", code_52, sizeof code_52, 3, 0x0ull, {[0] = 0xcdull, [1] = 0x4ull, [7] = 0x200003ull}, 6, {{1, 0x0ull}, {7, 0x1fffffull}}, 0x400ull, 0x400ull, 3, -1, false, 0x0ull, {{0, 4, "\xcd\xcd\xcd\xcd"}, {4, 1, "\x00"}}, 2},
    {"rep_stosq_movsq", code_53, sizeof code_53, 3, 0x0ull, {[0] = 0x1122334455667788ull, [1] = 0x4ull, [7] = 0x200000ull, [3] = 0x200000ull}, 6, {{1, 0x0ull}, {6, 0x200020ull}, {7, 0x200060ull}}, 0x0ull, 0x0ull, 18, -1, false, 0x0ull, {{64, 32, "\x88\x77\x66\x55\x44\x33\x22\x11\x88\x77\x66\x55\x44\x33\x22\x11\x88\x77\x66\x55\x44\x33\x22\x11\x88\x77\x66\x55\x44\x33\x22\x11"}}, 1},
    {"rep_zero_count", code_54, sizeof code_54, 3, 0x0ull, {[0] = 0x1ull, [1] = 0x0ull, [7] = 0x200000ull}, 6, {{1, 0x0ull}, {7, 0x200000ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {{0, 1, "\x00"}}, 1},
    {"repne_scasb", code_55, sizeof code_55, 3, 0x0ull, {[0] = 0x63ull, [1] = 0x64ull, [7] = 0x200000ull}, 6, {{1, 0x61ull}, {7, 0x200003ull}}, 0x44ull, 0x41ull, 8, -1, false, 0x0ull, {}, 0},
    {"repe_cmpsb", code_56, sizeof code_56, 3, 0x0ull, {[1] = 0x4ull, [6] = 0x200000ull, [7] = 0x200010ull}, 6, {{1, 0x0ull}, {6, 0x200004ull}, {7, 0x200014ull}}, 0x95ull, 0x8d5ull, 14, -1, false, 0x0ull, {}, 0},
    {"lodsd", code_57, sizeof code_57, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [6] = 0x200000ull}, 6, {{0, 0x89abcdefull}, {6, 0x200004ull}}, 0x0ull, 0x0ull, 7, -1, false, 0x0ull, {}, 0},
    {"cmpxchg_equal", code_58, sizeof code_58, 3, 0x0ull, {[0] = 0x5ull, [3] = 0x200000ull, [1] = 0x9ull}, 6, {{0, 0x5ull}}, 0x44ull, 0x8d5ull, 11, -1, false, 0x0ull, {{0, 8, "\x09\x00\x00\x00\x00\x00\x00\x00"}}, 1},
    {"cmpxchg_differ", code_59, sizeof code_59, 3, 0x0ull, {[0] = 0x4ull, [3] = 0x200000ull, [1] = 0x9ull}, 6, {{0, 0x5ull}}, 0x95ull, 0x8d5ull, 11, -1, false, 0x0ull, {{0, 8, "\x05\x00\x00\x00\x00\x00\x00\x00"}}, 1},
    {"xadd", code_60, sizeof code_60, 3, 0x0ull, {[0] = 0x3ull, [3] = 0x4ull}, 6, {{0, 0x7ull}, {3, 0x3ull}}, 0x0ull, 0x8d5ull, 4, -1, false, 0x0ull, {}, 0},
    {"xchg_mem", code_61, sizeof code_61, 3, 0x0ull, {[0] = 0x1ull, [3] = 0x200000ull}, 6, {{0, 0x7ull}}, 0x0ull, 0x0ull, 10, -1, false, 0x0ull, {{0, 8, "\x01\x00\x00\x00\x00\x00\x00\x00"}}, 1},
    {"bsf", code_62, sizeof code_62, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [3] = 0x100ull}, 6, {{0, 0x8ull}}, 0x0ull, 0x40ull, 4, -1, false, 0x0ull, {}, 0},
    {"bsf_zero_keeps_dest", code_63, sizeof code_63, 3, 0x0ull, {[0] = 0x4d2ull, [3] = 0x0ull}, 6, {{0, 0x4d2ull}}, 0x40ull, 0x40ull, 4, -1, false, 0x0ull, {}, 0},
    {"bsr", code_64, sizeof code_64, 3, 0x0ull, {[3] = 0x80000001ull}, 6, {{0, 0x1full}}, 0x0ull, 0x40ull, 3, -1, false, 0x0ull, {}, 0},
    {"tzcnt_zero", code_65, sizeof code_65, 3, 0x0ull, {[3] = 0x0ull}, 6, {{0, 0x40ull}}, 0x1ull, 0x41ull, 5, -1, false, 0x0ull, {}, 0},
    {"lzcnt_one", code_66, sizeof code_66, 3, 0x0ull, {[3] = 0x1ull}, 6, {{0, 0x3full}}, 0x0ull, 0x41ull, 5, -1, false, 0x0ull, {}, 0},
    {"popcnt", code_67, sizeof code_67, 3, 0x0ull, {[3] = 0xf0f0ull}, 6, {{0, 0x8ull}}, 0x0ull, 0x8d5ull, 5, -1, false, 0x0ull, {}, 0},
    {"bt_reg", code_68, sizeof code_68, 3, 0x0ull, {[0] = 0x8ull}, 6, {{0, 0x8ull}}, 0x1ull, 0x1ull, 5, -1, false, 0x0ull, {}, 0},
    {"bts_mem_far_bit", code_69, sizeof code_69, 3, 0x0ull, {[3] = 0x200000ull, [1] = 0x43ull}, 6, {}, 0x0ull, 0x1ull, 4, -1, false, 0x0ull, {{8, 1, "\x08"}}, 1},
    {"btr_mem_negative_bit", code_70, sizeof code_70, 3, 0x0ull, {[3] = 0x200008ull, [1] = 0xffffffffull}, 6, {}, 0x1ull, 0x1ull, 7, -1, false, 0x0ull, {{7, 1, "\x7f"}}, 1},
    {"bswap32", code_71, sizeof code_71, 3, 0x0ull, {[0] = 0xffffffff11223344ull}, 6, {{0, 0x44332211ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"bswap64", code_72, sizeof code_72, 3, 0x0ull, {[0] = 0x102030405060708ull}, 6, {{0, 0x807060504030201ull}}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {}, 0},
    {"cbw", code_73, sizeof code_73, 3, 0x0ull, {[0] = 0x1280ull}, 6, {{0, 0xff80ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"cwde", code_74, sizeof code_74, 3, 0x0ull, {[0] = 0xffff12348000ull}, 6, {{0, 0xffff8000ull}}, 0x0ull, 0x0ull, 1, -1, false, 0x0ull, {}, 0},
    {"cdqe", code_75, sizeof code_75, 3, 0x0ull, {[0] = 0x80000000ull}, 6, {{0, 0xffffffff80000000ull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"cqo", code_76, sizeof code_76, 3, 0x0ull, {[0] = 0x8000000000000000ull, [2] = 0x5ull}, 6, {{2, 0xffffffffffffffffull}}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"cdq", code_77, sizeof code_77, 3, 0x0ull, {[0] = 0x7fffffffull, [2] = 0xffffffffffffffffull}, 6, {{2, 0x0ull}}, 0x0ull, 0x0ull, 1, -1, false, 0x0ull, {}, 0},
    {"movzx_movsx", code_78, sizeof code_78, 3, 0x0ull, {[3] = 0x80ffull, [1] = 0xffffffffffffffffull, [2] = 0x0ull, [6] = 0xffffffffffffffffull}, 6, {{1, 0xffull}, {2, 0xffffffffffffffffull}, {6, 0xffff80ffull}, {7, 0x80ffull}}, 0x0ull, 0x0ull, 13, -1, false, 0x0ull, {}, 0},
    {"mov_high_byte", code_79, sizeof code_79, 3, 0x0ull, {[0] = 0x1111ull, [3] = 0x77ull}, 6, {{0, 0x7711ull}, {3, 0x1277ull}}, 0x0ull, 0x0ull, 4, -1, false, 0x0ull, {}, 0},
    {"rex_byte_reg_sil", code_80, sizeof code_80, 3, 0x0ull, {[6] = 0x1111ull, [3] = 0x77ull}, 6, {{6, 0x1177ull}}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {}, 0},
    {"movabs", code_81, sizeof code_81, 3, 0x0ull, {}, 6, {{0, 0x123456789abcdef0ull}}, 0x0ull, 0x0ull, 10, -1, false, 0x0ull, {}, 0},
    {"mov_imm32_sext", code_82, sizeof code_82, 3, 0x0ull, {}, 6, {{0, 0xfffffffffffffffeull}}, 0x0ull, 0x0ull, 7, -1, false, 0x0ull, {}, 0},
    {"lea_sib", code_83, sizeof code_83, 3, 0x0ull, {[3] = 0x1000ull, [1] = 0x3ull}, 6, {{0, 0x1008ull}}, 0x0ull, 0x0ull, 5, -1, false, 0x0ull, {}, 0},
    {"lea_rip", code_84, sizeof code_84, 3, 0x0ull, {}, 6, {{0, 0x100107ull}}, 0x0ull, 0x0ull, 7, -1, false, 0x0ull, {}, 0},
    {"lea32_wraps", code_85, sizeof code_85, 3, 0x0ull, {[3] = 0xffffffffull, [1] = 0x2ull}, 6, {{0, 0x1ull}}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {}, 0},
    {"setcc_cmov", code_86, sizeof code_86, 3, 0x0ull, {[0] = 0xffffffffffffffffull, [3] = 0x1ull, [1] = 0xff00ull, [2] = 0x0ull, [6] = 0x7ull, [7] = 0xffffffff00000000ull}, 6, {{1, 0xff01ull}, {2, 0x0ull}, {6, 0x7ull}, {7, 0x1ull}}, 0x0ull, 0x0ull, 15, -1, false, 0x0ull, {}, 0},
    {"cmov32_false_zero_extends", code_87, sizeof code_87, 3, 0x0ull, {[1] = 0xffffffff00000005ull, [3] = 0x9ull}, 6, {{1, 0x5ull}}, 0x0ull, 0x0ull, 5, -1, false, 0x0ull, {}, 0},
    {"push_pop", code_88, sizeof code_88, 3, 0x0ull, {[0] = 0x55ull, [4] = 0x300000ull, [6] = 0x12340000ull}, 6, {{1, 0x7full}, {2, 0x55ull}, {6, 0x1234ffffull}, {4, 0x2ffffaull}}, 0x0ull, 0x0ull, 9, -1, false, 0x0ull, {}, 0},
    {"call_ret", code_89, sizeof code_89, 3, 0x0ull, {[4] = 0x300000ull}, 6, {{0, 0x2aull}, {4, 0x300000ull}}, 0x0ull, 0x0ull, 14, -1, false, 0x0ull, {}, 0},
    {"loop", code_90, sizeof code_90, 3, 0x0ull, {[1] = 0xaull}, 6, {{0, 0x14ull}, {1, 0x0ull}}, 0x0ull, 0x0ull, 7, -1, false, 0x0ull, {}, 0},
    {"jcc_signed", code_91, sizeof code_91, 3, 0x0ull, {[3] = 0xffffffffffffffffull}, 6, {{0, 0x1ull}}, 0x0ull, 0x0ull, 17, -1, false, 0x0ull, {}, 0},
    {"jrcxz", code_92, sizeof code_92, 3, 0x0ull, {[1] = 0x0ull, [0] = 0x0ull}, 6, {{0, 0x0ull}}, 0x0ull, 0x0ull, 8, -1, false, 0x0ull, {}, 0},
    {"enter_leave", code_93, sizeof code_93, 3, 0x0ull, {[4] = 0x300000ull, [5] = 0x1234ull}, 6, {{0, 0x2ffff8ull}, {4, 0x300000ull}, {5, 0x1234ull}}, 0x0ull, 0x0ull, 8, -1, false, 0x0ull, {}, 0},
    {"pushf_popf_user", code_94, sizeof code_94, 3, 0x0ull, {[4] = 0x300000ull}, 6, {{0, 0x8d7ull}}, 0x0ull, 0x0ull, 8, -1, false, 0x0ull, {}, 0},
    {"lahf_sahf", code_95, sizeof code_95, 3, 0x0ull, {[0] = 0x0ull}, 6, {{0, 0xd700ull}}, 0xd5ull, 0xd5ull, 4, -1, false, 0x0ull, {}, 0},
    {"xlat", code_96, sizeof code_96, 3, 0x0ull, {[0] = 0x5ull, [3] = 0x200000ull}, 6, {{0, 0x99ull}}, 0x0ull, 0x0ull, 5, -1, false, 0x0ull, {}, 0},
    {"fs_segment_override", code_97, sizeof code_97, 3, 0x0ull, {}, 6, {{0, 0x0ull}}, 0x0ull, 0x0ull, 9, -1, false, 0x0ull, {}, 0},
    {"int3", code_98, sizeof code_98, 3, 0x0ull, {}, 3, {}, 0x0ull, 0x0ull, 1, -1, false, 0x0ull, {}, 0},
    {"int_n_dpl_gp", code_99, sizeof code_99, 3, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 0, 1034, false, 0x0ull, {}, 0},
    {"int_n_allowed", code_100, sizeof code_100, 3, 0x0ull, {}, 128, {}, 0x0ull, 0x0ull, 2, -1, false, 0x0ull, {}, 0},
    {"hlt_user_gp", code_101, sizeof code_101, 3, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 0, 0, false, 0x0ull, {}, 0},
    {"cli_user_gp", code_102, sizeof code_102, 3, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 0, 0, false, 0x0ull, {}, 0},
    {"mov_cr3_user_gp", code_103, sizeof code_103, 3, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 0, 0, false, 0x0ull, {}, 0},
    {"pf_not_present_user_read", code_104, sizeof code_104, 3, 0x0ull, {[3] = 0x900000ull}, 14, {}, 0x0ull, 0x0ull, 0, 4, true, 0x900000ull, {}, 0},
    {"pf_user_write", code_105, sizeof code_105, 3, 0x0ull, {[3] = 0x900010ull}, 14, {}, 0x0ull, 0x0ull, 0, 6, true, 0x900010ull, {}, 0},
    {"gp_noncanonical", code_106, sizeof code_106, 3, 0x0ull, {[3] = 0x800000000000ull}, 13, {}, 0x0ull, 0x0ull, 0, 0, false, 0x0ull, {}, 0},
    {"ud_invalid_opcode", code_107, sizeof code_107, 3, 0x0ull, {}, 6, {}, 0x0ull, 0x0ull, 0, -1, false, 0x0ull, {}, 0},
    {"gp_insn_too_long", code_108, sizeof code_108, 3, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 0, 0, false, 0x0ull, {}, 0},
    {"cpl0_rdmsr_wrmsr", code_109, sizeof code_109, 0, 0x0ull, {}, 6, {{0, 0x11223344ull}, {2, 0x55ull}}, 0x0ull, 0x0ull, 33, -1, false, 0x0ull, {}, 0},
    {"cpl0_rdmsr_unknown_gp", code_110, sizeof code_110, 0, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 5, 0, false, 0x0ull, {}, 0},
    {"cpl0_cpuid_vendor", code_111, sizeof code_111, 0, 0x0ull, {}, 6, {{0, 0x7ull}, {3, 0x756e6547ull}, {2, 0x49656e69ull}, {1, 0x6c65746eull}}, 0x0ull, 0x0ull, 4, -1, false, 0x0ull, {}, 0},
    {"cpl0_iretq_to_user", code_112, sizeof code_112, 0, 0x0ull, {[4] = 0x300000ull}, 6, {{1, 0x3ull}, {4, 0x2ff000ull}}, 0x0ull, 0x0ull, 29, -1, false, 0x0ull, {}, 0},
    {"cpl0_sgdt", code_113, sizeof code_113, 0, 0x0ull, {[3] = 0x200000ull}, 6, {}, 0x0ull, 0x0ull, 3, -1, false, 0x0ull, {{0, 10, "\x37\x00\x00\x10\x00\x00\x00\x00\x00\x00"}}, 1},
    {"cpl0_mov_cr", code_114, sizeof code_114, 0, 0x0ull, {}, 6, {{0, 0x80050033ull}, {3, 0x620ull}, {2, 0x5ull}}, 0x0ull, 0x0ull, 19, -1, false, 0x0ull, {}, 0},
    {"cpl0_cr4_reserved_gp", code_115, sizeof code_115, 0, 0x0ull, {}, 13, {}, 0x0ull, 0x0ull, 9, 0, false, 0x0ull, {}, 0},
};

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int nchecks(const struct xcase *x) {
  int n = 0;
  while (n < 8 && (x->exp[n].reg || x->exp[n].val)) n++;
  return n;
}

START_TEST(test_snippet) {
  const struct xcase *x = &cases[_i];
  struct tm_state st;
  memset(&st, 0, sizeof st);
  memcpy(st.gpr, x->regs_in, sizeof st.gpr);
  st.rflags = x->flags_in;
  st.cpl = x->cpl;
  struct tm_result r;
  int stop = tm_model_exec(x->code, x->len, &st, &r);
  ck_assert_msg(stop == MSTOP_HLT, "%s: run stopped with %d, not in a vector stub", x->name, stop);
  ck_assert_msg(r.vector == x->vector, "%s: vector %d, expected %d (rip 0x%llx err 0x%llx)",
                x->name, r.vector, x->vector, (unsigned long long)r.rip,
                (unsigned long long)r.err);
  for (int i = 0; i < nchecks(x); i++)
    ck_assert_msg(r.gpr[x->exp[i].reg] == x->exp[i].val, "%s: gpr[%d] = 0x%llx, expected 0x%llx",
                  x->name, x->exp[i].reg, (unsigned long long)r.gpr[x->exp[i].reg],
                  (unsigned long long)x->exp[i].val);
  ck_assert_msg((r.rflags & x->flags_mask) == (x->flags_exp & x->flags_mask),
                "%s: rflags 0x%llx, expected 0x%llx under mask 0x%llx", x->name,
                (unsigned long long)r.rflags, (unsigned long long)x->flags_exp,
                (unsigned long long)x->flags_mask);
  if (x->rip_off >= 0)
    ck_assert_msg(r.rip == TM_CODE + (uint64_t)x->rip_off, "%s: frame rip 0x%llx, expected 0x%llx",
                  x->name, (unsigned long long)r.rip,
                  (unsigned long long)(TM_CODE + (uint64_t)x->rip_off));
  if (x->err >= 0)
    ck_assert_msg(r.err == (uint64_t)x->err, "%s: error code 0x%llx, expected 0x%llx", x->name,
                  (unsigned long long)r.err, (unsigned long long)x->err);
  if (x->check_cr2)
    ck_assert_msg(r.cr2 == x->cr2, "%s: cr2 0x%llx, expected 0x%llx", x->name,
                  (unsigned long long)r.cr2, (unsigned long long)x->cr2);
  for (int i = 0; i < x->ndata; i++)
    ck_assert_msg(memcmp(r.data + x->data[i].off, x->data[i].bytes, x->data[i].len) == 0,
                  "%s: memory at data+%u differs", x->name, x->data[i].off);
}
END_TEST

/* A fault in the middle of a REP leaves the registers at the faulting
 * iteration, so the instruction restarts where it stopped. */
START_TEST(test_rep_fault_mid_way) {
  static const uint8_t code[] = {0xf3, 0xaa}; /* rep stosb */
  struct tm_state st = {.cpl = 3};
  st.gpr[0] = 0x5a;
  st.gpr[1] = 32;
  st.gpr[7] = (8u << 20) - 16; /* last 16 bytes of RAM, then unmapped */
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 14);
  ck_assert_uint_eq(r.cr2, 8u << 20);
  ck_assert_uint_eq(r.gpr[1], 16);
  ck_assert_uint_eq(r.gpr[7], 8u << 20);
  ck_assert_uint_eq(r.rip, TM_CODE);
}
END_TEST

/* Single-step: TF set by POPF traps after the next instruction. */
START_TEST(test_trap_flag) {
  /* pushfq; or qword [rsp], 0x100; popfq; nop; nop */
  static const uint8_t code[] = {0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90};
  struct tm_state st = {.cpl = 3};
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 1);
  ck_assert_uint_eq(r.rip, TM_CODE + 11); /* after the first NOP */
}
END_TEST

/* #PF while delivering #PF (kernel stack unmapped) becomes #DF on IST1. */
START_TEST(test_double_fault) {
  static const uint8_t code[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 3};
  struct tm *t = tm_new(code, sizeof code, &st);
  uint64_t bad = 0x900000;
  memcpy(t->ram + TM_TSS + 4, &bad, 8); /* RSP0 unmapped */
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.stop, MSTOP_HLT);
  ck_assert_int_eq(r.vector, 8);
  ck_assert_uint_eq(r.err, 0);
  ck_assert_uint_eq(t->c->cnt.exceptions, 1);
  tm_free(t);
}
END_TEST

/* No usable IDT: #UD -> #GP -> #DF -> triple fault, the run ends. */
START_TEST(test_triple_fault) {
  static const uint8_t code[] = {0x0f, 0x0b};
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  t->c->idtr.limit = 0;
  struct tm_result r;
  int s = tm_run(t, &r);
  ck_assert_int_eq(s, MSTOP_SHUTDOWN);
  ck_assert_msg(strstr(t->c->msg, "triple fault") != NULL, "message: %s", t->c->msg);
  tm_free(t);
}
END_TEST

/* Unknown opcode with no handler: the message carries the bytes and RIP. */
START_TEST(test_ud_message) {
  static const uint8_t code[] = {0x0f, 0x38, 0xf0, 0x07}; /* movbe: not modeled */
  struct tm_state st = {.cpl = 0};
  struct tm *t = tm_new(code, sizeof code, &st);
  t->c->idtr.limit = 0;
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_msg(strstr(t->c->msg, "0f 38 f0") != NULL, "message: %s", t->c->msg);
  tm_free(t);
}
END_TEST

/* Self-modifying code: a store into an already decoded page is seen. */
START_TEST(test_self_modifying_code) {
  /* loop twice over "mov eax, imm32", patching the immediate in between:
   *   0: b8 01 00 00 00     mov eax, 1
   *   5: 01 c3              add ebx, eax
   *   7: c6 05 f3 ff ff ff 05  mov byte [rip-13], 5   (-> imm at offset 1)
   *  14: ff c9              dec ecx
   *  16: 75 ee              jnz 0 */
  static const uint8_t code[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc3, 0xc6, 0x05, 0xf3, 0xff,
                                 0xff, 0xff, 0x05, 0xff, 0xc9, 0x75, 0xee};
  struct tm_state st = {.cpl = 0};
  st.gpr[1] = 2;
  struct tm_result r;
  tm_model_exec(code, sizeof code, &st, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(r.gpr[3], 6); /* 1 + 5 */
}
END_TEST

/* Counters: instructions retired and memory references are exact. */
START_TEST(test_counters) {
  /* mov ecx, 100; 1: add [rbx], eax; dec ecx; jnz 1b   (then ud2) */
  static const uint8_t code[] = {0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0x03, 0xff, 0xc9, 0x75, 0xfa};
  struct tm_state st = {.cpl = 0};
  st.gpr[3] = TM_DATA;
  struct tm *t = tm_new(code, sizeof code, &st);
  struct tm_result r;
  tm_run(t, &r);
  ck_assert_int_eq(r.vector, 6);
  ck_assert_uint_eq(t->c->cnt.instructions, 1 + 3 * 100 + 1); /* + the stub's HLT */
  ck_assert_uint_eq(t->c->cnt.mem_reads, 100 + 3); /* + IDT gate (2), CS descriptor */
  ck_assert_uint_eq(t->c->cnt.mem_writes, 100 + 5); /* + the #UD frame */
  ck_assert_uint_eq(t->c->cnt.by_class[IC_BRANCH], 100);
  tm_free(t);
}
END_TEST

Suite *suite_model_exec(void) {
  Suite *s = suite_create("model_exec");
  TCase *tc = tcase_create("snippets");
  tcase_add_loop_test(tc, test_snippet, 0, NCASES);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("events");
  tcase_add_test(te, test_rep_fault_mid_way);
  tcase_add_test(te, test_trap_flag);
  tcase_add_test(te, test_double_fault);
  tcase_add_test(te, test_triple_fault);
  tcase_add_test(te, test_ud_message);
  tcase_add_test(te, test_self_modifying_code);
  tcase_add_test(te, test_counters);
  suite_add_tcase(s, te);
  return s;
}
