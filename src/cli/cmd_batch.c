/* src/cli/cmd_batch.c - PLACEHOLDER until its issue lands. */
#include "cli.h"
int cmd_batch(int argc, char **argv)
{
    (void)argc; (void)argv;
    cli_errorf("batch", "not implemented yet");
    return CLI_FAIL;
}
