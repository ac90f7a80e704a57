/* calibrate_fit.c - from calibrate's measurements to profile figures
 * (docs/COST_MODEL.md, "Calibrating on your host"). Each measured time per
 * iteration is the profile's figures times what the model counts per
 * iteration of the same run (counts_by_figure), so a group of figures is
 * fitted to a group of measurements by least squares with non-negative
 * figures (rows scaled by their time: relative errors), the figures fitted
 * before it and the base profile's supplying the rest, in this order:
 *
 *   exits      exit.* (every reason), vmm.cpuid, vmm.user_exit: from the
 *              vmcall, cpuid and pio round trips (as before: no fit)
 *   ring 0     insn.cpl0: callret cpl=0 per emulated instruction where the
 *              host emulates ring 0 (kvm_pvm), else 0
 *   insn       insn.alu/mov/branch/stack/muldiv/other, insn.dep.*,
 *              mem.data_ref: the 11 ubench kernels
 *   dependent  mem.l2/llc/dram.dependent: ptrchase at L2, LLC, DRAM sizes;
 *              mem.l1.dependent = ptrchase L1's time per load
 *   independent mem.l2/llc/dram.independent: gups at the same sizes and at
 *              twice the LLC
 *   stream     mem.l2/llc/dram.stream: memstream at the same sizes
 *              (mem.l1.independent = mem.l1.dependent scaled by the DRAM
 *              independent / dependent ratio)
 *   events     event.delivery: syscall cpl=3, less event.iret
 *   shadow     vmm.shadow_fill, shadow_true_fault, pt_write_emulate (one
 *              value): pgfault's time beyond everything else per #PF exit
 *              (shadow-paging hosts)
 * A group is left at the base's figures when its measurements failed. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "calibrate.h"

struct fit {
  const struct calib_result *r;
  double ghz;
  double cyc[CF_COUNT]; /* the figures as known so far */
  struct calib_figure *out;
  int n, max;
};

static const struct calib_meas *ok_meas(const struct calib_result *r, enum calib_meas_id id) {
  const struct calib_meas *m = &r->m[id];
  return m->ok && m->nrep && m->median > 0 && isfinite(m->median) ? m : NULL;
}

/* ...and run on the model: its counts are known. */
static const struct calib_meas *fit_meas(const struct calib_result *r, enum calib_meas_id id) {
  const struct calib_meas *m = ok_meas(r, id);
  return m && m->modeled ? m : NULL;
}

static void add(struct fit *x, enum cost_fig fig, double cycles, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(struct fit *x, enum cost_fig fig, double cycles, const char *fmt, ...) {
  if (x->n >= x->max || !isfinite(cycles) || cycles < 0) return; /* does not hold */
  for (int i = 0; i < x->n; i++)
    if (x->out[i].fig == fig) return; /* the first derivation stands */
  struct calib_figure *f = &x->out[x->n++];
  f->fig = fig;
  f->cycles = cycles;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->how, sizeof(f->how), fmt, ap);
  va_end(ap);
  x->cyc[fig] = cycles;
}

/* Cycles per iteration of m that the figures outside `cols` account for. */
static double known(const struct fit *x, const struct calib_meas *m, const enum cost_fig *cols,
                    int ncols) {
  double s = 0;
  for (int f = 0; f < CF_COUNT; f++) {
    bool col = false;
    for (int j = 0; j < ncols; j++)
      col |= (int)cols[j] == f;
    if (!col) s += m->feat[f] * x->cyc[f];
  }
  return s;
}

/* Fit figures cols[] to measurements ids[] (those measured and modeled):
 * rows = what each measurement's time leaves after the other figures, over
 * its counts of cols, scaled by its time. Writes the fitted figures a
 * measurement counts (others keep their value); returns how many rows. */
