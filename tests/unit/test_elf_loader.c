/* test_elf_loader.c - the ELF loader on valid and broken images built in
 * memory (tests/lib/elf_builder). Every rejection must name the image and
 * the offending field, and leave guest RAM untouched. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refvmm/elf_loader.h"
#include "tests/lib/elf_builder.h"

#define NAME "workloads/build/t.elf"

static struct guest_mem gm;
static char err[512];

static void setup(void) {
  ck_assert_int_eq(guest_mem__init(&gm, VTB_MEM_MIN), 0);
  memset(gm.host, 0xaa, gm.size);
  memset(err, 0, sizeof(err));
}
static void teardown(void) {
  guest_mem__destroy(&gm);
}

static int load_raw(const uint8_t *buf, size_t len, struct elf_image *img) {
  return elf__load_buf(buf, len, NAME, &gm, img, err, sizeof(err));
}

/* Build, load, free; len_cut > 0 truncates the file to that many bytes. */
static int load_b(struct elf_builder *b, size_t len_cut, struct elf_image *img) {
  size_t len;
  uint8_t *buf = eb__build(b, &len);
  if (len_cut) len = len_cut;
  int r = load_raw(buf, len, img);
  free(buf);
  eb__free(b);
  return r;
}

static bool ram_untouched(void) {
  for (uint64_t a = VTB_RESERVED_END; a < VTB_RESERVED_END + 0x4000; a++)
    if (gm.host[a] != 0xaa) return false;
  return true;
}

/* The image must be rejected, the message must start with the image name
 * and contain every needle (the field names and values). */
static void expect_reject(struct elf_builder *b, size_t len_cut, const char *n1, const char *n2) {
  struct elf_image img = {.entry = 0x1234};
  ck_assert_int_eq(load_b(b, len_cut, &img), -1);
  ck_assert_msg(strncmp(err, NAME ": ", strlen(NAME) + 2) == 0, "no image name in '%s'", err);
  ck_assert_msg(strstr(err, n1), "'%s' not in '%s'", n1, err);
  if (n2) ck_assert_msg(strstr(err, n2), "'%s' not in '%s'", n2, err);
  ck_assert_uint_eq(img.entry, 0x1234); /* *out untouched */
  ck_assert(ram_untouched());
}

/* ---- valid images ---------------------------------------------------------- */

START_TEST(valid_image_loads) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint8_t text[16];
  memcpy(text, b.blob + (b.ph[0].p_offset - EB_DATA_START), sizeof(text));
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(img.entry, EB_TEXT_GPA);
  ck_assert_uint_eq(img.lo, EB_TEXT_GPA);
  ck_assert_uint_eq(img.hi, EB_DATA_GPA + 0x1000);
  ck_assert_int_eq(img.nsegments, 2);
  ck_assert_uint_eq(img.pvh_entry, 0);
  ck_assert_mem_eq(gm.host + EB_TEXT_GPA, text, sizeof(text));
  /* data: 0x100 pattern bytes from the file, then zeroed .bss */
  for (int i = 0; i < 0x100; i++)
    ck_assert_uint_eq(gm.host[EB_DATA_GPA + i], 0x5a);
  for (int i = 0x100; i < 0x1000; i++)
    ck_assert_uint_eq(gm.host[EB_DATA_GPA + i], 0);
  /* nothing written past the image */
  ck_assert_uint_eq(gm.host[EB_DATA_GPA + 0x1000], 0xaa);
  ck_assert_uint_eq(gm.host[EB_TEXT_GPA + 16], 0xaa);
}
END_TEST

START_TEST(hi_is_page_aligned_up) {
  struct elf_builder b;
  eb__init(&b, 0x300000);
  eb__add_load(&b, 0x300000, PF_R | PF_X, NULL, 0x10, 0x1801);
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.lo, 0x300000);
  ck_assert_uint_eq(img.hi, 0x302000);
}
END_TEST

START_TEST(segment_ending_at_ram_end_loads) {
  struct elf_builder b;
  eb__init(&b, gm.size - 0x1000);
  eb__add_load(&b, gm.size - 0x1000, PF_R | PF_X, NULL, 0x10, 0x1000);
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.hi, gm.size);
}
END_TEST

