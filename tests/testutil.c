/* tests/testutil.c - shared helpers for the Check tests.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int rel_close(double got, double want, double rtol)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got)) return got == want;
    return want == 0.0 ? fabs(got) <= rtol : fabs(got - want) <= rtol * fabs(want);
}

char *tu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) { cap *= 2; b = realloc(b, cap); }
    }
    fclose(f);
    if (!b) return NULL;
    b[n] = '\0';
    if (len) *len = n;
    return b;
}

int tu_run(const char *cmd, char **out, char **err)
{
    char of[] = "/tmp/mp_test_outXXXXXX", ef[] = "/tmp/mp_test_errXXXXXX";
    int fo = mkstemp(of), fe = mkstemp(ef);
    if (fo < 0 || fe < 0) return -1;
    close(fo);
    close(fe);
    size_t n = strlen(cmd) + strlen(of) + strlen(ef) + 32;
    char *full = malloc(n);
    snprintf(full, n, "%s >%s 2>%s", cmd, of, ef);
    int st = system(full);
    free(full);
    if (out) *out = tu_slurp(of, NULL);
    if (err) *err = tu_slurp(ef, NULL);
    unlink(of);
    unlink(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *tu_tmpfile(const char *text, size_t len)
{
    char *p = strdup("/tmp/mp_test_inXXXXXX");
    int fd = mkstemp(p);
    if (fd < 0) { free(p); return NULL; }
    if (write(fd, text, len) != (ssize_t)len) { close(fd); free(p); return NULL; }
    close(fd);
    return p;
}

const char *tu_src(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", MP_SOURCE_DIR, rel);
    return buf;
}

const char *tu_ref(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/reference/%s", MP_SOURCE_DIR, rel);
    return buf;
}
