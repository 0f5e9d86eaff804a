/* src/report/render.c - every picture written in the format its file name asks for: SVG, PNG or PDF.
 * Copyright (C) 2026 the metapool authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The reporters draw SVG only; this file turns one SVG document into the
 * file the user named: the SVG itself, a PNG (librsvg draws it on a cairo
 * image surface at `dpi`, 96 px per inch being the SVG's own scale) or a PDF
 * (the same drawing on a cairo PDF surface, one page, 72 pt per inch, so the
 * vectors and text stay vectors).  librsvg and cairo are optional at build
 * time (CMake defines MP_HAVE_RSVG when pkg-config finds librsvg-2.0 and
 * cairo); without them PNG and PDF give MP_EINVAL and
 * mp_report_render_available() says 0, so a caller can tell the user that
 * only SVG is available.
 *
 * librsvg is loaded (dlopen) when the first PNG or PDF is drawn, not linked:
 * with its ~50 dependencies (cairo, pango, glib, fontconfig, ...) the dynamic
 * loader spent ~16 ms of CPU time on every start of every command (measured:
 * `metapool --version` 22 ms linked, 6 ms without), 8% of a `batch` run
 * of 200,000 analyses that draws nothing (issue 19).  The headers still
 * give every type and prototype; the functions are looked up by name once.  Every plot of every command (forest, trajectory,
 * funnel, Baujat, bubble, GOSH) goes through mp_report_render(). */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef MP_HAVE_RSVG
#include <cairo-pdf.h>
#include <cairo.h>
#include <dlfcn.h>
#include <librsvg/rsvg.h>
#include <pthread.h>

/* librsvg's soname (stable since librsvg 2.x; cairo, glib and gobject come
 * with it as its dependencies, so one handle finds every function). */
#define MP_RSVG_SONAME "librsvg-2.so.2"

/* The functions used, looked up once (pthread_once: thread-safe). */
#define MP_RSVG_FUNCS(X)                                                                          \
    X(rsvg_handle_new_from_data)                                                                  \
    X(rsvg_handle_get_intrinsic_size_in_pixels)                                                   \
    X(rsvg_handle_render_document)                                                                \
    X(g_error_free)                                                                               \
    X(g_object_unref)                                                                             \
    X(cairo_image_surface_create)                                                                 \
    X(cairo_pdf_surface_create_for_stream)                                                        \
    X(cairo_create)                                                                               \
    X(cairo_scale)                                                                                \
    X(cairo_destroy)                                                                              \
    X(cairo_surface_status)                                                                       \
    X(cairo_surface_write_to_png_stream)                                                          \
    X(cairo_surface_finish)                                                                       \
    X(cairo_surface_destroy)
#define MP_RSVG_FIELD(f) __typeof__(&f) f;
static struct {
    int ok; /* every function was found */
    MP_RSVG_FUNCS(MP_RSVG_FIELD)
} rs;
static pthread_once_t rs_once = PTHREAD_ONCE_INIT;

static void rs_load(void)
{
    void *h = dlopen(MP_RSVG_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    int ok = 1;
    /* POSIX: a function pointer may be converted from dlsym's void * */
#define MP_RSVG_SYM(f) ok = ok && (*(void **)(void *)&rs.f = dlsym(h, #f)) != NULL;
    MP_RSVG_FUNCS(MP_RSVG_SYM)
#undef MP_RSVG_SYM
    rs.ok = ok; /* the handle stays open for the life of the process */
}

static int rs_ready(void)
{
    pthread_once(&rs_once, rs_load);
    return rs.ok;
}
#endif

/* AddressSanitizer: GCC says __SANITIZE_ADDRESS__, clang __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define MP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MP_ASAN 1
#endif
#endif

#if defined(MP_HAVE_RSVG) && defined(MP_ASAN)
/* AddressSanitizer builds only (MP_SANITIZE): fontconfig, under librsvg's
 * text layout, keeps its font caches until the process ends and never frees
 * them, which LeakSanitizer reports as leaks of every program that renders
 * a picture.  Those stacks hold fontconfig frames only; our own allocations
 * are still checked.  The sanitizer runtime calls this (weak) hook. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
/* and without a "Suppressions used" table on stderr after every run */
__attribute__((visibility("default"))) const char *__lsan_default_options(void);
__attribute__((visibility("default"))) const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

mp_plot_format mp_report_plot_format(const char *path)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return MP_PLOT_UNKNOWN;
    if (strcasecmp(dot, ".svg") == 0) return MP_PLOT_SVG;
    if (strcasecmp(dot, ".png") == 0) return MP_PLOT_PNG;
    if (strcasecmp(dot, ".pdf") == 0) return MP_PLOT_PDF;
    return MP_PLOT_UNKNOWN;
}

int mp_report_render_available(void)
{
#ifdef MP_HAVE_RSVG
    return rs_ready();
#else
    return 0;
#endif
}

static mp_status write_svg(const char *path, const char *svg, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return MP_EIO; /* errno from fopen */
    size_t w = fwrite(svg, 1, len, f);
    int bad = ferror(f) || w != len;
    int e = errno;
    if (fclose(f) != 0 || bad) {
        if (bad) errno = e ? e : EIO;
        return MP_EIO;
    }
    return MP_OK;
}

#ifdef MP_HAVE_RSVG
/* cairo's write callback: into a stdio stream, so that the PNG or PDF
 * lands in the file only through one fopen whose errno we can report. */
static cairo_status_t to_stream(void *closure, const unsigned char *data, unsigned int n)
{
    return fwrite(data, 1, n, (FILE *)closure) == n ? CAIRO_STATUS_SUCCESS
                                                    : CAIRO_STATUS_WRITE_ERROR;
}