START_TEST(ignores_other_headers) {
  struct elf_builder b;
  eb__init_valid(&b);
  Elf64_Phdr stack = {.p_type = PT_GNU_STACK, .p_flags = PF_R | PF_W, .p_offset = ~0ull};
  b.ph[b.nph++] = stack;
  b.eh.e_phnum = (Elf64_Half)b.nph;
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
}
END_TEST

START_TEST(pvh_note_parsed) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t gnu[4] = {0, 3, 2, 0};
  eb__add_note(&b, "GNU", 1, gnu, sizeof(gnu)); /* another note first */
  uint32_t pvh = 0x200004;
  eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.pvh_entry, 0x200004);
}
END_TEST

START_TEST(pvh_note_8_byte_desc) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint64_t pvh = 0x200008;
  eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.pvh_entry, 0x200008);
}
END_TEST

/* 8-byte aligned notes (as .note.gnu.property): name and descriptor start
 * at offsets aligned to 8 from the segment start, not after padding namesz. */
START_TEST(pvh_note_8_byte_aligned_segment) {
  uint8_t seg[56] = {0};
  Elf64_Nhdr gnu = {.n_namesz = 4, .n_descsz = 16, .n_type = NT_GNU_PROPERTY_TYPE_0};
  memcpy(seg, &gnu, 12);
  memcpy(seg + 12, "GNU", 4); /* desc at 16, ends at 32 */
  Elf64_Nhdr xen = {.n_namesz = 4, .n_descsz = 4, .n_type = 18};
  memcpy(seg + 32, &xen, 12);
  memcpy(seg + 44, "Xen", 4);
  uint32_t pvh = 0x20000c;
  memcpy(seg + 48, &pvh, 4); /* align_up(44 + 4, 8) = 48 */
  struct elf_builder b;
  eb__init_valid(&b);
  eb__add_raw(&b, PT_NOTE, seg, 52, 8); /* last note without trailing padding */
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.pvh_entry, 0x20000c);
}
END_TEST

START_TEST(other_xen_note_ignored) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t v = 0x99;
  eb__add_note(&b, "Xen", 17, &v, sizeof(v)); /* wrong type */
  eb__add_note(&b, "Xe", 18, &v, sizeof(v));  /* wrong name */
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_uint_eq(img.pvh_entry, 0);
}
END_TEST

/* ---- header -------------------------------------------------------------- */

START_TEST(truncated_header) {
  struct elf_builder b;
  eb__init_valid(&b);
  expect_reject(&b, sizeof(Elf64_Ehdr) - 1, "file size is 63 bytes", "ELF header");
}
END_TEST

START_TEST(empty_file) {
  struct elf_image img;
  uint8_t one = 0;
  ck_assert_int_eq(load_raw(&one, 0, &img), -1);
  ck_assert_ptr_nonnull(strstr(err, "file size is 0 bytes"));
}
END_TEST

START_TEST(bad_magic) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_ident[1] = 'X';
  expect_reject(&b, 0, "e_ident magic", "7f 58 4c 46");
}
END_TEST

START_TEST(wrong_class) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_ident[EI_CLASS] = ELFCLASS32;
  expect_reject(&b, 0, "e_ident[EI_CLASS] is 1 (ELFCLASS32)", "ELFCLASS64");
}
END_TEST

START_TEST(big_endian) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_ident[EI_DATA] = ELFDATA2MSB;
  expect_reject(&b, 0, "e_ident[EI_DATA] is 2", "ELFDATA2LSB");
}
END_TEST

START_TEST(bad_version) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_version = 7;
  expect_reject(&b, 0, "e_version is 7", NULL);
}
END_TEST

START_TEST(wrong_machine) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_machine = EM_ARM;
  expect_reject(&b, 0, "e_machine is 0x28 (ARM)", "expected 0x3e (x86-64)");
}
END_TEST

START_TEST(et_dyn) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_type = ET_DYN;
  expect_reject(&b, 0, "e_type is 3 (ET_DYN", "ET_EXEC");
}
END_TEST

START_TEST(phentsize_wrong) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_phentsize = 32;
  expect_reject(&b, 0, "e_phentsize is 32", "expected 56");
}
END_TEST

