/* Top-level commands of the sbx CLI, one file each (cmd_<name>.c). Each
 * gets the arguments after its name. */
#ifndef SBX_CLI_COMMANDS_H
#define SBX_CLI_COMMANDS_H

#include "cli.h"

int cmd_health(struct cli *c, int argc, char **argv);
int cmd_info(struct cli *c, int argc, char **argv);
int cmd_settings(struct cli *c, int argc, char **argv);
int cmd_providers(struct cli *c, int argc, char **argv);
int cmd_agents(struct cli *c, int argc, char **argv);
int cmd_tokens(struct cli *c, int argc, char **argv);
int cmd_create(struct cli *c, int argc, char **argv);
/* ls, get, start, stop, restart, pause, resume, rm, clean: argv[-1] is the verb. */
int cmd_sandbox_verb(struct cli *c, int argc, char **argv);
int cmd_templates(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_logs(struct cli *c, int argc, char **argv);
int cmd_executions(struct cli *c, int argc, char **argv);
int cmd_cost(struct cli *c, int argc, char **argv);
int cmd_agent(struct cli *c, int argc, char **argv);
int cmd_images(struct cli *c, int argc, char **argv);
int cmd_cp(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);

#endif
