/* tls.c - the API's HTTPS certificate (SPEC v1.1 "HTTPS").
 *
 * libmicrohttpd does TLS with GnuTLS. Instead of handing it the certificate
 * once at start (MHD_OPTION_HTTPS_MEM_CERT/KEY), http.c gives it
 * api__tls_retrieve (MHD_OPTION_HTTPS_CERT_CALLBACK), which GnuTLS calls
 * during every handshake to ask which chain and key to present. A renewed
 * certificate is loaded on SIGHUP (api__tls_reload) and becomes "current":
 * the next handshake presents it, while every open connection, event
 * streams included, carries on untouched on the session it already has.
 * Nothing listens twice, nothing is dropped, nobody needs Last-Event-ID.
 *
 * A reload that fails (unreadable file, key that does not belong to the
 * certificate, expired or not yet valid certificate) is logged and the
 * previous certificate stays current. GnuTLS does not copy what the
 * callback returns and a handshake may still be using an older chain, so
 * replaced credentials are kept until api__tls_free (a renewal every few
 * weeks costs a few KiB each). */
#include "tls.h"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_log.h"

#define TLS_CHAIN_MAX 8

struct tls_cred {
    gnutls_pcert_st pcert[TLS_CHAIN_MAX];
    unsigned n;
    gnutls_privkey_t key;
    time_t not_after;
    struct tls_cred *older; /* replaced credentials, freed at exit */
};

struct api_tls {
    char cert_file[512];
    char key_file[512];
    pthread_mutex_t mu;
    struct tls_cred *current; /* mu */
    unsigned generation;
};

/* GnuTLS's callback has no user pointer: one server per process. */
static struct api_tls *tls_active;

static void cred_free(struct tls_cred *c)
{
    while (c) {
        struct tls_cred *o = c->older;
        for (unsigned i = 0; i < c->n; i++)
            gnutls_pcert_deinit(&c->pcert[i]);
        if (c->key)
            gnutls_privkey_deinit(c->key);
        free(c);
        c = o;
    }
}

/* 1 if the private key belongs to the certificate's public key. */
static int key_matches(gnutls_pcert_st *leaf, gnutls_privkey_t key)
{
    gnutls_pubkey_t pk = NULL;
    gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
    int same = 0;
    if (gnutls_pubkey_init(&pk) == 0 && gnutls_pubkey_import_privkey(pk, key, 0, 0) == 0 &&
        gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &a) == 0 &&
        gnutls_pubkey_export2(leaf->pubkey, GNUTLS_X509_FMT_DER, &b) == 0)
        same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (pk)
        gnutls_pubkey_deinit(pk);
    return same;
}

/* Loads chain and key from the files; logs the reason and returns NULL on
 * failure. `what` is "tls" (start) or "tls reload". */
static struct tls_cred *cred_load(const struct api_tls *t, const char *what)
{
    gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    struct tls_cred *c = calloc(1, sizeof *c);
    int e;
    if (!c) {
        ot_error("%s: out of memory", what);
        return NULL;
    }
    if ((e = gnutls_load_file(t->cert_file, &cd)) < 0) {
        ot_error("%s: tls.cert_file: cannot read file=%s reason=\"%s\"", what, t->cert_file,
                 gnutls_strerror(e));
        goto fail;
    }
    if ((e = gnutls_load_file(t->key_file, &kd)) < 0) {
        ot_error("%s: tls.key_file: cannot read file=%s reason=\"%s\"", what, t->key_file,
                 gnutls_strerror(e));
        goto fail;
    }
    c->n = TLS_CHAIN_MAX;
    if ((e = gnutls_pcert_list_import_x509_raw(c->pcert, &c->n, &cd, GNUTLS_X509_FMT_PEM, 0)) < 0 ||
        c->n == 0) {
        ot_error("%s: tls.cert_file: not a PEM certificate chain (at most %d certificates) "
                 "file=%s reason=\"%s\"",
                 what, TLS_CHAIN_MAX, t->cert_file, e < 0 ? gnutls_strerror(e) : "empty");
        c->n = 0;
        goto fail;
    }
    if ((e = gnutls_privkey_init(&c->key)) < 0 ||
        (e = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        ot_error("%s: tls.key_file: not an unencrypted PEM private key file=%s reason=\"%s\"", what,
                 t->key_file, gnutls_strerror(e));
        goto fail;
    }
    if (!key_matches(&c->pcert[0], c->key)) {
        ot_error("%s: tls.key_file: the key does not belong to the first certificate of "
                 "tls.cert_file key_file=%s cert_file=%s",
                 what, t->key_file, t->cert_file);
        goto fail;
    }
    time_t now = time(NULL);
    if (gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &c->pcert[0].cert, GNUTLS_X509_FMT_DER) < 0) {
        ot_error("%s: tls.cert_file: cannot read the certificate file=%s", what, t->cert_file);
        goto fail;
    }
    c->not_after = gnutls_x509_crt_get_expiration_time(crt);
    time_t not_before = gnutls_x509_crt_get_activation_time(crt);
    if (c->not_after <= now || not_before > now) {
        ot_error("%s: tls.cert_file: the certificate is %s file=%s", what,
                 c->not_after <= now ? "expired" : "not yet valid", t->cert_file);
        goto fail;
    }
    char dn[256];
    size_t dnlen = sizeof dn;
    if (gnutls_x509_crt_get_dn(crt, dn, &dnlen) < 0)
        snprintf(dn, sizeof dn, "?");
    struct tm tm;
    char exp[32];
    gmtime_r(&c->not_after, &tm);
    strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ot_info("%s: certificate loaded subject=\"%s\" not_after=%s chain=%u file=%s", what, dn, exp,
            c->n, t->cert_file);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(cd.data);
    gnutls_free(kd.data);
    return c;
fail:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    gnutls_free(cd.data);
    gnutls_free(kd.data);
    cred_free(c);
    return NULL;
}

enum ot_err api__tls_open(const char *cert_file, const char *key_file, struct api_tls **out)
{
    struct api_tls *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return OT_ERR_NOMEM;
    snprintf(t->cert_file, sizeof t->cert_file, "%s", cert_file);
    snprintf(t->key_file, sizeof t->key_file, "%s", key_file);
    pthread_mutex_init(&t->mu, NULL);
    t->current = cred_load(t, "tls");
    if (!t->current) {
        api__tls_free(t);
        return OT_ERR_CONFIG;
    }
    tls_active = t;
    *out = t;
    return OT_OK;
}

enum ot_err api__tls_reload(struct api_tls *t)
{
    struct tls_cred *c = cred_load(t, "tls reload");
    if (!c) {
        ot_warn("tls reload failed; still serving the previous certificate");
        return OT_ERR_CONFIG;
    }
    pthread_mutex_lock(&t->mu);
    c->older = t->current;
    t->current = c;
    t->generation++;
    pthread_mutex_unlock(&t->mu);
    return OT_OK;
}

void api__tls_free(struct api_tls *t)
{
    if (!t)
        return;
    if (tls_active == t)
        tls_active = NULL;
    cred_free(t->current);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int api__tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    struct api_tls *t = tls_active;
    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (!t)
        return -1;
    pthread_mutex_lock(&t->mu);
    struct tls_cred *c = t->current;
    pthread_mutex_unlock(&t->mu);
    *pcert = c->pcert;
    *pcert_length = c->n;
    *pkey = c->key;
    return 0;
}
