/* autoconfig-httpd.h: starting tests/autoconfig-httpd.py from a test binary
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  char        *https_port;
  char        *http_port;
  char        *ca_file;
  char        *log;
} AutoconfigHttpd;

void    autoconfig_httpd_start        (AutoconfigHttpd *httpd);
void    autoconfig_httpd_stop         (AutoconfigHttpd *httpd);
GStrv   autoconfig_httpd_connect_to   (AutoconfigHttpd *httpd);

G_END_DECLS
