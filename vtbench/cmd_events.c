/* cmd_events.c - `vtbench events`: what this host's PMU can count, the way
 * refvmm would count it (probes/pmu.h): the core PMU libpfm4 detects,
 * whether perf_event_open works for hardware and software events, and for
 * each event of the default set (or of --events LIST) in each variant
 * (guest-only, host-only) whether it encodes and opens, with the reason
 * when not. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "msg.h"
#include "probes/pmu.h"
#include "results/context.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench events [--events LIST] [--all] [--json]\n"
               "  Lists what this host can count: libpfm4's core PMU, whether "
               "perf_event_open\n"
               "  works, and each PMU event refvmm would use (its default set, or the\n"
               "  comma-separated libpfm4 strings of --events LIST) in its guest-only "
               "(@guest)\n"
               "  and host-only (@host) variants: encoded by libpfm4, opened by the "
               "kernel, or\n"
               "  why not.\n"
               "  --all   also list every event libpfm4 knows for the PMUs present "
               "here\n"
               "  --json  one JSON object instead of the tables\n");
}

static const char *str_or(const json_t *j, const char *dflt) {
  return json_is_string(j) ? json_string_value(j) : dflt;
}

static void print_host(const json_t *cpu, const json_t *pc) {
  const json_t *peo = json_object_get(pc, "perf_event_open");
  const json_t *core = json_object_get(pc, "core_pmu");
  printf("cpu: %s family %lld model %lld (%s)\n", str_or(json_object_get(cpu, "vendor"), "?"),
         (long long)json_integer_value(json_object_get(cpu, "family")),
         (long long)json_integer_value(json_object_get(cpu, "model")),
         str_or(json_object_get(cpu, "model_name"), "?"));
  printf("core PMU (libpfm4 %s): %s\n", str_or(json_object_get(pc, "libpfm_api_version"), "?"),
         str_or(core, "none detected"));
  const char *kinds[] = {"hardware", "software"};
  for (int i = 0; i < 2; i++) {
    char key[32];
    snprintf(key, sizeof key, "%s_error", kinds[i]);
    const json_t *err = json_object_get(peo, key);
    printf("perf_event_open, %s events: %s%s%s\n", kinds[i],
           json_is_true(json_object_get(peo, kinds[i])) ? "works" : "fails",
           json_is_string(err) ? ": " : "", json_is_string(err) ? json_string_value(err) : "");
  }
  const json_t *par = json_object_get(pc, "perf_event_paranoid");
  if (json_is_integer(par))
    printf("perf_event_paranoid: %lld\n", (long long)json_integer_value(par));
}

int cmd_events(int argc, char **argv) {
  static const struct option opts[] = {{"events", required_argument, NULL, 'e'},
                                       {"all", no_argument, NULL, 'a'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  const char *events = NULL;
  int all = 0, as_json = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "e:ajh", opts, NULL)) != -1) {
    switch (c) {
    case 'e':
      events = optarg;
      break;
    case 'a':
      all = 1;
      break;
    case 'j':
      as_json = 1;
      break;
    case 'h':
      usage(stdout);
      return VTB_EXIT_OK;
    default:
      msg__error("unknown option or missing value '%s'", argv[optind - 1]);
      usage(stderr);
      return VTB_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    msg__error("unexpected argument '%s'", argv[optind]);
    return VTB_EXIT_USAGE;
  }
  char err[192];
  if (pmu__lib_init(err, sizeof err)) {
    msg__error("%s", err);
    return VTB_EXIT_NOTHING;
  }
  json_t *cpu = context__cpu();
  json_t *pc = pmu__context_json();
  json_t *list = pmu__probe_events_json(events);
  if (as_json) {
    json_t *o = json_pack("{s:o, s:o, s:O}", "cpu", cpu, "pmu", pc, "events", list);
    if (all) json_object_set_new(o, "present_pmu_events", pmu__present_events_json());
    json_dumpf(o, stdout, JSON_INDENT(2));
    printf("\n");
    json_decref(o);
    json_decref(list);
    return VTB_EXIT_OK;
  }
  print_host(cpu, pc);
  printf("\n%s:\n", events ? "events asked for" : "refvmm's default set on this host");
  pmu__probe_events_print(events, stdout);
  size_t i, opened = 0;
  json_t *e;
  json_array_foreach(list, i, e) opened += json_is_true(json_object_get(e, "opened"));
  printf("%zu of %zu can be counted here.\n", opened, json_array_size(list));
  if (all) {
    json_t *pres = pmu__present_events_json();
    const char *pmu;
    json_t *names;
    json_object_foreach(pres, pmu, names) {
      printf("\nevents libpfm4 knows for PMU %s (%zu):\n", pmu, json_array_size(names));
      json_array_foreach(names, i, e) printf("  %s\n", json_string_value(e));
    }
    json_decref(pres);
  }
  json_decref(cpu);
  json_decref(pc);
  json_decref(list);
  return VTB_EXIT_OK;
}
