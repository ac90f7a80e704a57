/* guest_mem.c - guest RAM as one anonymous mapping at GPA 0, and the one
 * checked-GPA helper every guest pointer goes through. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"

int guest_mem__init(struct guest_mem *gm, uint64_t size) {
  gm->host = NULL;
  gm->size = 0;
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  if (size < VTB_MEM_MIN || size > VTB_MEM_MAX || size % (uint64_t)page) return -EINVAL;
  /* MAP_NORESERVE: untouched guest pages cost nothing; MAP_SHARED so a
   * backend may map the same pages elsewhere without copying. */
  void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return -errno;
  gm->host = p;
  gm->size = size;
  return 0;
}

void guest_mem__destroy(struct guest_mem *gm) {
  if (gm->host) munmap(gm->host, (size_t)gm->size);
  gm->host = NULL;
  gm->size = 0;
}

void *guest_mem__ptr(const struct guest_mem *gm, gpa_t gpa, uint64_t len) {
  if (!gm || !gm->host) return NULL;
  /* Written so no sum can wrap: gpa <= size first, then len <= size - gpa. */
  if (gpa > gm->size || len > gm->size - gpa) return NULL;
  return gm->host + gpa;
}
