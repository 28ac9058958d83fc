/* fuzz-common.h: what every fuzz target of Envoi shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each fuzz-NAME.c defines LLVMFuzzerTestOneInput() and nothing else that libFuzzer needs.
 * Built with clang -fsanitize=fuzzer (meson -Dfuzzing=true) it is a libFuzzer binary; built
 * with replay.c instead it replays a corpus and the crashes found so far, as a normal test.
 */

#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);

/* Warnings and messages are expected (damaged input is logged) and would only slow the fuzzer
 * down; a critical is a g_return_if_fail() that failed: a bug, so it aborts. */
static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }
  if (g_getenv ("ENVOI_FUZZ_VERBOSE") != NULL)
    return g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static inline void
fuzz_setup (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
      g_once_init_leave (&done, 1);
    }
}

/* The input as a C string: up to the first NUL, as the parsers receive text. */
static inline char *
fuzz_dup_text (const uint8_t *data,
               size_t         size)
{
  return g_strndup ((const char *) data, size);
}

/* Fails loudly on a broken invariant, also in release builds (g_assert may be compiled out). */
#define FUZZ_CHECK(expr) \
  G_STMT_START { if (G_UNLIKELY (!(expr))) { \
    g_printerr ("%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #expr); \
    abort (); } } G_STMT_END

static inline gboolean
fuzz_has_line_break (const char *text)
{
  return strpbrk (text, "\r\n") != NULL;
}