static int fit_group(struct fit *x, const enum calib_meas_id *ids, int nids,
                     const enum cost_fig *cols, int ncols, const char *what) {
  double A[64 * CALIB_FIT_MAX], b[64], sol[CALIB_FIT_MAX];
  int m = 0;
  char runs[200] = "";
  size_t off = 0;
  bool counted[CALIB_FIT_MAX] = {false};
  for (int i = 0; i < nids && m < 64; i++) {
    const struct calib_meas *me = fit_meas(x->r, ids[i]);
    if (!me) continue;
    double t = me->median * x->ghz;
    double rest = t - known(x, me, cols, ncols);
    for (int j = 0; j < ncols; j++) {
      A[m * ncols + j] = me->feat[cols[j]] / t;
      if (me->feat[cols[j]] > 1e-6) counted[j] = true;
    }
    b[m] = rest / t;
    m++;
    if (off < sizeof(runs))
      off += (size_t)snprintf(runs + off, sizeof(runs) - off, "%s%s", off ? ", " : "", me->label);
  }
  if (!m || calibrate__nnls(m, ncols, A, b, sol)) return 0;
  /* the relative residual of the fit, for the sources */
  double worst = 0;
  for (int i = 0; i < m; i++) {
    double r = -b[i];
    for (int j = 0; j < ncols; j++)
      r += A[i * ncols + j] * sol[j];
    worst = fmax(worst, fabs(r));
  }
  for (int j = 0; j < ncols; j++) {
    if (!counted[j]) continue;
    double v = sol[j];
    bool raised = cols[j] <= CF_INSN_OTHER && v < COST_INSN_MIN; /* an instruction class */
    if (raised) v = COST_INSN_MIN;
    add(x, cols[j], v,
        "%s: least squares over %d runs (%s; each the median of KVM runs, counts from the "
        "model), worst residual %.0f%%%s",
        what, m, runs, 100 * worst, raised ? "; raised to the loader's floor" : "");
  }
  return m;
}

/* The exit figures: round trips measured from ring 3 and through refvmm. */
static void fit_exits(struct fit *x) {
  const struct calib_result *r = x->r;
  const struct calib_meas *hc = ok_meas(r, CM_VMCALL3), *cpuid = ok_meas(r, CM_CPUID3),
                          *pio = ok_meas(r, CM_PIO0), *emul = ok_meas(r, CM_EMUL0);
  double g = x->ghz;
  if (hc) {
    add(x, CF_EXIT_VMCALL, hc->median * g,
        "%s: bare exit+entry round trip (refused in the host kernel), %.0f ns, median of %d runs",
        hc->args, hc->median, hc->nrep);
    add(x, CF_EXIT_IO_INSTRUCTION, hc->median * g,
        "%s: the bare round trip stands for an OUT's exit+entry (vmm.user_exit adds the "
        "user-space trip), %.0f ns",
        hc->args, hc->median);
    static const enum cost_fig others[] = {CF_EXIT_DEFAULT,
                                           CF_EXIT_EPT_VIOLATION,
                                           CF_EXIT_EPT_MISCONFIG,
                                           CF_EXIT_EXCEPTION_NMI,
                                           CF_EXIT_CR_ACCESS,
                                           CF_EXIT_INVLPG,
                                           CF_EXIT_HLT,
                                           CF_EXIT_NMI_WINDOW,
                                           CF_EXIT_INTERRUPT_WINDOW,
                                           CF_EXIT_PREEMPTION_TIMER,
                                           CF_EXIT_EXTERNAL_INTERRUPT};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
      add(x, others[i], hc->median * g,
          "%s: the bare round trip (%.0f ns) stands for every exit reason's; the reason's "
          "handling is its vmm.* figure",
          hc->args, hc->median);
  }
  if (cpuid && hc && cpuid->median > hc->median) {
    add(x, CF_EXIT_CPUID, hc->median * g,
        "%s: the bare round trip (%s costs more: the rest is vmm.cpuid), median of %d runs",
        hc->args, cpuid->args, hc->nrep);
    add(x, CF_VMM_CPUID, (cpuid->median - hc->median) * g,
        "%s (%.0f ns) minus the bare round trip %.0f ns (%s): KVM's CPUID handling", cpuid->args,
        cpuid->median, hc->median, hc->args);
  } else if (cpuid) {
    add(x, CF_EXIT_CPUID, cpuid->median * g,
        "%s: CPUID round trip with KVM's handling, %.0f ns (not above the bare round trip, so "
        "not split: vmm.cpuid stays default), median of %d runs",
        cpuid->args, cpuid->median, cpuid->nrep);
  }
  if (pio && pio->emul_median >= 1 && emul) {
    double loop = pio->emul_median * emul->median;
    add(x, CF_VMM_USER_EXIT, (pio->median - loop) * g,
        "%s (%.0f ns per OUT) minus %.2f emulated insns x %.0f ns (%s): the trip through refvmm",
        pio->args, pio->median, pio->emul_median, emul->median, emul->args);
  } else if (pio && pio->emul_median < 1 && hc) {
    add(x, CF_VMM_USER_EXIT, (pio->median - hc->median) * g,
        "%s (%.0f ns per OUT) minus the bare round trip %.0f ns (%s)", pio->args, pio->median,
        hc->median, hc->args);
  }
}

