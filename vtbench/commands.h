/* commands.h - vtbench subcommands, one file each (kvmtool style). Each
 * returns the process exit status. */
#ifndef VTBENCH_COMMANDS_H
#define VTBENCH_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_campaign(int argc, char **argv); /* cmd_campaign.c: shards on Slurm, GNU parallel */
int cmd_workloads(int argc, char **argv);
int cmd_host(int argc, char **argv); /* cmd_host.c: KVM host show|set|restore */
int cmd_events(int argc, char **argv);
int cmd_calibrate(int argc, char **argv); /* cmd_calibrate.c: host costs into a profile */
int cmd_validate(int argc, char **argv);  /* cmd_validate.c: model vs KVM shadow paging */

/* Exit statuses shared by the subcommands. */
#define VTB_EXIT_OK          0
#define VTB_EXIT_FAILED      1  /* some runs failed, or the report is incomplete */
#define VTB_EXIT_USAGE       2  /* bad command line or matrix file */
#define VTB_EXIT_NOTHING     3  /* nothing can run on this host */
#define VTB_EXIT_BUSY        4  /* another vtbench is writing the output (vtbench run) */
#define VTB_EXIT_EXISTS      5  /* the output exists: --resume or --force (vtbench run) */
#define VTB_EXIT_DATA        6  /* the input documents do not fit: duplicate runs, shards */
#define VTB_EXIT_IO          20 /* a file could not be read or written */
#define VTB_EXIT_INTERRUPTED 130

#endif
