/* backend.h - the interface between refvmm's core and a backend (kvm/,
 * model/): the one header of a backend the core includes.
 *
 * A backend is a `const struct backend_ops NAME_backend_ops` in its own
 * folder refvmm/NAME/; the build finds it there (the Makefile generates the
 * table backend.c reads), so adding one touches no core file. The first
 * group of hooks runs the guest; the second says what differs between
 * backends (NULL or 0: the backend has no such thing, the core's default
 * applies). Hooks return 0 or -errno and put the reason in
 * vm->status_detail unless they say otherwise.
 */
#ifndef REFVMM_BACKEND_H
#define REFVMM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm.h"

struct json_t;
struct event_backend; /* refvmm/events.h */
struct event_policy;  /* refvmm/event_policy.h */

/* How a reference run the backend asked for went (reference_done). */
enum backend_ref_outcome {
  BACKEND_REF_NOMEM,    /* no memory for its session */
  BACKEND_REF_NO_START, /* it could not be set up: `why` */
  BACKEND_REF_RAN,      /* it ran: `ref` is the finished VM (its status says how it ended) */
};

struct backend_ops {
  const char *name;

  /* ---- running the guest ---- */
  /* Refuse modes this backend cannot honour (message names the reason) and
   * fill in the axes the command line left unset. */
  int (*check_modes)(struct vm *vm);
  int (*create)(struct vm *vm); /* VM, memory, vCPU */
  int (*set_boot_state)(struct vm *vm, const struct boot_state *bs);
  /* Run until the next exit the VMM must see; fill *exit. */
  int (*run)(struct vm *vm, struct vcpu_exit *exit);
  int (*get_regs)(struct vm *vm, struct vcpu_regs *regs);
  /* Make a blocked run() return soon (KVM_EXIT_INTR); async-signal-safe,
   * callable from the watchdog thread. */
  void (*kick)(struct vm *vm);
  /* Immediate injection for runs without a delivery policy; may be NULL. */
  int (*inject_nmi)(struct vm *vm);
  int (*inject_irq)(struct vm *vm, uint32_t vector);
  void (*destroy)(struct vm *vm);
  /* Name of exit reason `r` in this backend's vocabulary. */
  const char *(*exit_name)(uint32_t r);