/* insn.cpl0: what a ring-0 instruction costs beyond its class here. */
static void fit_ring0(struct fit *x) {
  const struct calib_meas *emul = ok_meas(x->r, CM_EMUL0);
  const struct calib_meas *e = &x->r->m[CM_EMUL0];
  if (emul)
    add(x, CF_INSN_CPL0, emul->median * x->ghz,
        "%s: %.0f ns per ring-0 instruction the host emulates (time / KVM insn_emulation), "
        "median of %d runs",
        emul->args, emul->median, emul->nrep);
  else if (e->na)
    add(x, CF_INSN_CPL0, 0,
        "%s: KVM emulated no ring-0 instruction: ring 0 runs natively, no extra cost", e->args);
}

int calibrate__derive(const struct calib_result *r, const struct cost_profile *base,
                      struct calib_figure *out, int max) {
  struct fit x = {.r = r, .ghz = r->host.tsc_hz / 1e9, .out = out, .max = max};
  if (!(x.ghz > 0)) return 0;
  for (int f = 0; f < CF_COUNT; f++)
    x.cyc[f] = base->cycles[f];
  fit_exits(&x);
  fit_ring0(&x);

  static const enum calib_meas_id ub[] = {CM_UB_ALU,    CM_UB_ALU_DEP, CM_UB_MOV,  CM_UB_MOV_DEP,
                                          CM_UB_MUL,    CM_UB_MUL_DEP, CM_UB_LOAD, CM_UB_LOAD_DEP,
                                          CM_UB_BRANCH, CM_UB_STACK,   CM_UB_NOP};
  static const enum cost_fig insn[] = {CF_INSN_ALU,      CF_INSN_MOV,     CF_INSN_BRANCH,
                                       CF_INSN_STACK,    CF_INSN_MULDIV,  CF_INSN_OTHER,
                                       CF_INSN_DEP_ALU,  CF_INSN_DEP_MOV, CF_INSN_DEP_MULDIV,
                                       CF_INSN_DEP_LOAD, CF_MEM_DATA_REF};
  fit_group(&x, ub, 11, insn, 11, "instruction costs");

  const struct calib_meas *l1 = ok_meas(r, CM_CHASE_L1);
  if (l1)
    add(&x, CF_MEM_L1_DEP, l1->median * x.ghz,
        "%s: %.2f ns per dependent load served by L1 (a walk reference waits that long), "
        "median of %d runs",
        l1->args, l1->median, l1->nrep);
  static const enum calib_meas_id chase[] = {CM_CHASE_L2, CM_CHASE_LLC, CM_CHASE_DRAM};
  static const enum cost_fig dep[] = {CF_MEM_L2_DEP, CF_MEM_LLC_DEP, CF_MEM_DRAM_DEP};
  fit_group(&x, chase, 3, dep, 3, "dependent loads served by L2, LLC, DRAM");
  static const enum calib_meas_id gups[] = {CM_GUPS_L2, CM_GUPS_LLC, CM_GUPS_TWO, CM_GUPS_DRAM};
  static const enum cost_fig indep[] = {CF_MEM_L2_INDEP, CF_MEM_LLC_INDEP, CF_MEM_DRAM_INDEP};
  fit_group(&x, gups, 4, indep, 3, "independent references served by L2, LLC, DRAM");
  static const enum calib_meas_id stream[] = {CM_STREAM_L2, CM_STREAM_LLC, CM_STREAM_DRAM};
  static const enum cost_fig str[] = {CF_MEM_L2_STREAM, CF_MEM_LLC_STREAM, CF_MEM_DRAM_STREAM};
  fit_group(&x, stream, 3, str, 3, "sequential streams served by L2, LLC, DRAM");
  bool have_l1 = false, have_ratio = false;
  for (int i = 0; i < x.n; i++) {
    have_l1 |= out[i].fig == CF_MEM_L1_DEP;
    have_ratio |= out[i].fig == CF_MEM_DRAM_INDEP;
  }
  if (have_l1 && have_ratio && x.cyc[CF_MEM_DRAM_DEP] > 0)
    add(&x, CF_MEM_L1_INDEP,
        x.cyc[CF_MEM_L1_DEP] * x.cyc[CF_MEM_DRAM_INDEP] / x.cyc[CF_MEM_DRAM_DEP],
        "mem.l1.dependent x mem.dram.independent / mem.dram.dependent (%.2f x %.2f / %.2f): a "
        "walk of an independent access overlaps as its misses do",
        x.cyc[CF_MEM_L1_DEP], x.cyc[CF_MEM_DRAM_INDEP], x.cyc[CF_MEM_DRAM_DEP]);

  /* event delivery: syscall's time beyond everything else, per delivery,
   * less event.iret (the two are counted together: their sum is measured) */
  const struct calib_meas *sc = fit_meas(r, CM_SYSCALL3);
  if (sc && sc->feat[CF_EVENT_DELIVERY] > 0) {
    enum cost_fig cols[2] = {CF_EVENT_DELIVERY, CF_EVENT_IRET};
    double t = sc->median * x.ghz, rest = t - known(&x, sc, cols, 2);
    double per = rest / sc->feat[CF_EVENT_DELIVERY] - x.cyc[CF_EVENT_IRET];
    add(&x, CF_EVENT_DELIVERY, per,
        "%s: %.0f ns per call, %.0f cycles of it beyond the other figures per event delivered "
        "(%.2f per call), less event.iret %.0f",
        sc->args, sc->median, rest, sc->feat[CF_EVENT_DELIVERY], x.cyc[CF_EVENT_IRET]);
  }

  /* the shadow MMU's #PF exits: pgfault's time beyond everything else */
  const struct calib_meas *pf = fit_meas(r, CM_PGFAULT);
  enum cost_fig sh[3] = {CF_VMM_SHADOW_FILL, CF_VMM_SHADOW_TRUE_FAULT, CF_VMM_PT_WRITE_EMULATE};
  double nsh = pf ? pf->feat[sh[0]] + pf->feat[sh[1]] + pf->feat[sh[2]] : 0;
  if (pf && nsh > 0) {
    double t = pf->median * x.ghz, rest = t - known(&x, pf, sh, 3);
    for (int i = 0; i < 3; i++)
      add(&x, sh[i], rest / nsh,
          "%s: %.0f ns per fault, %.0f cycles of it beyond the other figures over %.2f shadow "
          "#PF exits per fault (hidden fills, true faults, page-table writes: one value for the "
          "three)",
          pf->args, pf->median, rest, nsh);
  }
  return x.n;
}