START_TEST(phoff_past_eof) {
  struct elf_builder b;
  eb__init_valid(&b);
  size_t len;
  free(eb__build(&b, &len));
  b.eh.e_phoff = len - sizeof(Elf64_Phdr); /* second header would be past EOF */
  expect_reject(&b, 0, "e_phoff+e_phnum*e_phentsize", "exceeds file size");
}
END_TEST

START_TEST(phoff_overflow) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_phoff = UINT64_MAX - 8;
  expect_reject(&b, 0, "e_phoff", "0xfffffffffffffff7");
}
END_TEST

START_TEST(phnum_zero_and_too_many) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_phnum = 0;
  expect_reject(&b, 0, "e_phnum is 0", NULL);
  eb__init_valid(&b);
  b.eh.e_phnum = 0xffff; /* PN_XNUM */
  expect_reject(&b, 0, "e_phnum is 65535", "at most 64");
}
END_TEST

START_TEST(truncated_program_headers) {
  struct elf_builder b;
  eb__init_valid(&b);
  expect_reject(&b, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 10, "e_phoff+e_phnum*e_phentsize",
                NULL);
}
END_TEST

/* ---- segments ------------------------------------------------------------ */

START_TEST(zero_loads) {
  struct elf_builder b;
  eb__init(&b, EB_TEXT_GPA);
  uint32_t pvh = EB_TEXT_GPA;
  eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  expect_reject(&b, 0, "no PT_LOAD", NULL);
}
END_TEST

START_TEST(segment_past_ram) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[1].p_paddr = b.ph[1].p_vaddr = gm.size - 0x800; /* memsz 0x1000 */
  expect_reject(&b, 0, "program header 1 (PT_LOAD) p_paddr+p_memsz", "--mem");
}
END_TEST

START_TEST(segment_addr_overflow) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[1].p_paddr = b.ph[1].p_vaddr = UINT64_MAX - 0x10;
  expect_reject(&b, 0, "program header 1 (PT_LOAD) p_paddr+p_memsz overflows", NULL);
}
END_TEST

START_TEST(offset_size_overflow) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[1].p_offset = UINT64_MAX - 0x10; /* + p_filesz 0x100 wraps */
  expect_reject(&b, 0, "program header 1 (PT_LOAD) p_offset", "0xffffffffffffffef");
}
END_TEST

START_TEST(filesz_overflow) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[1].p_filesz = b.ph[1].p_memsz = UINT64_MAX - 0x10;
  expect_reject(&b, 0, "program header 1 (PT_LOAD) p_offset+p_filesz overflows", NULL);
}
END_TEST

START_TEST(segment_data_past_eof) {
  struct elf_builder b;
  eb__init_valid(&b);
  size_t len;
  free(eb__build(&b, &len));
  char want[96];
  snprintf(want, sizeof(want), "p_offset+p_filesz = 0x%llx exceeds file size 0x%zx",
           (unsigned long long)(b.ph[1].p_offset + b.ph[1].p_filesz), len - 1);
  expect_reject(&b, len - 1, "program header 1 (PT_LOAD)", want);
}
END_TEST

START_TEST(filesz_gt_memsz) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[1].p_memsz = 0x80;
  expect_reject(&b, 0, "p_filesz is 0x100, larger than p_memsz 0x80", NULL);
}
END_TEST

START_TEST(overlaps_reserved) {
  struct elf_builder b;
  eb__init(&b, 0x1ff000);
  eb__add_load(&b, 0x1ff000, PF_R | PF_X, NULL, 0x10, 0x2000);
  expect_reject(&b, 0, "p_paddr is 0x1ff000", "VMM-reserved");
}
END_TEST

START_TEST(load_at_zero) {
  struct elf_builder b;
  eb__init(&b, 0x10);
  eb__add_load(&b, 0, PF_R | PF_X, NULL, 0x100, 0x100);
  expect_reject(&b, 0, "program header 0 (PT_LOAD) p_paddr is 0x0", "reserved");
}
END_TEST

START_TEST(paddr_ne_vaddr) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.ph[0].p_vaddr = 0xffffffff80200000ull;
  expect_reject(&b, 0, "p_paddr is 0x200000 but p_vaddr is 0xffffffff80200000", NULL);
}
END_TEST

