/* tls.h - the API's HTTPS certificate, reloadable without a restart
 * (tls.c). GnuTLS types: only http.c and tls.c include this. */
#ifndef OT_API_TLS_H
#define OT_API_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "ot_err.h"

struct api_tls;

/* Loads the chain (PEM, leaf first) and its unencrypted key; checks that
 * they belong together and that the leaf is valid now. Logs the reason and
 * returns OT_ERR_CONFIG on failure. Free with api__tls_free. */
enum ot_err api__tls_open(const char *cert_file, const char *key_file, struct api_tls **out);
/* Loads the files again; on success the next handshake presents the new
 * certificate, on failure (logged) the previous one stays. */
enum ot_err api__tls_reload(struct api_tls *t);
/* Accepts NULL. */
void api__tls_free(struct api_tls *t);
/* gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK:
 * the current chain and key of the open api_tls. */
int api__tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

#endif
