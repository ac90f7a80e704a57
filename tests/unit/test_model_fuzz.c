/* test_model_fuzz.c - robustness of the model CPU on hostile input: random
 * code bytes from random register states at CPL0 and CPL3, with random
 * page-table entries mixed into the map, under an instruction budget. The
 * run must end (budget, HLT, shutdown, internal error) without crashing or
 * touching host memory outside guest RAM (run it under `make check SAN=1`
 * for ASan to see that). A short, seeded version of a fuzz harness. */
#include <check.h>
#include <string.h>

#include "test_model_harness.h"

static uint64_t s_rng;
static uint64_t rnd(void) {
  uint64_t z = (s_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

#define ROUNDS   3000
#define CODE_LEN 96

START_TEST(test_random_code) {
  uint8_t code[CODE_LEN] = {0};
  struct tm_state st0 = {.cpl = 0};
  s_rng = 0x5eed0000u + (uint64_t)_i;
  struct tm *t = tm_new(code, 0, &st0);
  uint64_t pd_saved[4];
  memcpy(pd_saved, t->ram + TM_PD, sizeof pd_saved);
  unsigned stops[8] = {0};
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < CODE_LEN; i += 8) {
      uint64_t v = rnd();
      memcpy(code + i, &v, 8);
    }
    /* sometimes favour prefixes and the 0F map */
    if (rnd() & 1) code[0] = (uint8_t)(0x40 | (rnd() & 15)), code[1] = 0x0f;
    memcpy(t->ram + TM_CODE, code, CODE_LEN);
    memcpy(t->ram + TM_PD, pd_saved, sizeof pd_saved);
    if ((rnd() & 7) == 0) { /* a random entry in the map (not the code's) */
      uint64_t v = rnd();
      memcpy(t->ram + TM_PD + 8 * (2 + (rnd() & 1)), &v, 8);
    }
    struct tm_state st = {0}; /* every field defined: keep_if false, IF starts clear */
    for (int i = 0; i < 16; i++)
      st.gpr[i] = (rnd() & 1) ? rnd() : TM_DATA + (rnd() & 0xfff);
    st.gpr[4] = TM_STACK - (rnd() & 0xff0);
    st.rflags = rnd() & 0xcd5;
    st.cpl = (rnd() & 1) ? 3 : 0;
    tm_set_state(t, &st);
    model_cpu__flush_decoded(t->c);
    enum model_stop s = model_cpu__run(t->c, 20000);
    ck_assert_int_lt(s, 8);
    stops[s]++;
    /* whatever happened, the CPU state is one we can keep running from */
    ck_assert(t->c->cpl == 0 || t->c->cpl == 3);
    ck_assert_int_eq(t->c->delivering, -1);
  }
  /* the mix must have reached every kind of end we expect */
  ck_assert_uint_gt(stops[MSTOP_HLT], 0);
  tm_free(t);
}
END_TEST

/* Decoder bounds: any byte string decodes within 15 bytes or says why. */
START_TEST(test_decoder_bounds) {
  s_rng = 77;
  uint8_t buf[16];
  struct model_insn d;
  for (int round = 0; round < 200000; round++) {
    for (int i = 0; i < 16; i += 8) {
      uint64_t v = rnd();
      memcpy(buf + i, &v, 8);
    }
    unsigned avail = 1 + (unsigned)(rnd() % 15);
    int rc = model_decode(buf, avail, &d);
    ck_assert(rc >= -3 && rc <= 0);
    if (rc == 0 || rc == -3) ck_assert(d.len >= 1 && d.len <= avail);
  }
  /* 15 prefixes and an opcode: too long */
  memset(buf, 0x66, 15);
  buf[15] = 0x90;
  ck_assert_int_eq(model_decode(buf, 15, &d), -2);
}
END_TEST

Suite *suite_model_fuzz(void) {
  Suite *s = suite_create("model_fuzz");
  TCase *tc = tcase_create("random");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_random_code, 0, 4);
  tcase_add_test(tc, test_decoder_bounds);
  suite_add_tcase(s, tc);
  return s;
}