START_TEST(overlapping_segments) {
  struct elf_builder b;
  eb__init_valid(&b);
  eb__add_load(&b, EB_DATA_GPA + 0xfff, PF_R, NULL, 1, 1);
  expect_reject(&b, 0, "program header 2 (PT_LOAD)", "overlaps program header 1");
}
END_TEST

START_TEST(adjacent_segments_ok) {
  struct elf_builder b;
  eb__init_valid(&b);
  eb__add_load(&b, EB_DATA_GPA + 0x1000, PF_R, NULL, 1, 1);
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert_int_eq(img.nsegments, 3);
}
END_TEST

START_TEST(entry_outside_segments) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_entry = EB_TEXT_GPA + 16; /* text is 16 bytes */
  expect_reject(&b, 0, "e_entry is 0x200010", "outside every PT_LOAD");
}
END_TEST

START_TEST(entry_in_non_exec) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_entry = EB_DATA_GPA + 8;
  expect_reject(&b, 0, "e_entry is 0x201008", "without PF_X");
}
END_TEST

START_TEST(interp_rejected) {
  struct elf_builder b;
  eb__init_valid(&b);
  Elf64_Phdr interp = {.p_type = PT_INTERP};
  b.ph[b.nph++] = interp;
  b.eh.e_phnum = (Elf64_Half)b.nph;
  expect_reject(&b, 0, "program header 2 is PT_INTERP", "-static");
}
END_TEST

/* ---- notes ---------------------------------------------------------------- */

START_TEST(pvh_note_truncated) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t pvh = 0x200000;
  int i = eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  b.ph[i].p_filesz -= 2; /* desc cut short */
  expect_reject(&b, 0, "program header 2 (PT_NOTE)", "n_descsz 0x4");
}
END_TEST

START_TEST(note_header_truncated) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t pvh = 0x200000;
  int i = eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  b.ph[i].p_filesz = 8;
  expect_reject(&b, 0, "(PT_NOTE) note header", "truncated");
}
END_TEST

START_TEST(note_huge_namesz) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t pvh = 0x200000;
  int i = eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  Elf64_Nhdr *nh = (Elf64_Nhdr *)(b.blob + (b.ph[i].p_offset - EB_DATA_START));
  nh->n_namesz = 0xfffffffe; /* padding must not wrap */
  expect_reject(&b, 0, "n_namesz 0xfffffffe", "exceeds p_filesz");
}
END_TEST

START_TEST(note_segment_past_eof) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint32_t pvh = 0x200000;
  int i = eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  b.ph[i].p_offset = UINT64_MAX - 4;
  expect_reject(&b, 0, "program header 2 (PT_NOTE) p_offset+p_filesz", NULL);
}
END_TEST

START_TEST(pvh_note_bad_descsz) {
  struct elf_builder b;
  eb__init_valid(&b);
  uint16_t pvh = 0x2000;
  eb__add_note(&b, "Xen", 18, &pvh, sizeof(pvh));
  expect_reject(&b, 0, "PHYS32_ENTRY note n_descsz is 2", NULL);
}
END_TEST

/* ---- the parameter table note ------------------------------------------------ */

static void param_table(struct vtb_param *t, int n) {
  memset(t, 0, sizeof(*t) * (size_t)(n + 1));
  for (int i = 0; i < n; i++) {
    snprintf(t[i].key, sizeof(t[i].key), "k%d", i);
    t[i].def = 10, t[i].min = 1, t[i].max = 100;
    snprintf(t[i].help, sizeof(t[i].help), "help %d", i);
  }
}

START_TEST(params_note_parsed) {
  struct elf_builder b;
  eb__init_valid(&b);
  struct vtb_param t[3];
  param_table(t, 2);
  eb__add_note(&b, VTB_NOTE_NAME, VTB_NOTE_PARAMS, t, sizeof(t));
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert(img.params.present);
  ck_assert_int_eq(img.params.n, 2);
  ck_assert_str_eq(img.params.p[1].key, "k1");
  ck_assert_str_eq(img.params.p[1].help, "help 1");
  ck_assert_uint_eq(img.params.p[0].max, 100);
}
END_TEST

START_TEST(no_params_note) {
  struct elf_builder b;
  eb__init_valid(&b);
  struct elf_image img;
  ck_assert_int_eq(load_b(&b, 0, &img), 0);
  ck_assert(!img.params.present);
}
END_TEST

