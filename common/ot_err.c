#include "ot_err.h"

const char *ot_strerror(enum ot_err err)
{
    switch (err) {
    case OT_OK:
        return "success";
    case OT_ERR_NOMEM:
        return "out of memory";
    case OT_ERR_INVAL:
        return "invalid argument";
    case OT_ERR_CONFIG:
        return "bad configuration";
    case OT_ERR_IO:
        return "input/output error";
    case OT_ERR_PARSE:
        return "malformed input";
    case OT_ERR_RANGE:
        return "value out of range";
    case OT_ERR_TOOBIG:
        return "input too large";
    case OT_ERR_NOTFOUND:
        return "not found";
    case OT_ERR_DB:
        return "database error";
    case OT_ERR_MQTT:
        return "MQTT error";
    case OT_ERR_MODBUS:
        return "Modbus error";
    case OT_ERR_HTTP:
        return "HTTP error";
    case OT_ERR_CRYPTO:
        return "cryptography error";
    case OT_ERR_CONFLICT:
        return "conflict with current state";
    case OT_ERR_FULL:
        return "store full";
    case OT_ERR_CORRUPT:
        return "data corrupt";
    case OT_ERR_TIMEOUT:
        return "timed out";
    case OT_ERR_AUTH:
        return "not authorised";
    case OT_ERR_UNSUPPORTED:
        return "not supported";
    case OT_ERR__COUNT:
        break;
    }
    return "unknown error";
}
