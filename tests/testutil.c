/* tests/testutil.c - shared helpers for the Check tests.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_log.h>
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

/* An independent chi-square tail for large df (a = df/2 >= 500): the
 * density integrated numerically (GSL QAG, 61-point rule, 2e-14 relative).
 * The log density is taken relative to the mode so that nothing of size a
 * cancels: with h = x/2 = a (1 + t),
 *   log f = a (log(1+t) - t) - log(1+t) + B - log 2,
 *   B = (a-1) log a - a - lgamma(a) = -log(2 pi a)/2 - 1/(12a) + 1/(360a^3)
 * (Stirling's series, error below 1/(1260 a^5)). */
typedef struct { double a, B; } gdens;
static double gamma_dens(double h, void *par)
{
    const gdens *g = par;
    double t = (h - g->a) / g->a;
    return exp(g->a * gsl_sf_log_1plusx_mx(t) - log1p(t) + g->B);
}

double tu_chisq_tail(double x, double df, int upper)
{
    gdens g = {0.5 * df, 0};
    g.B = -0.5 * log(2.0 * M_PI * g.a) - 1.0 / (12.0 * g.a) + 1.0 / (360.0 * g.a * g.a * g.a);
    double h0 = 0.5 * x, L = 60.0 * sqrt(g.a), r, e;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    gsl_function F = {gamma_dens, &g};
    int st = upper ? gsl_integration_qag(&F, h0, h0 + L, 0, 2e-14, 1000, GSL_INTEG_GAUSS61, w, &r, &e)
                   : gsl_integration_qag(&F, fmax(0.0, h0 - L), h0, 0, 2e-14, 1000,
                                         GSL_INTEG_GAUSS61, w, &r, &e);
    gsl_integration_workspace_free(w);
    if (st != GSL_SUCCESS) return NAN;
    return r;
}

/* x with tu_chisq_tail(x, df, upper) = p, by bisection (200 halvings of a
 * bracket around the mean +- 60 sd; independent of the library's solver). */
double tu_chisq_quantile(double p, double df, int upper)
{
    double lo = fmax(0.0, df - 60.0 * sqrt(2.0 * df)), hi = df + 60.0 * sqrt(2.0 * df);
    for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi), f = tu_chisq_tail(mid, df, upper);
        /* upper tail decreases in x: above p means the root is to the right */
        if (upper ? f > p : f < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}