/* Each broken table: rejected with the field named. */
START_TEST(params_note_broken) {
  struct vtb_param t[3];
  struct elf_builder b;
  static const char *const want[] = {
      "not a multiple of the 128-byte entry",
      "key is not [a-z0-9_]+",
      "help text is not NUL-terminated",
      "default 200 outside its range [1, 100]",
      "'k0' is declared twice",
      "'cpl' is the runtime's own key",
      "entries after its end",
      "no end entry",
      "key is not [a-z0-9_]+",
  };
  int i = _i;
  param_table(t, 2);
  uint32_t size = sizeof(t);
  switch (i) {
  case 0:
    size -= 1;
    break;
  case 1:
    memset(t[0].key, 'a', sizeof(t[0].key));
    break;
  case 2:
    memset(t[1].help, 'h', sizeof(t[1].help));
    break;
  case 3:
    t[1].def = 200;
    break;
  case 4:
    strcpy(t[1].key, "k0");
    break;
  case 5:
    strcpy(t[0].key, "cpl");
    break;
  case 6:
    memset(&t[1], 0, sizeof(t[1])), strcpy(t[2].key, "late");
    break;
  case 7:
    strcpy(t[2].key, "k2");
    break;
  case 8:
    strcpy(t[0].key, "N-1");
    break;
  }
  eb__init_valid(&b);
  eb__add_note(&b, VTB_NOTE_NAME, VTB_NOTE_PARAMS, t, size);
  expect_reject(&b, 0, "VTB parameter", want[i]);
}
END_TEST

START_TEST(params_note_twice) {
  struct vtb_param t[2];
  param_table(t, 1);
  struct elf_builder b;
  eb__init_valid(&b);
  eb__add_note(&b, VTB_NOTE_NAME, VTB_NOTE_PARAMS, t, sizeof(t));
  eb__add_note(&b, VTB_NOTE_NAME, VTB_NOTE_PARAMS, t, sizeof(t));
  expect_reject(&b, 0, "a second VTB parameter table", NULL);
}
END_TEST

START_TEST(params_note_too_many) {
  struct vtb_param t[VTB_PARAMS_DECL + 2];
  param_table(t, VTB_PARAMS_DECL + 1);
  struct elf_builder b;
  eb__init_valid(&b);
  eb__add_note(&b, VTB_NOTE_NAME, VTB_NOTE_PARAMS, t, sizeof(t));
  expect_reject(&b, 0, "more than 32 entries", NULL);
}
END_TEST

/* ---- files ------------------------------------------------------------------ */