  /* ---- what differs between backends ---- */
  /* The backend interprets the guest (tens of times slower than the
   * hardware): a guest run at its image's default sizes, which are sized
   * for the hardware, gets a note before it starts. */
  bool interprets_guest;
  /* Guest RAM as private anonymous memory advised for transparent huge
   * pages, as QEMU backs it (guest_mem.h): for a backend whose results do
   * not depend on how the host backs RAM (the model, which reads it through
   * its own pointers). KVM keeps shared memory: on kvm_pvm private memory
   * adds #PF exits (the zero page's copy on write: pgfault's pf_taken
   * 1500 -> 2000 at 4 KiB, 1501 with huge pages). */
  bool ram_private_huge;
  /* Where summary lines say the paging and tlb axes not given on the
   * command line came from (" (host module)"); NULL: " (default)". */
  const char *unset_mode_origin;
  /* The rate of the host TSC this vCPU runs at, when the backend knows it
   * exactly (KVM_GET_TSC_KHZ), with where it came from in *how; 0: the
   * core calibrates the host TSC. */
  uint64_t (*vcpu_tsc_hz)(const struct vm *vm, const char **how);
  /* The rate the guest's TSC runs at (boot info tells the guest); NULL:
   * the host TSC rate (vm->tsc_hz). */
  uint64_t (*guest_tsc_hz)(const struct vm *vm);
  /* VTB_BOOT_F_* flags this backend adds to the boot info. */
  uint32_t (*boot_flags)(const struct vm *vm);
  /* The fds KVM's binary statistics and the PMU are read from (probes/
   * probe_set.h); NULL: this backend has no such probes. */
  int (*probe_fds)(const struct vm *vm, int *vm_fd, int *vcpu_fd);
  /* Its shadow MMU takes --shadow-policy (sync|unsync|flood, with paging shadow);
   * false: the option is refused. */
  bool shadow_policies;
  /* A cost profile (--profile FILE; NULL path: the built-in default),
   * loaded after create(). 0, or -1 with a message in err. NULL: the
   * backend has no cost model and --profile is refused. */
  int (*load_profile)(struct vm *vm, const char *path, char *err, size_t errlen);
  /* At the timed region's begin / end mark, after the host's snapshot. */
  void (*timed_mark)(struct vm *vm, bool end);
  /* A reference run before the measured one (the model's native baseline):
   * return true with *ref filled from vm->cfg to have the core run it
   * in-process, quietly and without probes (`wanted`: the command line did
   * not turn it off); its outcome then goes to reference_done. */
  bool (*reference_config)(struct vm *vm, bool wanted, struct vm_config *ref);
  void (*reference_done)(struct vm *vm, enum backend_ref_outcome o, const struct vm *ref,
                         const char *why);
  /* The backend's own section of the run object (key `section`) and its
   * summary lines; NULL: none. The JSON is a new reference. */
  const char *section;
  struct json_t *(*section_json)(const struct vm *vm);
  void (*print_summary)(const struct vm *vm, FILE *out);
  /* A backend that models time (the model's cycles): the modeled time line,
   * printed before the core's wall time, which the core then calls the
   * backend's running time; NULL: the wall time is the guest's time. */
  void (*print_modeled_time)(const struct vm *vm, FILE *out);
  /* The backend's VM exits by reason, printed before the core's table of
   * the exits that reached refvmm; NULL: that table is all there is. */
  void (*print_vm_exits)(const struct vm *vm, FILE *out);
  /* NMI/IRQ delivery (refvmm/events.h). A backend whose guest runs in real
   * time gives its injection primitives (event_wall): the core runs the
   * policies on the wall clock between two run() calls. A backend that
   * enters the guest itself binds the policies to its own clock and
   * controls (event_attach) and runs them at each entry. Neither: events
   * are injected at once through inject_nmi/inject_irq. */
  const struct event_backend *event_wall;
  int (*event_attach)(struct vm *vm, struct event_policy *p);

  /* ---- the platform of a Linux boot (platform.h) ---- */
  /* An interrupt message to the backend's own local APIC (an MSI: the
   * address and data an I/O APIC's redirection entry makes); refvmm's I/O
   * APIC delivers through it. NULL: the backend has no local APIC of its
   * own and refvmm emulates one. */
  int (*signal_msi)(struct vm *vm, uint64_t address, uint32_t data);
  /* The vCPU waits in HLT inside the backend (it never reports KVM_EXIT_HLT
   * with its own local APIC): 1 when halted now (*interrupts: RFLAGS.IF),
   * 0 when running, -errno. Called on the vCPU thread, between runs. */
  int (*halted)(struct vm *vm, bool *interrupts);
  /* The devices are on vm->bus: a backend that hands MSRs to refvmm's
   * devices or models the CPU's side of the local APIC looks at them.
   * Called for every run, after the cost profile is loaded. 0 or -errno
   * (message in vm->status_detail). */
  int (*platform_ready)(struct vm *vm);
  /* The VMM stored into guest RAM [gpa, gpa+len) (guest_mem__write: event
   * logs, boot info, anything refvmm writes into the guest; the session
   * binds this to vm->mem): drop what the backend derived from those bytes
   * and would otherwise use stale. The model: decoded instructions of a
   * code page there, shadow entries made from a guest page table there.
   * NULL: nothing to drop (KVM: the CPU fetches what is in RAM). */
  void (*guest_written)(struct vm *vm, gpa_t gpa, uint64_t len);
};

/* The backend called `name`, NULL if none. */
const struct backend_ops *backend__find(const char *name);
/* The names of the backends `which` accepts (NULL: all) into buf,
 * separated by sep and the last two by last_sep ("kvm, model or x" with
 * ", " and " or "). */
const char *backend__names(char *buf, size_t len, const char *sep, const char *last_sep,
                           bool (*which)(const struct backend_ops *ops));

#endif
