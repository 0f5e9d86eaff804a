/* src/cli/cmd_trajectory.c - PLACEHOLDER until its issue lands. */
#include "cli.h"
int cmd_trajectory(int argc, char **argv)
{
    (void)argc; (void)argv;
    cli_errorf("trajectory", "not implemented yet");
    return CLI_FAIL;
}
