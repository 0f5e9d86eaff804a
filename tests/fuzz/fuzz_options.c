/* tests/fuzz/fuzz_options.c - every command's option parsing, end to end on a small data file.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is split at newlines into an argument vector: the first line
 * picks the command, the others are its options; the data file comes last.
 * The command runs as `metapool CMD ...` would (output to /dev/null, input
 * from /dev/null, files it writes land in a scratch directory).  An input
 * holding '/' is skipped, so no option can name a file outside that
 * directory.  Invariants: a command returns an exit status of the contract
 * (0 to 3), never crashes, never hangs. */
#include "fuzz_common.h"
#include "cli.h"

#include <fcntl.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int (*const cmds[])(int, char **) = {cmd_pool,      cmd_escalc, cmd_reg,
                                            cmd_trajectory, cmd_batch,  cmd_leave1out,
                                            cmd_cumul,      cmd_influence, cmd_bias,
                                            cmd_gosh};
static const char *const names[] = {"pool",  "escalc",    "reg",   "trajectory", "batch",
                                    "leave1out", "cumul", "influence", "bias", "gosh"};
#define NCMDS (sizeof names / sizeof names[0])

static char datafile[256];

/* Whether the bytes hold the text w. */
static int has_word(const uint8_t *d, size_t n, const char *w)
{
    size_t m = strlen(w);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(d + i, w, m) == 0) return 1;
    return 0;
}

static void setup(void)
{
    char dir[] = "/tmp/mpfuzz-opts-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) abort();
    snprintf(datafile, sizeof datafile, "%s/data.csv", dir);
    FILE *f = fopen(datafile, "w");
    if (!f) abort();
    /* BCG vaccine trials (Colditz et al. 1994), 6 rows: 2x2 counts, a
     * moderator, a group, a time and a study label for every command */
    fputs("study,tpos,tneg,cpos,cneg,ai,bi,ci,di,ablat,alloc,time,g,yi,vi\n"
          "Aronson,4,119,11,128,4,119,11,128,44,random,1,a,-0.889,0.326\n"
          "Ferguson,6,300,29,274,6,300,29,274,55,random,2,a,-1.585,0.195\n"
          "Rosenthal,3,228,11,209,3,228,11,209,42,random,1,b,-1.348,0.415\n"
          "Hart,62,13536,248,12619,62,13536,248,12619,52,random,2,b,-1.442,0.020\n"
          "Frimodt,33,5036,47,5761,33,5036,47,5761,13,alternate,1,c,-0.218,0.051\n"
          "Stein,180,1361,372,1079,180,1361,372,1079,44,alternate,2,c,-0.786,0.007\n", f);
    fclose(f);
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0) abort();
    close(null);
    gsl_set_error_handler_off();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!datafile[0]) setup();
    if (size < 1 || size > 4096 || memchr(data, '/', size)) return 0;
    /* a count of subsets or permutations is work by design (10^9 of them
     * take minutes): those options are parsed by the other commands' runs
     * and tested in tests/cli; here they would only make timeouts */
    if (has_word(data, size, "subsets") || has_word(data, size, "permutations")) return 0;
    char *buf = malloc(size + 1);
    char *argv[66];
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    unsigned pick = (unsigned char)buf[0] % NCMDS;
    argv[argc++] = (char *)names[pick];
    for (char *p = buf + 1; p && *p && argc < 64;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        argv[argc++] = p;
        p = nl ? nl + 1 : NULL;
    }
    argv[argc++] = datafile;
    argv[argc] = NULL;
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (saved >= 0 && null >= 0) dup2(null, 2); /* the commands' messages */
    int rc = cmds[pick](argc, argv);
    fflush(stdout);
    if (saved >= 0) { dup2(saved, 2); close(saved); }
    if (null >= 0) close(null);
    FUZZ_CHECK(rc >= 0 && rc <= 3, "%s returned exit status %d", names[pick], rc);
    free(buf);
    return 0;
}