static char *write_tmp(const uint8_t *buf, size_t len) {
  static char path[] = "/tmp/vtb_elf_test_XXXXXX";
  strcpy(path, "/tmp/vtb_elf_test_XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
  close(fd);
  return path;
}

START_TEST(load_file_valid_and_truncated) {
  struct elf_builder b;
  eb__init_valid(&b);
  size_t len;
  uint8_t *buf = eb__build(&b, &len);
  eb__free(&b);
  char *path = write_tmp(buf, len);
  struct elf_image img;
  ck_assert_int_eq(elf__load_file(path, &gm, &img, err, sizeof(err)), 0);
  ck_assert_uint_eq(img.entry, EB_TEXT_GPA);
  ck_assert_uint_eq(gm.host[EB_DATA_GPA], 0x5a);
  unlink(path);
  path = write_tmp(buf, 40);
  ck_assert_int_eq(elf__load_file(path, &gm, &img, err, sizeof(err)), -1);
  ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s", err);
  ck_assert_ptr_nonnull(strstr(err, "file size is 40 bytes"));
  unlink(path);
  free(buf);
}
END_TEST

START_TEST(load_file_missing_and_dir) {
  struct elf_image img;
  ck_assert_int_eq(elf__load_file("/nonexistent/x.elf", &gm, &img, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.elf: cannot open"));
  ck_assert_int_eq(elf__load_file("/tmp", &gm, &img, err, sizeof(err)), -1);
  ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(load_file_too_big) {
  /* a sparse file one byte past the cap: rejected before any read */
  char path[] = "/tmp/vtb_elf_big_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, (off_t)VTB_MEM_MAX + 1), 0);
  close(fd);
  struct elf_image img;
  int r = elf__load_file(path, &gm, &img, err, sizeof(err));
  unlink(path);
  ck_assert_int_eq(r, -1);
  ck_assert_msg(strstr(err, "file size is 0xc0000001 bytes"), "%s", err);
}
END_TEST

START_TEST(small_err_buffer_is_safe) {
  struct elf_builder b;
  eb__init_valid(&b);
  b.eh.e_machine = EM_AARCH64;
  size_t len;
  uint8_t *buf = eb__build(&b, &len);
  eb__free(&b);
  char small[8];
  memset(small, 'x', sizeof(small));
  struct elf_image img;
  ck_assert_int_eq(elf__load_buf(buf, len, "a-long-image-name", &gm, &img, small, 5), -1);
  ck_assert_uint_eq(small[4], 0);
  ck_assert_uint_eq(small[5], 'x');
  ck_assert_int_eq(elf__load_buf(buf, len, NULL, &gm, &img, NULL, 0), -1);
  free(buf);
}
END_TEST

Suite *suite_elf_loader(void) {
  Suite *s = suite_create("elf_loader");
  TCase *tc = tcase_create("valid");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, valid_image_loads);
  tcase_add_test(tc, hi_is_page_aligned_up);
  tcase_add_test(tc, segment_ending_at_ram_end_loads);
  tcase_add_test(tc, ignores_other_headers);
  tcase_add_test(tc, pvh_note_parsed);
  tcase_add_test(tc, pvh_note_8_byte_desc);
  tcase_add_test(tc, pvh_note_8_byte_aligned_segment);
  tcase_add_test(tc, other_xen_note_ignored);
  tcase_add_test(tc, adjacent_segments_ok);
  suite_add_tcase(s, tc);

  tc = tcase_create("params");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, params_note_parsed);
  tcase_add_test(tc, no_params_note);
  tcase_add_loop_test(tc, params_note_broken, 0, 9);
  tcase_add_test(tc, params_note_twice);
  tcase_add_test(tc, params_note_too_many);
  suite_add_tcase(s, tc);

  tc = tcase_create("header");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, truncated_header);
  tcase_add_test(tc, empty_file);
  tcase_add_test(tc, bad_magic);
  tcase_add_test(tc, wrong_class);
  tcase_add_test(tc, big_endian);
  tcase_add_test(tc, bad_version);
  tcase_add_test(tc, wrong_machine);
  tcase_add_test(tc, et_dyn);
  tcase_add_test(tc, phentsize_wrong);
  tcase_add_test(tc, phoff_past_eof);
  tcase_add_test(tc, phoff_overflow);
  tcase_add_test(tc, phnum_zero_and_too_many);
  tcase_add_test(tc, truncated_program_headers);
  suite_add_tcase(s, tc);

  tc = tcase_create("segments");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, zero_loads);
  tcase_add_test(tc, segment_past_ram);
  tcase_add_test(tc, segment_addr_overflow);
  tcase_add_test(tc, offset_size_overflow);
  tcase_add_test(tc, filesz_overflow);
  tcase_add_test(tc, segment_data_past_eof);
  tcase_add_test(tc, filesz_gt_memsz);
  tcase_add_test(tc, overlaps_reserved);
  tcase_add_test(tc, load_at_zero);
  tcase_add_test(tc, paddr_ne_vaddr);
  tcase_add_test(tc, overlapping_segments);
  tcase_add_test(tc, entry_outside_segments);
  tcase_add_test(tc, entry_in_non_exec);
  tcase_add_test(tc, interp_rejected);
  suite_add_tcase(s, tc);

  tc = tcase_create("notes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, pvh_note_truncated);
  tcase_add_test(tc, note_header_truncated);
  tcase_add_test(tc, note_huge_namesz);
  tcase_add_test(tc, note_segment_past_eof);
  tcase_add_test(tc, pvh_note_bad_descsz);
  suite_add_tcase(s, tc);

  tc = tcase_create("files");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_file_valid_and_truncated);
  tcase_add_test(tc, load_file_missing_and_dir);
  tcase_add_test(tc, load_file_too_big);
  tcase_add_test(tc, small_err_buffer_is_safe);
  suite_add_tcase(s, tc);
  return s;
}
