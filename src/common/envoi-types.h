/* envoi-types.h: forward declarations and the enums shared by every unit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct _EnvoiAccount      EnvoiAccount;
typedef struct _EnvoiAccountStore EnvoiAccountStore;

/* The values match the enums of the GSettings schema: admins script them by nick. */
typedef enum
{
  ENVOI_SECURITY_STARTTLS = 0,
  ENVOI_SECURITY_TLS      = 1,
  ENVOI_SECURITY_NONE     = 2,
} EnvoiSecurity;

typedef enum
{
  ENVOI_AUTH_METHOD_AUTOMATIC = 0,
  ENVOI_AUTH_METHOD_PLAIN     = 1,
  ENVOI_AUTH_METHOD_LOGIN     = 2,
  ENVOI_AUTH_METHOD_CRAM_MD5  = 3,
  ENVOI_AUTH_METHOD_NTLM      = 4,
  ENVOI_AUTH_METHOD_XOAUTH2   = 5,
  ENVOI_AUTH_METHOD_NONE      = 6,
} EnvoiAuthMethod;

/* Which keyring item: the attribute `service` of the Envoi secret schema. */
typedef enum
{
  ENVOI_SERVICE_SMTP = 0,
  ENVOI_SERVICE_POP3 = 1,
  ENVOI_SERVICE_IMAP = 2,
  ENVOI_SERVICE_HTTP = 3,  /* the API key of the HTTP transport */
} EnvoiService;

/* How an account sends: SMTP, or HTTPS to a provider's API. */
typedef enum
{
  ENVOI_TRANSPORT_SMTP         = 0,
  ENVOI_TRANSPORT_HTTP_MAILGUN = 1,  /* Mailgun's raw-MIME endpoint */
  ENVOI_TRANSPORT_HTTP_POST    = 2,  /* POST message/rfc822 with a bearer token to a URL */
} EnvoiTransport;

typedef enum
{
  ENVOI_MAILGUN_REGION_US = 0,
  ENVOI_MAILGUN_REGION_EU = 1,
} EnvoiMailgunRegion;

G_END_DECLS
