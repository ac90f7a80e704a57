/* guest_mem.c - guest RAM as one anonymous mapping at GPA 0, the one
 * checked-GPA helper every guest pointer goes through, and the copies in
 * and out of guest RAM the VMM makes. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

int guest_mem__init_backing(struct guest_mem *gm, uint64_t size, bool private_huge) {
  gm->host = NULL;
  gm->size = 0;
  gm->written = NULL;
  gm->written_vm = NULL;
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  if (size < VTB_MEM_MIN || size > VTB_MEM_MAX || size % (uint64_t)page) return -EINVAL;
  /* MAP_NORESERVE: untouched guest pages cost nothing; MAP_SHARED so a
   * backend may map the same pages elsewhere without copying. Private and
   * advised for huge pages where the backend asks: a guest's random
   * references over a large working set (gups) then miss the host's TLB far
   * less. The advice fails only where the kernel has no THP (EINVAL); the
   * host's THP mode is in every result's context ("thp"). */
  int share = private_huge ? MAP_PRIVATE : MAP_SHARED;
  void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, share | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) return -errno;
#ifdef MADV_HUGEPAGE
  if (private_huge) (void)madvise(p, (size_t)size, MADV_HUGEPAGE);
#endif
  gm->host = p;
  gm->size = size;
  return 0;
}

int guest_mem__init(struct guest_mem *gm, uint64_t size) {
  return guest_mem__init_backing(gm, size, false);
}

void guest_mem__destroy(struct guest_mem *gm) {
  if (gm->host) munmap(gm->host, (size_t)gm->size);
  gm->host = NULL;
  gm->size = 0;
}

/* The host address of [gpa, gpa+len) or NULL. */
static uint8_t *range(const struct guest_mem *gm, gpa_t gpa, uint64_t len) {
  if (!gm || !gm->host) return NULL;
  /* Written so no sum can wrap: gpa <= size first, then len <= size - gpa. */
  if (gpa > gm->size || len > gm->size - gpa) return NULL;
  return gm->host + gpa;
}

const void *guest_mem__ptr(const struct guest_mem *gm, gpa_t gpa, uint64_t len) {
  return range(gm, gpa, len);
}

int guest_mem__read(const struct guest_mem *gm, gpa_t gpa, void *dst, uint64_t len) {
  const uint8_t *p = range(gm, gpa, len);
  if (!p) return -EFAULT;
  if (len) memcpy(dst, p, (size_t)len);
  return 0;
}

static void written(const struct guest_mem *gm, gpa_t gpa, uint64_t len) {
  if (gm->written && len) gm->written(gm->written_vm, gpa, len);
}

int guest_mem__write(const struct guest_mem *gm, gpa_t gpa, const void *src, uint64_t len) {
  uint8_t *p = range(gm, gpa, len);
  if (!p) return -EFAULT;
  if (len) memcpy(p, src, (size_t)len);
  written(gm, gpa, len);
  return 0;
}

int guest_mem__fill(const struct guest_mem *gm, gpa_t gpa, uint8_t byte, uint64_t len) {
  uint8_t *p = range(gm, gpa, len);
  if (!p) return -EFAULT;
  if (len) memset(p, byte, (size_t)len);
  written(gm, gpa, len);
  return 0;
}
