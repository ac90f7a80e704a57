/* cmd_host.c - vtbench host show|set|restore: the host's KVM flavour, its
 * module parameters and the modes they give; reload the vendor module with
 * other parameters and put the originals back (refvmm/kvm/kvm_host.h,
 * docs/KVM_MODES.md). Where a reload is impossible it says why and changes
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "msg.h"
#include "refvmm/kvm/kvm_host.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench host show [--json]\n"
               "       vtbench host set NAME=VALUE ... --yes   e.g. ept=0 vpid=1 "
               "vnmi=1\n"
               "       vtbench host restore\n"
               "  options: --sysfs DIR (default /sys), --state FILE (default "
               "$VTB_HOST_STATE,\n"
               "  $XDG_STATE_HOME/vtbench/host-state.json or "
               "/var/lib/vtbench/host-state.json)\n"
               "  show: flavour, /dev/kvm, modes and the parameters that set them, "
               "module\n"
               "        parameters, whether set can work here, a pending restore.\n"
               "  set: reload kvm_intel/kvm_amd with the parameters (root, module not "
               "built in,\n"
               "       no VM running), verify them, save the originals for restore.\n"
               "  restore: reload with the saved originals.\n");
}

int cmd_host(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? VTB_EXIT_USAGE : VTB_EXIT_OK;
  }
  const char *sub = argv[1];
  struct kvm_host_env env = {0};
  bool yes = false, json = false;
  char **words = calloc((size_t)argc, sizeof *words);
  int nwords = 0;
  if (!words) return VTB_EXIT_FAILED;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--yes") || !strcmp(a, "-y")) {
      yes = true;
    } else if (!strcmp(a, "--json")) {
      json = true;
    } else if ((!strcmp(a, "--sysfs") || !strcmp(a, "--state")) && i + 1 < argc) {
      if (a[2] == 's' && a[3] == 'y')
        env.sysroot = argv[++i];
      else
        env.state_path = argv[++i];
    } else if (a[0] == '-') {
      msg__error("unknown option '%s' (see vtbench host --help)", a);
      free(words);
      return VTB_EXIT_USAGE;
    } else {
      words[nwords++] = argv[i];
    }
  }
  int rc = VTB_EXIT_OK;
  static struct kvm_host_info h;
  int drc = kvm_host__detect(env.sysroot, &h);
  if (drc) {
    msg__error("cannot read %s: %s", env.sysroot ? env.sysroot : "/sys", strerror(-drc));
    free(words);
    return VTB_EXIT_IO;
  }
  char msg[1024];
  if (!strcmp(sub, "show") || !strcmp(sub, "set") || !strcmp(sub, "restore")) {
    static char name[16]; /* messages from here on say "vtbench host set: ..." */
    snprintf(name, sizeof name, "host %s", sub);
    msg__set_command(name);
  }
  if (!strcmp(sub, "show")) {
    if (nwords) {
      msg__error("unexpected argument '%s'", words[0]);
      rc = VTB_EXIT_USAGE;
    } else if (json) {
      json_t *o = kvm_host__to_json(&h);
      bool can = kvm_host__can_reload(&h, &env, msg, sizeof msg) == 0;
      json_object_set_new(o, "reconfigurable", json_boolean(can));
      json_object_set_new(o, "reconfigure_refusal", can ? json_null() : json_string(msg));
      char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
      if (s) puts(s);
      free(s);
      json_decref(o);
    } else {
      kvm_host__print(&h, &env, stdout);
    }
  } else if (!strcmp(sub, "set")) {
    struct kvm_host_plan plan;
    if (kvm_host__can_reload(&h, &env, msg, sizeof msg)) {
      msg__error("%s; nothing was changed", msg);
      rc = VTB_EXIT_FAILED;
    } else if (kvm_host__parse_settings(&h, nwords, words, &plan, msg, sizeof msg)) {
      msg__error("%s", msg);
      rc = VTB_EXIT_USAGE;
    } else if (!yes) {
      printf("would reload %s with", plan.module);
      for (int i = 0; i < plan.n; i++)
        printf(" %s=%s", plan.set[i].name, plan.set[i].value);
      printf("; add --yes to do it (VMs cannot run meanwhile)\n");
      rc = VTB_EXIT_USAGE;
    } else if (kvm_host__reconfigure(&env, &plan, msg, sizeof msg)) {
      msg__error("%s", msg);
      rc = VTB_EXIT_FAILED;
    } else {
      printf("vtbench host set: %s\n", msg);
    }
  } else if (!strcmp(sub, "restore")) {
    int r = nwords ? -2 : kvm_host__restore(&env, msg, sizeof msg);
    if (r == -2) {
      msg__error("unexpected argument '%s'", words[0]);
      rc = VTB_EXIT_USAGE;
    } else {
      fprintf(r < 0 ? stderr : stdout, "vtbench host restore: %s\n", msg);
      rc = r < 0 ? VTB_EXIT_FAILED : VTB_EXIT_OK;
    }
  } else {
    msg__error("unknown subcommand '%s' (show, set, restore)", sub);
    rc = VTB_EXIT_USAGE;
  }
  free(words);
  return rc;
}
