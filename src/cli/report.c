/* src/cli/report.c - PLACEHOLDER reporter until issue 4 lands: a plain summary. */
#include "cli.h"
#include <math.h>
void report_table(FILE *f, const cli_report *r)
{
    for (size_t g = 0; g < r->n; g++) {
        const mp_pool_result *p = &r->a[g].fit;
        fprintf(f, "%s%s k=%zu estimate=%.4f [%.4f, %.4f] tau2=%.4f I2=%.1f%%\n",
                r->a[g].group ? "group " : "", r->a[g].group ? r->a[g].group : "", p->k,
                p->estimate, p->ci_lb, p->ci_ub, p->tau2, p->I2);
    }
}
void report_csv(FILE *f, const cli_report *r) { report_table(f, r); }
int report_svg(const char *path, const cli_report *r) { (void)path; (void)r; return -1; }
void report_methods(FILE *f, const cli_report *r) { (void)f; (void)r; }
