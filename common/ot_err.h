/* ot_err.h - the one error enum of organtrack.
 * 0 is success; every failure is positive. Log where an error is found
 * (with the failing library's own text), then return the code. */
#ifndef OT_ERR_H
#define OT_ERR_H

enum ot_err {
    OT_OK = 0,
    OT_ERR_NOMEM,       /* allocation failed */
    OT_ERR_INVAL,       /* invalid argument or input */
    OT_ERR_CONFIG,      /* bad configuration */
    OT_ERR_IO,          /* file or socket I/O failed */
    OT_ERR_PARSE,       /* malformed input (JSON, numbers) */
    OT_ERR_RANGE,       /* value out of its allowed range */
    OT_ERR_TOOBIG,      /* input larger than its cap */
    OT_ERR_NOTFOUND,    /* no such object */
    OT_ERR_DB,          /* SQLite failed */
    OT_ERR_MQTT,        /* MQTT client failed */
    OT_ERR_MODBUS,      /* Modbus request failed */
    OT_ERR_HTTP,        /* HTTP request failed */
    OT_ERR_CRYPTO,      /* OpenSSL failed */
    OT_ERR_CONFLICT,    /* state does not allow the operation */
    OT_ERR_FULL,        /* bounded store or queue is full */
    OT_ERR_CORRUPT,     /* stored data failed its integrity check */
    OT_ERR_TIMEOUT,     /* operation timed out */
    OT_ERR_AUTH,        /* authentication or authorisation failed */
    OT_ERR_UNSUPPORTED, /* not available on this backend or build */
    OT_ERR__COUNT
};

/* Returns a static string; never NULL. */
const char *ot_strerror(enum ot_err err);

#endif
