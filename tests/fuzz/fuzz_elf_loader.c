/* fuzz_elf_loader.c - libFuzzer harness for the ELF loader: any byte string
 * must be accepted or rejected with a message, never crash, read outside
 * the input or write outside guest RAM (ASan watches both), and an accepted
 * image must satisfy the loader's promises (the parameter table's among
 * them). Seeds: tests/fuzz/corpus/elf_loader/ (ld_linked_params.elf is a
 * tiny image linked with workloads/rt/link.ld and a two-entry table).
 *
 *   make fuzz FUZZ_SECONDS=30     (clang -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/elf_loader.h"

static struct guest_mem gm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!gm.host && guest_mem__init(&gm, VTB_MEM_MIN)) abort();
  struct elf_image img;
  char err[512];
  memset(err, 'x', sizeof(err));
  int r = elf__load_buf(data, size, "fuzz.elf", &gm, &img, err, sizeof(err));
  if (r == 0) {
    /* accepted: identity-mapped segments inside [RESERVED_END, RAM), entry inside */
    if (img.lo < VTB_RESERVED_END || img.hi > gm.size || img.lo >= img.hi) abort();
    if (img.entry < img.lo || img.entry >= img.hi) abort();
    if (img.nsegments < 1 || img.pvh_entry > UINT32_MAX) abort();
    if (!guest_mem__ptr(&gm, img.lo, img.hi - img.lo)) abort();
    /* a parameter table: each entry a terminated, non-empty key and help,
     * its default inside its range */
    if (img.params.n < 0 || img.params.n > VTB_PARAMS_DECL) abort();
    if (!img.params.present && img.params.n) abort();
    for (int i = 0; i < img.params.n; i++) {
      const struct vtb_param *p = &img.params.p[i];
      if (!p->key[0] || !memchr(p->key, 0, sizeof(p->key))) abort();
      if (!memchr(p->help, 0, sizeof(p->help))) abort();
      if (p->min > p->def || p->def > p->max) abort();
    }
  } else {
    /* rejected: a NUL-terminated message that starts with the image name */
    if (r != -1 || !memchr(err, '\0', sizeof(err))) abort();
    if (strncmp(err, "fuzz.elf: ", 10) != 0) abort();
  }
  return 0;
}
