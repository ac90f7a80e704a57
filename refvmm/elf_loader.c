/* elf_loader.c - validate a workload ELF64 image field by field, then copy
 * its PT_LOAD segments into guest RAM.
 *
 * The image is untrusted input: every offset, size and address is checked
 * with overflow-safe comparisons (a <= limit && b <= limit - a, never
 * a + b <= limit) before anything is read or written. Validation finishes
 * before the first byte is copied, so a rejected image leaves RAM untouched.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_loader.h"

#define ELF_PHNUM_MAX            64
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PAGE_SIZE_4K             4096ull

struct load_ctx {
  const uint8_t *buf;
  size_t len;
  const char *name;
  const struct guest_mem *gm;
  char *err;
  size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(const struct load_ctx *c, const char *fmt,
                                                      ...) {
  if (!c->err || !c->errlen) return -1;
  int n = snprintf(c->err, c->errlen, "%s: ", c->name);
  if (n < 0 || (size_t)n >= c->errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* true when [off, off+size) lies inside [0, limit), without overflow */
static bool range_inside(uint64_t off, uint64_t size, uint64_t limit) {
  return off <= limit && size <= limit - off;
}

static const char *ptype_name(uint32_t t) {
  switch (t) {
  case PT_NULL:
    return "PT_NULL";
  case PT_LOAD:
    return "PT_LOAD";
  case PT_DYNAMIC:
    return "PT_DYNAMIC";
  case PT_INTERP:
    return "PT_INTERP";
  case PT_NOTE:
    return "PT_NOTE";
  case PT_PHDR:
    return "PT_PHDR";
  case PT_TLS:
    return "PT_TLS";
  case PT_GNU_STACK:
    return "PT_GNU_STACK";
  case PT_GNU_PROPERTY:
    return "PT_GNU_PROPERTY";
  default:
    return "other";
  }
}

static int check_ehdr(const struct load_ctx *c, const Elf64_Ehdr *eh) {
  const unsigned char *id = eh->e_ident;
  if (memcmp(id, ELFMAG, SELFMAG) != 0)
    return fail(c,
                "e_ident magic is %02x %02x %02x %02x, expected 7f 45 4c 46 (\"\\x7fELF\"); "
                "this is not an ELF file",
                id[0], id[1], id[2], id[3]);
  if (id[EI_CLASS] != ELFCLASS64)
    return fail(c,
                "e_ident[EI_CLASS] is %u (%s), expected %u (ELFCLASS64); build the workload "
                "as a 64-bit image",
                id[EI_CLASS], id[EI_CLASS] == ELFCLASS32 ? "ELFCLASS32" : "invalid", ELFCLASS64);
  if (id[EI_DATA] != ELFDATA2LSB)
    return fail(c, "e_ident[EI_DATA] is %u, expected %u (ELFDATA2LSB, little-endian)", id[EI_DATA],
                ELFDATA2LSB);
  if (id[EI_VERSION] != EV_CURRENT)
    return fail(c, "e_ident[EI_VERSION] is %u, expected %u (EV_CURRENT)", id[EI_VERSION],
                EV_CURRENT);
  if (eh->e_version != EV_CURRENT)
    return fail(c, "e_version is %u, expected %u (EV_CURRENT)", eh->e_version, EV_CURRENT);
  if (eh->e_type != ET_EXEC)
    return fail(c,
                "e_type is %u (%s), expected %u (ET_EXEC); link the workload with -static "
                "-no-pie at a fixed address",
                eh->e_type,
                eh->e_type == ET_DYN   ? "ET_DYN, a PIE or shared object"
                : eh->e_type == ET_REL ? "ET_REL, an unlinked object"
                                       : "not an executable",
                ET_EXEC);
  if (eh->e_machine != EM_X86_64)
    return fail(c, "e_machine is 0x%x%s, expected 0x%x (x86-64)", eh->e_machine,
                eh->e_machine == EM_AARCH64 ? " (AArch64)"
                : eh->e_machine == EM_ARM   ? " (ARM)"
                : eh->e_machine == EM_386   ? " (i386)"
                                            : "",
                EM_X86_64);
  if (eh->e_ehsize != sizeof(Elf64_Ehdr))
    return fail(c, "e_ehsize is %u, expected %zu", eh->e_ehsize, sizeof(Elf64_Ehdr));
  if (eh->e_phentsize != sizeof(Elf64_Phdr))
    return fail(c, "e_phentsize is %u, expected %zu (sizeof(Elf64_Phdr))", eh->e_phentsize,
                sizeof(Elf64_Phdr));
  if (eh->e_phnum == 0)
    return fail(c, "e_phnum is 0, expected at least one program header (PT_LOAD)");
  if (eh->e_phnum > ELF_PHNUM_MAX)
    return fail(c, "e_phnum is %u, expected at most %d", eh->e_phnum, ELF_PHNUM_MAX);
  uint64_t phsize = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr); /* small: phnum <= 64 */
  if (!range_inside(eh->e_phoff, phsize, c->len))
    return fail(c,
                "e_phoff+e_phnum*e_phentsize = 0x%llx+0x%llx exceeds file size 0x%zx; the "
                "file is truncated or e_phoff is corrupt",
                (unsigned long long)eh->e_phoff, (unsigned long long)phsize, c->len);
  return 0;
}

