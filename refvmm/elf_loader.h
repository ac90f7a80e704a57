/* elf_loader.h - load a workload ELF64 image into guest RAM.
 *
 * Every field is untrusted: type, machine, class, header sizes, segment
 * bounds and overflow, overlap with VMM-reserved memory [0, VTB_RESERVED_END),
 * segments past RAM, entry inside a loaded executable segment, the notes
 * (PVH entry, parameter table). A rejected
 * image leaves a message naming the file, the field and its value.
 */
#ifndef REFVMM_ELF_LOADER_H
#define REFVMM_ELF_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* The workload's parameter table (vtb_abi.h, VTB_NOTE_PARAMS): `present`
 * when the image has one; entries before the end entry, each checked (key
 * [a-z0-9_]+ and NUL-terminated, not a runtime key, no duplicate, help
 * NUL-terminated, min <= def <= max). */
struct elf_params {
  bool present;
  int n;
  struct vtb_param p[VTB_PARAMS_DECL];
};

struct elf_image {
  gpa_t entry;
  gpa_t lo, hi;    /* [lo, hi): union of PT_LOAD ranges (hi page-aligned up) */
  gpa_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY value, 0 if none */
  int nsegments;
  struct elf_params params;
};

/* Validate and copy `buf[0..len)` into gm. 0, or -1 with err filled
 * ("IMAGE: e_machine is 0x28 (ARM), expected 0x3e (x86-64)"). */
int elf__load_buf(const uint8_t *buf, size_t len, const char *name, struct guest_mem *gm,
                  struct elf_image *out, char *err, size_t errlen);
/* Read the file (bounded by VTB_MEM_MAX) and load it. */
int elf__load_file(const char *path, struct guest_mem *gm, struct elf_image *out, char *err,
                   size_t errlen);

#endif
