/* src/cli/compare.c - PLACEHOLDER until issue 7 lands. */
#include "compare.h"
int compare_load(const char *path, compare_table **out, mp_error *err)
{
    (void)out;
    snprintf(err->file, sizeof err->file, "%s", path);
    snprintf(err->msg, sizeof err->msg, "--compare is not implemented yet");
    return -1;
}
void compare_free(compare_table *t) { (void)t; }
int compare_eval(const compare_table *t, const cli_report *r, compare_result **out, const char *cmd)
{ (void)t; (void)r; (void)out; (void)cmd; return -1; }
void compare_json(FILE *f, const compare_result *c) { (void)f; (void)c; }
void compare_print(FILE *f, const compare_result *c, const cli_report *r) { (void)f; (void)c; (void)r; }
int compare_reproduced(const compare_result *c) { (void)c; return 0; }
void compare_result_free(compare_result *c) { (void)c; }
