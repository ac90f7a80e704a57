/* elf_builder.h - build small ELF64 images in memory for loader tests and
 * fuzz seeds. The builder starts from a valid ET_EXEC x86-64 header; tests
 * add segments, then break exactly one field before eb__build().
 *
 * Layout: Elf64_Ehdr at 0, room for EB_MAX_PH program headers at 64, segment
 * bytes after that. File offsets are assigned when a segment is added, so a
 * test may overwrite b->eh / b->ph[i] afterwards and build the result. */
#ifndef TESTS_ELF_BUILDER_H
#define TESTS_ELF_BUILDER_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define EB_MAX_PH     16
#define EB_DATA_START (sizeof(Elf64_Ehdr) + EB_MAX_PH * sizeof(Elf64_Phdr))

struct elf_builder {
  Elf64_Ehdr eh;
  Elf64_Phdr ph[EB_MAX_PH];
  int nph;
  uint8_t *blob; /* segment bytes, placed at file offset EB_DATA_START */
  size_t blob_len;
};

/* Valid header for an image entered at `entry`, no program headers yet. */
void eb__init(struct elf_builder *b, uint64_t entry);
void eb__free(struct elf_builder *b);
/* Append a PT_LOAD at paddr == vaddr with `filesz` bytes of `data` (NULL:
 * a 0x5a pattern) and `memsz` bytes in memory. Returns its index. */
int eb__add_load(struct elf_builder *b, uint64_t paddr, uint32_t flags, const void *data,
                 size_t filesz, uint64_t memsz);
/* Append a PT_NOTE holding one note (4-byte aligned, as GNU ld emits). */
int eb__add_note(struct elf_builder *b, const char *name, uint32_t type, const void *desc,
                 uint32_t descsz);
/* Append a non-PT_LOAD header of `type` whose file bytes are `data[0..n)`
 * (e.g. a hand-made PT_NOTE with p_align 8). Returns its index. */
int eb__add_raw(struct elf_builder *b, uint32_t type, const void *data, size_t n, uint64_t align);
/* A malloc'ed image; *len its size. Caller frees. */
uint8_t *eb__build(const struct elf_builder *b, size_t *len);
/* The image written to `path`; 0, or -1 when it could not be written. */
int eb__write(const struct elf_builder *b, const char *path);

/* A complete valid workload-like image: text (R+X) at 0x200000 with the
 * entry at 0x200000, data (R+W) at 0x201000 with 0x100 file bytes and 0x1000
 * bytes in memory (the rest is .bss). */
#define EB_TEXT_GPA 0x200000ull
#define EB_DATA_GPA 0x201000ull
void eb__init_valid(struct elf_builder *b);

#endif
