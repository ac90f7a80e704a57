/* backend.c - the backends refvmm knows, by name. */
#include <string.h>

#include "kvm/kvm_backend.h"
#include "model/model_backend.h"
#include "vm.h"

const struct backend_ops *backend__find(const char *name) {
  if (name && strcmp(name, "kvm") == 0) return &kvm_backend_ops;
  if (name && strcmp(name, "model") == 0) return &model_backend_ops;
  return NULL;
}
