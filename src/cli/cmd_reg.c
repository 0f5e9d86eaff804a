/* src/cli/cmd_reg.c - PLACEHOLDER until its issue lands. */
#include "cli.h"
int cmd_reg(int argc, char **argv)
{
    (void)argc; (void)argv;
    cli_errorf("reg", "not implemented yet");
    return CLI_FAIL;
}
