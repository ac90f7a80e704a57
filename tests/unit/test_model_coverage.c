/* test_model_coverage.c - every instruction the built guest images contain
 * is one the model implements: objdump -d of the images in workloads/build (and the
 * hostile images), minus the 32-bit PVH entry (pvh* symbols, run only under
 * QEMU), against the list of modeled mnemonics (AT&T spelling, with or
 * without a size suffix). A new image using something the interpreter lacks
 * fails here, naming the image, the mnemonic and its address. Skips when
 * objdump or the images are missing. */
#include <check.h>
#include <glob.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const modeled[] = {
    "add",       "adc",        "sub",      "sbb",       "and",     "or",     "xor",    "cmp",
    "test",      "inc",        "dec",      "neg",       "not",     "mul",    "imul",   "div",
    "idiv",      "shl",        "sal",      "shr",       "sar",     "rol",    "ror",    "rcl",
    "rcr",       "shld",       "shrd",     "mov",       "movabs",  "lea",    "xchg",   "cmpxchg",
    "cmpxchg8b", "cmpxchg16b", "xadd",     "bswap",     "cbtw",    "cwtl",   "cltq",   "cwtd",
    "cltd",      "cqto",       "lahf",     "sahf",      "xlat",    "jmp",    "call",   "ret",
    "lret",      "loop",       "loope",    "loopne",    "jrcxz",   "jecxz",  "enter",  "leave",
    "push",      "pop",        "pushf",    "popf",      "bt",      "bts",    "btr",    "btc",
    "bsf",       "bsr",        "tzcnt",    "lzcnt",     "popcnt",  "movs",   "cmps",   "stos",
    "lods",      "scas",       "rep",      "repz",      "repnz",   "repe",   "repne",  "lock",
    "int",       "int3",       "icebp",    "iret",      "syscall", "sysret", "ud2",    "ud0",
    "ud1",       "lgdt",       "lidt",     "sgdt",      "sidt",    "ltr",    "str",    "sldt",
    "lldt",      "smsw",       "clts",     "invlpg",    "in",      "ins",    "out",    "outs",
    "hlt",       "cli",        "sti",      "cld",       "std",     "clc",    "stc",    "cmc",
    "cpuid",     "rdmsr",      "wrmsr",    "rdtsc",     "rdtscp",  "swapgs", "vmcall", "vmmcall",
    "wbinvd",    "invd",       "clflush",  "lfence",    "mfence",  "sfence", "pause",  "nop",
    "endbr64",   "fwait",      "prefetch", "prefetchw", "data16",  "cs",     "ds",     "es",
    "ss",        "fs",         "gs",       "addr32",    NULL};

static bool is_modeled(const char *m) {
  static regex_t re_cc, re_ext;
  static bool init;
  if (!init) {
    /* Jcc / SETcc / CMOVcc, and movz/movs with AT&T size pairs */
    regcomp(&re_cc,
            "^(j|set|cmov)(o|no|b|c|nae|ae|nb|nc|e|z|ne|nz|be|na|a|nbe|s|ns|p|pe|np|po|l|nge|ge|"
            "nl|le|ng|g|nle)[wlq]?$",
            REG_EXTENDED | REG_NOSUB);
    regcomp(&re_ext, "^mov(z|s)(b|w|l)(w|l|q)$|^movslq$", REG_EXTENDED | REG_NOSUB);
    init = true;
  }
  if (!regexec(&re_cc, m, 0, NULL, 0) || !regexec(&re_ext, m, 0, NULL, 0)) return true;
  size_t n = strlen(m);
  for (int i = 0; modeled[i]; i++) {
    size_t k = strlen(modeled[i]);
    if (strcmp(m, modeled[i]) == 0) return true;
    if (n == k + 1 && strncmp(m, modeled[i], k) == 0 && strchr("bwlq", m[k])) return true;
  }
  return false;
}

START_TEST(test_images_use_modeled_instructions) {
  glob_t g;
  memset(&g, 0, sizeof g);
  int rc = glob("workloads/build/*.elf", 0, NULL, &g);
  if (rc == 0) glob("workloads/build/hostile/*.elf", GLOB_APPEND, NULL, &g);
  if (rc != 0 || g.gl_pathc == 0 || system("objdump --version >/dev/null 2>&1") != 0) {
    printf("test_model_coverage: skipped: no images in workloads/build or no objdump\n");
    globfree(&g);
    return;
  }
  unsigned checked = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "objdump -d --no-show-raw-insn '%s'", g.gl_pathv[i]);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    char line[512];
    bool skip = false;
    while (fgets(line, sizeof line, p)) {
      if (strstr(line, ">:\n")) { /* "0000... <symbol>:" */
        skip = strstr(line, "<pvh") != NULL;
        continue;
      }
      char *tab = strchr(line, '\t');
      if (skip || !tab || line[0] != ' ') continue;
      char mn[64];
      if (sscanf(tab + 1, "%63s", mn) != 1) continue;
      if (strncmp(mn, "rex", 3) == 0) { /* a REX prefix objdump prints alone */
        char *sp = strchr(tab + 1, ' ');
        if (!sp || sscanf(sp, "%63s", mn) != 1) continue;
      }
      checked++;
      ck_assert_msg(is_modeled(mn), "%s: instruction '%s' is not modeled by refvmm/model (%s)",
                    g.gl_pathv[i], mn, line);
    }
    pclose(p);
  }
  ck_assert_uint_gt(checked, 100);
  globfree(&g);
}
END_TEST

START_TEST(test_mnemonic_list_rejects_unmodeled) {
  ck_assert(is_modeled("addq"));
  ck_assert(is_modeled("cmovne"));
  ck_assert(is_modeled("movzbl"));
  ck_assert(!is_modeled("movaps"));
  ck_assert(!is_modeled("vzeroupper"));
  ck_assert(!is_modeled("fld"));
}
END_TEST

Suite *suite_model_coverage(void) {
  Suite *s = suite_create("model_coverage");
  TCase *tc = tcase_create("images");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_images_use_modeled_instructions);
  tcase_add_test(tc, test_mnemonic_list_rejects_unmodeled);
  suite_add_tcase(s, tc);
  return s;
}