static int check_load(const struct load_ctx *c, int i, const Elf64_Phdr *ph) {
  if (ph->p_filesz > ph->p_memsz)
    return fail(c, "program header %d (PT_LOAD) p_filesz is 0x%llx, larger than p_memsz 0x%llx", i,
                (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
  if (ph->p_offset > c->len)
    return fail(c, "program header %d (PT_LOAD) p_offset is 0x%llx, beyond file size 0x%zx", i,
                (unsigned long long)ph->p_offset, c->len);
  if (ph->p_filesz > UINT64_MAX - ph->p_offset)
    return fail(c,
                "program header %d (PT_LOAD) p_offset+p_filesz overflows (p_offset 0x%llx, "
                "p_filesz 0x%llx)",
                i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz);
  if (!range_inside(ph->p_offset, ph->p_filesz, c->len))
    return fail(c,
                "program header %d (PT_LOAD) p_offset+p_filesz = 0x%llx exceeds file size "
                "0x%zx; the file is truncated",
                i, (unsigned long long)(ph->p_offset + ph->p_filesz), c->len);
  if (ph->p_paddr != ph->p_vaddr)
    return fail(c,
                "program header %d (PT_LOAD) p_paddr is 0x%llx but p_vaddr is 0x%llx, "
                "expected equal (guest images are identity-mapped)",
                i, (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_vaddr);
  if (ph->p_paddr < VTB_RESERVED_END)
    return fail(c,
                "program header %d (PT_LOAD) p_paddr is 0x%llx, inside VMM-reserved memory "
                "[0, 0x%llx); link the image at or above 0x%llx",
                i, (unsigned long long)ph->p_paddr, VTB_RESERVED_END, VTB_RESERVED_END);
  if (!range_inside(ph->p_paddr, ph->p_memsz, c->gm->size)) {
    if (ph->p_memsz > UINT64_MAX - ph->p_paddr)
      return fail(c,
                  "program header %d (PT_LOAD) p_paddr+p_memsz overflows (p_paddr 0x%llx, "
                  "p_memsz 0x%llx)",
                  i, (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
    return fail(c,
                "program header %d (PT_LOAD) p_paddr+p_memsz = 0x%llx exceeds guest RAM "
                "size 0x%llx; give the guest more memory with --mem",
                i, (unsigned long long)(ph->p_paddr + ph->p_memsz),
                (unsigned long long)c->gm->size);
  }
  return 0;
}

static bool key_ok(const char *k) {
  if (!k[0]) return false;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_')) return false;
  return true;
}

/* The parameter table note: whole entries, each checked, ended by an entry
 * with an empty key and nothing after it. */
static int parse_params(const struct load_ctx *c, int i, const uint8_t *desc, uint32_t descsz,
                        struct elf_params *out) {
  const size_t rec = sizeof(struct vtb_param);
  if (out->present)
    return fail(c, "program header %d (PT_NOTE) a second VTB parameter table; expected one", i);
  if (descsz % rec)
    return fail(c,
                "program header %d (PT_NOTE) VTB parameter table n_descsz is %u, not a "
                "multiple of the %zu-byte entry (workloads/rt/vtb_abi.h); rebuild the image",
                i, descsz, rec);
  size_t n = descsz / rec;
  static const char *const runtime[] = {VTB_RUNTIME_KEYS};
  bool ended = false;
  *out = (struct elf_params){.present = true};
  for (size_t k = 0; k < n; k++) {
    struct vtb_param p;
    memcpy(&p, desc + k * rec, rec); /* desc need not be aligned */
    if (ended)
      return fail(c, "program header %d (PT_NOTE) VTB parameter table has entries after its end",
                  i);
    if (!p.key[0]) {
      ended = true;
      continue;
    }
    if (!memchr(p.key, 0, sizeof(p.key)) || !key_ok(p.key))
      return fail(c,
                  "program header %d (PT_NOTE) VTB parameter %zu: key is not [a-z0-9_]+ and "
                  "NUL-terminated within %d bytes",
                  i, k, VTB_PARAM_KEY);
    if (!memchr(p.help, 0, sizeof(p.help)))
      return fail(c,
                  "program header %d (PT_NOTE) VTB parameter '%s': help text is not "
                  "NUL-terminated within %d bytes",
                  i, p.key, VTB_PARAM_HELP);
    if (p.min > p.def || p.def > p.max)
      return fail(c,
                  "program header %d (PT_NOTE) VTB parameter '%s': default %llu outside its "
                  "range [%llu, %llu]",
                  i, p.key, (unsigned long long)p.def, (unsigned long long)p.min,
                  (unsigned long long)p.max);
    for (size_t r = 0; r < sizeof(runtime) / sizeof(runtime[0]); r++)
      if (!strcmp(p.key, runtime[r]))
        return fail(c,
                    "program header %d (PT_NOTE) VTB parameter '%s' is the runtime's own key; "
                    "a workload cannot declare it",
                    i, p.key);
    for (int d = 0; d < out->n; d++)
      if (!strcmp(p.key, out->p[d].key))
        return fail(c, "program header %d (PT_NOTE) VTB parameter '%s' is declared twice", i,
                    p.key);
    if (out->n == VTB_PARAMS_DECL)
      return fail(c, "program header %d (PT_NOTE) VTB parameter table has more than %d entries", i,
                  VTB_PARAMS_DECL);
    out->p[out->n++] = p;
  }
  if (!ended)
    return fail(c,
                "program header %d (PT_NOTE) VTB parameter table has no end entry (an entry "
                "with an empty key)",
                i);
  return 0;
}

/* Walk one PT_NOTE segment's notes; pick up the PVH entry point and the
 * parameter table. */
static int parse_notes(const struct load_ctx *c, int i, const Elf64_Phdr *ph, gpa_t *pvh,
                       struct elf_params *params) {
  if (!range_inside(ph->p_offset, ph->p_filesz, c->len))
    return fail(c,
                "program header %d (PT_NOTE) p_offset+p_filesz (0x%llx+0x%llx) exceeds file "
                "size 0x%zx",
                i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz, c->len);
  const uint8_t *p = c->buf + ph->p_offset;
  uint64_t size = ph->p_filesz;
  /* Name and descriptor start at offsets aligned from the segment start
   * (4 for the usual notes, 8 for e.g. .note.gnu.property). */
  uint64_t align = ph->p_align == 8 ? 8 : 4;
  uint64_t off = 0;
  while (off < size) {
    Elf64_Nhdr nh;
    if (size - off < sizeof(nh))
      return fail(c,
                  "program header %d (PT_NOTE) note header at segment offset 0x%llx is "
                  "truncated (0x%llx bytes left, need %zu)",
                  i, (unsigned long long)off, (unsigned long long)(size - off), sizeof(nh));
    memcpy(&nh, p + off, sizeof(nh));
    /* off <= size <= len and namesz/descsz are 32-bit: no sum below can wrap */
    uint64_t name_off = off + sizeof(nh);
    uint64_t desc_off = (name_off + nh.n_namesz + align - 1) & ~(align - 1);
    uint64_t desc_end = desc_off + nh.n_descsz;
    if (desc_off > size || desc_end > size)
      return fail(c,
                  "program header %d (PT_NOTE) note n_namesz 0x%x + n_descsz 0x%x at segment "
                  "offset 0x%llx exceeds p_filesz 0x%llx",
                  i, nh.n_namesz, nh.n_descsz, (unsigned long long)off, (unsigned long long)size);
    const uint8_t *name = p + name_off;
    const uint8_t *desc = p + desc_off;
    if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 && memcmp(name, "Xen", 4) == 0) {
      if (nh.n_descsz != 4 && nh.n_descsz != 8)
        return fail(c,
                    "program header %d (PT_NOTE) Xen PHYS32_ENTRY note n_descsz is %u, "
                    "expected 4 or 8",
                    i, nh.n_descsz);
      uint64_t v = 0;
      memcpy(&v, desc, nh.n_descsz); /* little-endian host and image */
      if (v > UINT32_MAX)
        return fail(c,
                    "program header %d (PT_NOTE) Xen PHYS32_ENTRY is 0x%llx, expected a "
                    "32-bit address",
                    i, (unsigned long long)v);
      *pvh = v;
    } else if (nh.n_type == VTB_NOTE_PARAMS && nh.n_namesz == sizeof(VTB_NOTE_NAME) &&
               memcmp(name, VTB_NOTE_NAME, sizeof(VTB_NOTE_NAME)) == 0) {
      if (parse_params(c, i, desc, nh.n_descsz, params)) return -1;
    }
    /* the last note's trailing padding may be missing: the loop ends anyway */
    off = (desc_end + align - 1) & ~(align - 1);
  }
  return 0;
}

int elf__load_buf(const uint8_t *buf, size_t len, const char *name, struct guest_mem *gm,
                  struct elf_image *out, char *err, size_t errlen) {
  struct load_ctx c = {buf, len, name ? name : "image", gm, err, errlen};
  if (err && errlen) err[0] = '\0';
  if (!buf || !gm || !gm->host || !out) return fail(&c, "internal error: missing argument");
  if (len < sizeof(Elf64_Ehdr))
    return fail(&c,
                "file size is %zu bytes, smaller than the %zu-byte ELF header; the file is "
                "truncated or not an ELF image",
                len, sizeof(Elf64_Ehdr));
  if (len > VTB_MEM_MAX)
    return fail(&c, "file size is 0x%zx bytes, larger than the 0x%llx bytes guest RAM can hold",
                len, VTB_MEM_MAX);
  Elf64_Ehdr eh;
  memcpy(&eh, buf, sizeof(eh)); /* buf need not be aligned */
  if (check_ehdr(&c, &eh)) return -1;

  Elf64_Phdr ph[ELF_PHNUM_MAX];
  memcpy(ph, buf + eh.e_phoff, (size_t)eh.e_phnum * sizeof(Elf64_Phdr));

  struct elf_image img = {.entry = eh.e_entry};
  int nload = 0;
  bool entry_ok = false, entry_in_noexec = false;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < eh.e_phnum; i++) {
    switch (ph[i].p_type) {
    case PT_LOAD:
      if (check_load(&c, i, &ph[i])) return -1;
      for (int j = 0; j < i; j++) {
        if (ph[j].p_type != PT_LOAD || !ph[i].p_memsz || !ph[j].p_memsz) continue;
        if (ph[i].p_paddr < ph[j].p_paddr + ph[j].p_memsz &&
            ph[j].p_paddr < ph[i].p_paddr + ph[i].p_memsz)
          return fail(&c,
                      "program header %d (PT_LOAD) [0x%llx, 0x%llx) overlaps program header "
                      "%d [0x%llx, 0x%llx); segments must not overlap",
                      i, (unsigned long long)ph[i].p_paddr,
                      (unsigned long long)(ph[i].p_paddr + ph[i].p_memsz), j,
                      (unsigned long long)ph[j].p_paddr,
                      (unsigned long long)(ph[j].p_paddr + ph[j].p_memsz));
      }
      nload++;
      if (ph[i].p_paddr < lo) lo = ph[i].p_paddr;
      if (ph[i].p_paddr + ph[i].p_memsz > hi) hi = ph[i].p_paddr + ph[i].p_memsz;
      if (eh.e_entry >= ph[i].p_paddr && eh.e_entry - ph[i].p_paddr < ph[i].p_memsz) {
        if (ph[i].p_flags & PF_X)
          entry_ok = true;
        else
          entry_in_noexec = true;
      }
      break;
    case PT_NOTE:
      if (parse_notes(&c, i, &ph[i], &img.pvh_entry, &img.params)) return -1;
      break;
    case PT_INTERP:
    case PT_DYNAMIC:
      return fail(&c,
                  "program header %d is %s: the image needs dynamic linking; link the "
                  "workload with -static",
                  i, ptype_name(ph[i].p_type));
    default: /* PT_GNU_STACK, PT_GNU_PROPERTY, ...: nothing to load */
      break;
    }
  }
  if (nload == 0)
    return fail(&c, "program headers contain no PT_LOAD segment, expected at least one");
  if (!entry_ok)
    return fail(&c, "e_entry is 0x%llx, %s", (unsigned long long)eh.e_entry,
                entry_in_noexec ? "inside a PT_LOAD segment without PF_X (not executable)"
                                : "outside every PT_LOAD segment; expected the entry inside an "
                                  "executable loaded segment");

  /* Everything checked: copy the file bytes, zero the rest (.bss). */
  for (int i = 0; i < eh.e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD) continue;
    gpa_t at = ph[i].p_paddr;
    if (guest_mem__write(gm, at, buf + ph[i].p_offset, ph[i].p_filesz) ||
        guest_mem__fill(gm, at + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz))
      return fail(&c, "internal error: program header %d passed checks but not in RAM", i);
  }
  img.lo = lo;
  img.hi = (hi + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1); /* hi <= RAM size: cannot wrap */
  img.nsegments = nload;
  *out = img;
  return 0;
}

int elf__load_file(const char *path, struct guest_mem *gm, struct elf_image *out, char *err,
                   size_t errlen) {
  char dummy[1];
  if (!err || !errlen) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen,
             "%s: cannot open: %s; check the image path (make builds workloads "
             "into workloads/build/)",
             path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file; expected an ELF image", path);
    close(fd);
    return -1;
  }
  if ((uint64_t)st.st_size > VTB_MEM_MAX) {
    snprintf(err, errlen,
             "%s: file size is 0x%llx bytes, larger than the 0x%llx bytes guest RAM "
             "can hold",
             path, (unsigned long long)st.st_size, VTB_MEM_MAX);
    close(fd);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory reading 0x%zx bytes", path, size);
    close(fd);
    return -1;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(err, errlen, "%s: read failed: %s", path, strerror(errno));
      free(buf);
      close(fd);
      return -1;
    }
    if (n == 0) break; /* shrank under us: validate what we have */
    got += (size_t)n;
  }
  close(fd);
  int r = elf__load_buf(buf, got, path, gm, out, err, errlen);
  free(buf);
  return r;
}
