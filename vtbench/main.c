/* main.c - the vtbench command line: one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "msg.h"

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help;
} commands[] = {
    {"run", cmd_run, "run a matrix of workloads x modes x backends into one result document"},
    {"report", cmd_report, "plots, Markdown and HTML from a result document (--compare OTHER)"},
    {"export", cmd_export, "CSV files for the gnuplot scripts in plots/"},
    {"merge", cmd_merge, "join result documents (shards) into one"},
    {"campaign", cmd_campaign, "a matrix as shards on Slurm or GNU parallel, merged per site"},
    {"workloads", cmd_workloads, "list the workloads, their parameters and what they stress"},
    {"host", cmd_host, "KVM host: flavour, parameters and modes; set|restore module parameters"},
    {"events", cmd_events, "what this host's PMU can count (libpfm4 events, guest/host variants)"},
    {"calibrate", cmd_calibrate, "measure this KVM host's costs into a model cost profile"},
    {"validate", cmd_validate, "the model's shadow-paging counts against KVM's statistics here"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench COMMAND [OPTIONS]   (vtbench COMMAND --help for its options)\n\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return VTB_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("vtbench %s (git %s)\n", VTB_VERSION, VTB_GIT_REV);
    return VTB_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (!strcmp(argv[1], commands[i].name)) {
      msg__set_command(commands[i].name); /* messages say which command */
      /* getopt names argv[0] in its messages: "vtbench run: unrecognized
       * option '--frob'", as every other message of the command */
      static char full[64];
      snprintf(full, sizeof full, "vtbench %s", commands[i].name);
      argv[1] = full;
      return commands[i].fn(argc - 1, argv + 1);
    }
  msg__error("unknown command '%s'", argv[1]);
  usage(stderr);
  return VTB_EXIT_USAGE;
}
