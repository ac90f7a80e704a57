/* elf_builder.c - see elf_builder.h. */
#include "elf_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eb__init(struct elf_builder *b, uint64_t entry) {
  memset(b, 0, sizeof(*b));
  memcpy(b->eh.e_ident, ELFMAG, SELFMAG);
  b->eh.e_ident[EI_CLASS] = ELFCLASS64;
  b->eh.e_ident[EI_DATA] = ELFDATA2LSB;
  b->eh.e_ident[EI_VERSION] = EV_CURRENT;
  b->eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  b->eh.e_type = ET_EXEC;
  b->eh.e_machine = EM_X86_64;
  b->eh.e_version = EV_CURRENT;
  b->eh.e_entry = entry;
  b->eh.e_phoff = sizeof(Elf64_Ehdr);
  b->eh.e_ehsize = sizeof(Elf64_Ehdr);
  b->eh.e_phentsize = sizeof(Elf64_Phdr);
  b->eh.e_shentsize = sizeof(Elf64_Shdr);
}

void eb__free(struct elf_builder *b) {
  free(b->blob);
  b->blob = NULL;
  b->blob_len = 0;
}

static uint64_t append(struct elf_builder *b, const void *data, size_t n, int fill) {
  /* keep every segment 8-byte aligned in the file */
  size_t start = (b->blob_len + 7) & ~(size_t)7;
  uint8_t *nb = realloc(b->blob, start + n + 1);
  if (!nb) abort();
  b->blob = nb;
  memset(b->blob + b->blob_len, 0, start - b->blob_len);
  if (data)
    memcpy(b->blob + start, data, n);
  else
    memset(b->blob + start, fill, n);
  b->blob_len = start + n;
  return EB_DATA_START + start;
}

static int add_ph(struct elf_builder *b, const Elf64_Phdr *ph) {
  if (b->nph >= EB_MAX_PH) abort();
  b->ph[b->nph] = *ph;
  b->eh.e_phnum = (Elf64_Half)(b->nph + 1);
  return b->nph++;
}

int eb__add_load(struct elf_builder *b, uint64_t paddr, uint32_t flags, const void *data,
                 size_t filesz, uint64_t memsz) {
  Elf64_Phdr ph = {
      .p_type = PT_LOAD,
      .p_flags = flags,
      .p_offset = append(b, data, filesz, 0x5a),
      .p_vaddr = paddr,
      .p_paddr = paddr,
      .p_filesz = filesz,
      .p_memsz = memsz,
      .p_align = 0x1000,
  };
  return add_ph(b, &ph);
}

int eb__add_note(struct elf_builder *b, const char *name, uint32_t type, const void *desc,
                 uint32_t descsz) {
  uint32_t namesz = (uint32_t)strlen(name) + 1;
  size_t name_pad = (namesz + 3) & ~3u, desc_pad = (descsz + 3) & ~3u;
  size_t n = sizeof(Elf64_Nhdr) + name_pad + desc_pad;
  uint8_t *note = calloc(1, n);
  if (!note) abort();
  Elf64_Nhdr nh = {.n_namesz = namesz, .n_descsz = descsz, .n_type = type};
  memcpy(note, &nh, sizeof(nh));
  memcpy(note + sizeof(nh), name, namesz);
  if (descsz) memcpy(note + sizeof(nh) + name_pad, desc, descsz);
  Elf64_Phdr ph = {
      .p_type = PT_NOTE,
      .p_flags = PF_R,
      .p_offset = append(b, note, n, 0),
      .p_filesz = n,
      .p_memsz = n,
      .p_align = 4,
  };
  free(note);
  return add_ph(b, &ph);
}

int eb__add_raw(struct elf_builder *b, uint32_t type, const void *data, size_t n, uint64_t align) {
  Elf64_Phdr ph = {
      .p_type = type,
      .p_flags = PF_R,
      .p_offset = append(b, data, n, 0),
      .p_filesz = n,
      .p_memsz = n,
      .p_align = align,
  };
  return add_ph(b, &ph);
}

uint8_t *eb__build(const struct elf_builder *b, size_t *len) {
  size_t n = EB_DATA_START + b->blob_len;
  uint8_t *img = calloc(1, n);
  if (!img) abort();
  memcpy(img, &b->eh, sizeof(b->eh));
  memcpy(img + sizeof(Elf64_Ehdr), b->ph, (size_t)b->nph * sizeof(Elf64_Phdr));
  if (b->blob_len) memcpy(img + EB_DATA_START, b->blob, b->blob_len);
  *len = n;
  return img;
}

int eb__write(const struct elf_builder *b, const char *path) {
  size_t len;
  uint8_t *img = eb__build(b, &len);
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(img, 1, len, f) == len;
  if (f && fclose(f)) ok = 0;
  free(img);
  return ok ? 0 : -1;
}

void eb__init_valid(struct elf_builder *b) {
  /* mov $0x1,%eax ; out %al,$0xf4 ; hlt ; then a recognisable pattern */
  static const uint8_t text[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xe6, 0xf4, 0xf4,
                                 0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0x56, 0x78};
  eb__init(b, EB_TEXT_GPA);
  eb__add_load(b, EB_TEXT_GPA, PF_R | PF_X, text, sizeof(text), sizeof(text));
  eb__add_load(b, EB_DATA_GPA, PF_R | PF_W, NULL, 0x100, 0x1000);
}
