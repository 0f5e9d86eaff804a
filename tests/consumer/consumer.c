/* tests/consumer/consumer.c - a program built against an installed metapool (scripts/install_check.sh). */
#include <metapool/metapool.h>
#include <stdio.h>
int main(void)
{
    double y[2] = {0.1, 0.3}, v[2] = {0.01, 0.01}; /* equal weights: the FE estimate is 0.2 */
    mp_pool_opts o;
    mp_pool_opts_init(&o);
    o.method = MP_METHOD_FE;
    mp_pool_result r;
    if (mp_pool(y, v, 2, &o, NULL, &r) != MP_OK || r.estimate < 0.2 - 1e-12 || r.estimate > 0.2 + 1e-12) return 1;
    printf("metapool %s: FE estimate %.4f; plots: %s\n", MP_VERSION_STRING, r.estimate,
           mp_report_render_available() ? "SVG, PNG, PDF" : "SVG");
    return 0;
}