static mp_status draw_to(const char *out, mp_plot_format fmt, RsvgHandle *h, double dpi)
{
    gdouble w = 0, hh = 0;
    /* the document's own size in px (its width/height attributes); a
     * document without them has no intrinsic size: refuse, do not guess */
    if (!rs.rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hh) || !(w > 0) || !(hh > 0))
        return MP_EINVAL;
    FILE *f = fopen(out, "wb");
    if (!f) return MP_EIO;
    cairo_surface_t *surf;
    double scale;
    if (fmt == MP_PLOT_PNG) {
        scale = dpi / 96.0;
        double pw = ceil(w * scale), ph = ceil(hh * scale);
        /* cairo's image limit is 32767 px a side; beyond 64 Mpx (256 MB of
         * pixels) the resolution, not the plot, is the mistake */
        if (!(pw >= 1 && ph >= 1 && pw <= 32767 && ph <= 32767 && pw * ph <= MP_REPORT_MAXPX)) {
            fclose(f);
            remove(out);
            return MP_EDOM;
        }
        surf = rs.cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)pw, (int)ph);
    } else {
        scale = 72.0 / 96.0; /* px -> pt */
        surf = rs.cairo_pdf_surface_create_for_stream(to_stream, f, w * scale, hh * scale);
    }
    cairo_t *cr = rs.cairo_create(surf);
    rs.cairo_scale(cr, scale, scale);
    RsvgRectangle vp = {0, 0, w, hh};
    GError *err = NULL;
    gboolean ok = rs.rsvg_handle_render_document(h, cr, &vp, &err);
    if (err) rs.g_error_free(err);
    rs.cairo_destroy(cr);
    mp_status st = ok && rs.cairo_surface_status(surf) == CAIRO_STATUS_SUCCESS ? MP_OK : MP_EINVAL;
    if (fmt == MP_PLOT_PNG) {
        if (st == MP_OK && rs.cairo_surface_write_to_png_stream(surf, to_stream, f) != CAIRO_STATUS_SUCCESS)
            st = MP_EIO;
        rs.cairo_surface_destroy(surf);
    } else {
        rs.cairo_surface_finish(surf); /* writes the PDF through to_stream */
        if (st == MP_OK && rs.cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) st = MP_EIO;
        rs.cairo_surface_destroy(surf);
    }
    int e = errno;
    if (ferror(f) && st == MP_OK) st = MP_EIO;
    if (fclose(f) != 0 && st == MP_OK) st = MP_EIO;
    if (st != MP_OK) {
        remove(out); /* no half-written picture under the user's name */
        if (st == MP_EIO) errno = e ? e : EIO;
    }
    return st;
}
#endif

mp_status mp_report_render(const char *svg, size_t len, const char *out_path, double dpi)
{
    if (!svg || !out_path) return MP_FAIL(MP_EINVAL);
    mp_plot_format fmt = mp_report_plot_format(out_path);
    if (fmt == MP_PLOT_SVG) return write_svg(out_path, svg, len);
    if (fmt == MP_PLOT_UNKNOWN) return MP_FAIL(MP_EINVAL);
    if (dpi <= 0) dpi = MP_REPORT_DPI;
    if (!(dpi >= 10 && dpi <= 2400)) return MP_FAIL(MP_EDOM);
#ifdef MP_HAVE_RSVG
    if (!rs_ready()) return MP_FAIL(MP_EINVAL); /* librsvg cannot be loaded: SVG only */
    GError *err = NULL;
    RsvgHandle *h = rs.rsvg_handle_new_from_data((const guint8 *)svg, len, &err);
    if (!h) {
        if (err) rs.g_error_free(err);
        return MP_FAIL(MP_EPARSE); /* not a well-formed SVG document */
    }
    mp_status st = draw_to(out_path, fmt, h, dpi);
    rs.g_object_unref(h);
    return st;
#else
    (void)len;
    return MP_FAIL(MP_EINVAL); /* built without librsvg and cairo: SVG only */
#endif
}

mp_status mp_report_render_file(const char *svg_path, const char *out_path, double dpi)
{
    if (!svg_path || !out_path) return MP_FAIL(MP_EINVAL);
    FILE *f = fopen(svg_path, "rb");
    if (!f) return MP_EIO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    mp_status st = MP_OK;
    for (;;) {
        if (n + 65536 > cap) {
            size_t nc = cap ? 2 * cap : 65536 * 2;
            char *p = realloc(buf, nc);
            if (!p) { st = MP_FAIL(MP_ENOMEM); break; }
            buf = p;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = MP_EIO;
            break;
        }
    }
    int e = errno;
    fclose(f);
    if (st == MP_OK) st = mp_report_render(buf, n, out_path, dpi);
    else if (st == MP_EIO) errno = e;
    free(buf);
    return st;
}

mp_status rp_plot_open(rp_plot *p, const char *path)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    const char *dot = path ? strrchr(path, '.') : NULL;
    p->render = dot && !strchr(dot, '/') && strcasecmp(dot, ".svg") != 0;
    p->f = p->render ? open_memstream(&p->mem, &p->len) : fopen(path, "w");
    return p->f ? MP_OK : MP_FAIL(MP_EIO);
}

mp_status rp_plot_close(rp_plot *p)
{
    int bad = ferror(p->f);
    int closed = fclose(p->f) == 0;
    mp_status s = closed && !bad ? MP_OK : MP_FAIL(MP_EIO);
    if (p->render) {
        if (s == MP_OK) s = mp_report_render(p->mem, p->len, p->path, MP_REPORT_DPI);
        free(p->mem);
    }
    memset(p, 0, sizeof *p);
    return s;
}
