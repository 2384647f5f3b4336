/* test_ledger.c - the custody ledger (issue 6): a real trail in a fresh
 * database (SQLite, or PostgreSQL when OT_TEST_DATABASE names one:
 * integration.ledger_postgres runs this binary there), then every single-field mutation of every
 * entry and reading, every deletion, insertion (duplicate), reordering (swap) and truncation of the
 * exported bundle, generated programmatically, must make verification fail naming the right first
 * bad entry; a wrong key is caught; impossible hand-offs are refused; the database's triggers
 * refuse UPDATE/DELETE and a tamper done around them is caught by verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ot_db.h"
#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_sql.h"
#include "test_ledger_trail.h"

#define T0 LEDGER_T0

struct fx {
    char dir[64];
    struct ot_sql *db;
    struct ot_ledger_key *key;
    int64_t ship;
    char *bundle;
    size_t len;
    char pub[65];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ot_ledger_XXXXXX");
    if (!mkdtemp(f->dir) || ledger_trail_build(f->dir, &f->db, &f->key, &f->ship) ||
        ot_ledger_export_bundle(f->db, f->ship, &f->bundle, &f->len))
        return -1;
    ot_ledger_key_public_hex(f->key, f->pub);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    free(f->bundle);
    ot_ledger_key_free(f->key);
    int rc = ledger_trail_remove(f->dir, f->db);
    free(f);
    return rc;
}

static void verify_json(cJSON *doc, const char *pin, struct ot_ledger_report *rep)
{
    char *s = cJSON_PrintUnformatted(doc);
    assert_non_null(s);
    assert_int_equal(ot_ledger_verify_bundle_key(s, strlen(s), pin, rep), OT_OK);
    free(s);
}

/* ------------------------------------------------------------ happy path */

static void trail_verifies(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    cJSON *entries = NULL;
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.shipments, 2);
    assert_int_equal(rep.entries, 9);
    assert_int_equal(rep.readings, 19);
    assert_int_equal(ot_ledger_verify_db_key(f->db, f->pub, &rep), OT_OK);
    assert_true(rep.ok);

    assert_int_equal(ot_ledger_verify_bundle(f->bundle, f->len, &rep), OT_OK);
    if (!rep.ok)
        fprintf(stderr, "bundle: entry=%lld %s\n", (long long)rep.bad_index, rep.why);
    assert_true(rep.ok);
    assert_int_equal(rep.shipments, 1);
    assert_int_equal(rep.entries, 7);
    assert_int_equal(rep.readings, 17);
    assert_int_equal(ot_ledger_verify_bundle_key(f->bundle, f->len, f->pub, &rep), OT_OK);
    assert_true(rep.ok);

    /* the trail as the API shows it; the late replay went to entry 4 */
    assert_int_equal(ot_ledger_entries(f->db, f->ship, &entries), OT_OK);
    assert_int_equal(cJSON_GetArraySize(entries), 7);
    cJSON *e3 = cJSON_GetArrayItem(entries, 3), *e4 = cJSON_GetArrayItem(entries, 4);
    cJSON *r3 = cJSON_GetObjectItem(e3, "readings"), *r4 = cJSON_GetObjectItem(e4, "readings");
    assert_int_equal(cJSON_GetObjectItem(r3, "count")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(r4, "count")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(r4, "from_seq")->valueint, 14);
    /* temperature at the moment of the event: latest reading before it */
    assert_true(fabs(cJSON_GetObjectItem(e3, "temp_c")->valuedouble - 5.3) < 1e-9);
    cJSON *e0 = cJSON_GetArrayItem(entries, 0);
    /* seq 5 has no temp_c: entry 0 takes seq 4's 4.75 */
    assert_true(fabs(cJSON_GetObjectItem(e0, "temp_c")->valuedouble - 4.75) < 1e-9);
    assert_string_equal(cJSON_GetObjectItem(e0, "prev_hash")->valuestring,
                        cJSON_GetObjectItem(e0, "prev_hash")->valuestring);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(entries, 1), "prev_hash")->valuestring,
        cJSON_GetObjectItem(e0, "hash")->valuestring);
    cJSON_Delete(entries);
}

static void key_file(void **state)
{
    struct fx *f = *state;
    char path[128], hex[65];
    struct stat sb;
    struct ot_ledger_key *k = NULL;
    snprintf(path, sizeof path, "%s/ledger.key", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(ot_ledger_key_load(path, &k), OT_OK);
    ot_ledger_key_public_hex(k, hex);
    assert_string_equal(hex, f->pub);
    ot_ledger_key_free(k);
    /* a second, new key is different */
    snprintf(path, sizeof path, "%s/other.key", f->dir);
    assert_int_equal(ot_ledger_key_load(path, &k), OT_OK);
    ot_ledger_key_public_hex(k, hex);
    assert_string_not_equal(hex, f->pub);
    ot_ledger_key_free(k);
}

/* ------------------------------------------------------------- mutations */

/* Mutates one leaf of the tree under `node` (the n-th leaf in walk order)
 * so that the JSON stays well formed; returns 1 if a leaf was mutated. */
static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

static int mutate_leaf(cJSON *node, int *n, int variant)
{
    for (cJSON *c = node->child; c; c = c->next) {
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            if (mutate_leaf(c, n, variant))
                return 1;
            continue;
        }
        if ((*n)-- > 0)
            continue;
        if (cJSON_IsString(c)) {
            char buf[8192];
            if (variant == 0 && is_hex64(c->valuestring)) {
                snprintf(buf, sizeof buf, "%s", c->valuestring);
                buf[10] = buf[10] == '0' ? '1' : '0'; /* well formed, different */
            } else if (variant == 0) {
                snprintf(buf, sizeof buf, "%sx", c->valuestring);
            } else {
                snprintf(buf, sizeof buf, "%s", c->valuestring);
                buf[0] = buf[0] == 'Z' ? 'Y' : 'Z';
            }
            assert_non_null(cJSON_SetValuestring(c, buf));
        } else if (cJSON_IsNumber(c)) {
            cJSON_SetNumberValue(c, c->valuedouble + (variant == 0 ? 1 : 0.001));
        } else if (cJSON_IsNull(c)) {
            c->type = variant == 0 ? cJSON_Number : cJSON_String;
            if (variant == 0) {
                cJSON_SetNumberValue(c, 1);
            } else {
                c->valuestring = malloc(2);
                assert_non_null(c->valuestring);
                strcpy(c->valuestring, "x");
            }
        } else if (cJSON_IsBool(c)) {
            c->type = cJSON_IsTrue(c) ? cJSON_False : cJSON_True;
        }
        return 1;
    }
    return 0;
}

static void entry_field_mutations(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    int total = 0;
    cJSON *doc = cJSON_Parse(f->bundle);
    assert_non_null(doc);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries"));
    cJSON_Delete(doc);
    for (int i = 0; i < n; i++) {
        for (int variant = 0; variant < 2; variant++) {
            for (int leaf = 0;; leaf++) {
                cJSON *d = cJSON_Parse(f->bundle);
                cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "entries"), i);
                int k = leaf;
                if (!mutate_leaf(e, &k, variant)) {
                    cJSON_Delete(d);
                    break;
                }
                verify_json(d, NULL, &rep);
                if (rep.ok || rep.bad_index != i) {
                    char *s = cJSON_PrintUnformatted(e);
                    fprintf(stderr,
                            "entry %d leaf %d variant %d not caught: ok=%d bad=%lld %s\n  %s\n", i,
                            leaf, variant, rep.ok, (long long)rep.bad_index, rep.why, s);
                    free(s);
                }
                assert_false(rep.ok);
                assert_int_equal(rep.bad_index, i);
                assert_int_equal(rep.bad_shipment, f->ship);
                total++;
                cJSON_Delete(d);
            }
        }
    }
    fprintf(stderr, "entry field mutations caught: %d\n", total);
    assert_true(total > 7 * 2 * 20);
}

static void reading_field_mutations(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    int total = 0;
    cJSON *doc = cJSON_Parse(f->bundle);
    int nr = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "readings"));
    cJSON_Delete(doc);
    assert_int_equal(nr, 17);
    for (int i = 0; i < nr; i++) {
        for (int variant = 0; variant < 2; variant++) {
            for (int leaf = 0;; leaf++) {
                cJSON *d = cJSON_Parse(f->bundle);
                cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "readings"), i);
                int want = cJSON_GetObjectItem(r, "entry")->valueint, k = leaf;
                if (!mutate_leaf(r, &k, variant)) {
                    cJSON_Delete(d);
                    break;
                }
                verify_json(d, NULL, &rep);
                if (rep.ok || rep.bad_index != want)
                    fprintf(stderr, "reading %d leaf %d variant %d: ok=%d bad=%lld %s\n", i, leaf,
                            variant, rep.ok, (long long)rep.bad_index, rep.why);
                assert_false(rep.ok);
                assert_int_equal(rep.bad_index, want);
                total++;
                cJSON_Delete(d);
            }
        }
    }
    fprintf(stderr, "reading field mutations caught: %d\n", total);
    assert_true(total >= 17 * 2 * 20);
}

static void shipment_and_head_mutations(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    cJSON *doc = cJSON_Parse(f->bundle);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries"));
    cJSON_Delete(doc);
    /* shipment identity: caught at entry 0 (genesis record) */
    for (int leaf = 0;; leaf++) {
        cJSON *d = cJSON_Parse(f->bundle);
        int k = leaf;
        if (!mutate_leaf(cJSON_GetObjectItem(d, "shipment"), &k, 0)) {
            cJSON_Delete(d);
            break;
        }
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, 0);
        cJSON_Delete(d);
    }
    /* head: index +1 names the missing entry n, the rest the last entry */
    for (int leaf = 0; leaf < 3; leaf++) {
        cJSON *d = cJSON_Parse(f->bundle);
        int k = leaf;
        assert_true(mutate_leaf(cJSON_GetObjectItem(d, "head"), &k, 0));
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, leaf == 0 ? n : n - 1);
        cJSON_Delete(d);
    }
    /* the public key in the bundle changed: the signature does not verify */
    {
        cJSON *d = cJSON_Parse(f->bundle);
        int k = 0;
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemReferenceToObject(wrap, "k", cJSON_GetObjectItem(d, "public_key"));
        cJSON_Delete(wrap);
        cJSON *pk = cJSON_GetObjectItem(d, "public_key");
        char buf[65];
        snprintf(buf, sizeof buf, "%s", pk->valuestring);
        buf[0] = buf[0] == 'a' ? 'b' : 'a';
        cJSON_SetValuestring(pk, buf);
        (void)k;
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, n - 1);
        cJSON_Delete(d);
    }
}

static void wrong_key(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    char other[65];
    snprintf(other, sizeof other, "%s", f->pub);
    other[5] = other[5] == 'f' ? 'e' : 'f';
    assert_int_equal(ot_ledger_verify_bundle_key(f->bundle, f->len, other, &rep), OT_OK);
    assert_false(rep.ok);
    assert_int_equal(rep.bad_index, 6);
    assert_non_null(strstr(rep.why, "not the expected key"));
    assert_int_equal(ot_ledger_verify_db_key(f->db, other, &rep), OT_OK);
    assert_false(rep.ok);

    /* a forger rebuilds the same trail under their own key: it is
     * internally consistent (verifies unpinned), the pinned key catches it */
    char dir[64], *forged = NULL;
    size_t len = 0;
    struct ot_sql *db = NULL;
    struct ot_ledger_key *key = NULL;
    int64_t ship = 0;
    snprintf(dir, sizeof dir, "/tmp/ot_ledger_f_XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(ledger_trail_build(dir, &db, &key, &ship), 0);
    assert_int_equal(ot_ledger_export_bundle(db, ship, &forged, &len), OT_OK);
    assert_int_equal(ot_ledger_verify_bundle(forged, len, &rep), OT_OK);
    assert_true(rep.ok);
    assert_int_equal(ot_ledger_verify_bundle_key(forged, len, f->pub, &rep), OT_OK);
    assert_false(rep.ok);
    assert_int_equal(rep.bad_index, 6);
    free(forged);
    ot_ledger_key_free(key);
    assert_int_equal(ledger_trail_remove(dir, db), 0);
}

/* Inserts item at position `at` by rebuilding the array (cJSON 1.7.15's
 * cJSON_InsertItemInArray refuses some positions). */
static void insert_at(cJSON *arr, int at, cJSON *item)
{
    int n = cJSON_GetArraySize(arr);
    cJSON *items[64];
    assert_non_null(item);
    assert_true(n < 63);
    for (int i = n - 1; i >= 0; i--)
        items[i] = cJSON_DetachItemFromArray(arr, i);
    for (int i = 0, k = 0; k <= n; k++) {
        if (k == at)
            assert_true(cJSON_AddItemToArray(arr, item));
        if (i < n && k < n)
            assert_true(cJSON_AddItemToArray(arr, items[i++]));
    }
    assert_int_equal(cJSON_GetArraySize(arr), n + 1);
}

static void deletions_insertions_swaps(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    cJSON *doc = cJSON_Parse(f->bundle);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries"));
    int nr = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "readings"));
    int cases = 0;
    cJSON_Delete(doc);
    for (int i = 0; i < n; i++) {
        /* delete entry i */
        cJSON *d = cJSON_Parse(f->bundle);
        cJSON_DeleteItemFromArray(cJSON_GetObjectItem(d, "entries"), i);
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, i);
        cJSON_Delete(d);
        /* duplicate entry i (inserted after itself) */
        d = cJSON_Parse(f->bundle);
        cJSON *arr = cJSON_GetObjectItem(d, "entries");
        insert_at(arr, i + 1, cJSON_Duplicate(cJSON_GetArrayItem(arr, i), 1));
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, i + 1);
        cJSON_Delete(d);
        cases += 2;
        /* swap i and j */
        for (int j = i + 1; j < n; j++) {
            d = cJSON_Parse(f->bundle);
            arr = cJSON_GetObjectItem(d, "entries");
            cJSON *a = cJSON_Duplicate(cJSON_GetArrayItem(arr, i), 1);
            cJSON *b = cJSON_Duplicate(cJSON_GetArrayItem(arr, j), 1);
            cJSON_ReplaceItemInArray(arr, i, b);
            cJSON_ReplaceItemInArray(arr, j, a);
            verify_json(d, NULL, &rep);
            assert_false(rep.ok);
            assert_int_equal(rep.bad_index, i);
            cJSON_Delete(d);
            cases++;
        }
    }
    /* truncation of the trail: drop the last k entries (and their readings) */
    for (int keep = 0; keep < n; keep++) {
        for (int drop_readings = 0; drop_readings < 2; drop_readings++) {
            cJSON *d = cJSON_Parse(f->bundle);
            cJSON *arr = cJSON_GetObjectItem(d, "entries");
            while (cJSON_GetArraySize(arr) > keep)
                cJSON_DeleteItemFromArray(arr, keep);
            if (drop_readings) {
                cJSON *rs = cJSON_GetObjectItem(d, "readings");
                for (int r = cJSON_GetArraySize(rs) - 1; r >= 0; r--)
                    if (cJSON_GetObjectItem(cJSON_GetArrayItem(rs, r), "entry")->valueint >= keep)
                        cJSON_DeleteItemFromArray(rs, r);
            }
            verify_json(d, NULL, &rep);
            assert_false(rep.ok);
            assert_int_equal(rep.bad_index, keep);
            cJSON_Delete(d);
            cases++;
        }
    }
    /* readings: delete, duplicate, swap with the next one of the same entry */
    for (int i = 0; i < nr; i++) {
        cJSON *d = cJSON_Parse(f->bundle);
        cJSON *rs = cJSON_GetObjectItem(d, "readings");
        int want = cJSON_GetObjectItem(cJSON_GetArrayItem(rs, i), "entry")->valueint;
        cJSON_DeleteItemFromArray(rs, i);
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, want);
        cJSON_Delete(d);

        d = cJSON_Parse(f->bundle);
        rs = cJSON_GetObjectItem(d, "readings");
        insert_at(rs, i + 1, cJSON_Duplicate(cJSON_GetArrayItem(rs, i), 1));
        verify_json(d, NULL, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_index, want);
        cJSON_Delete(d);
        cases += 2;

        if (i + 1 < nr) {
            d = cJSON_Parse(f->bundle);
            rs = cJSON_GetObjectItem(d, "readings");
            cJSON *a = cJSON_GetArrayItem(rs, i), *b = cJSON_GetArrayItem(rs, i + 1);
            if (cJSON_GetObjectItem(a, "entry")->valueint ==
                cJSON_GetObjectItem(b, "entry")->valueint) {
                cJSON *ca = cJSON_Duplicate(a, 1), *cb = cJSON_Duplicate(b, 1);
                cJSON_ReplaceItemInArray(rs, i, cb);
                cJSON_ReplaceItemInArray(rs, i + 1, ca);
                verify_json(d, NULL, &rep);
                assert_false(rep.ok);
                assert_int_equal(rep.bad_index, want);
                cases++;
            }
            cJSON_Delete(d);
        }
    }
    fprintf(stderr, "deletions, insertions, swaps, truncations caught: %d\n", cases);
}

static void byte_truncations(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    int cases = 0;
    /* every prefix of the bundle text (the full text verifies) */
    for (size_t cut = 0; cut < f->len; cut += (cut + 64 < f->len) ? 7 : 1) {
        assert_int_equal(ot_ledger_verify_bundle(f->bundle, cut, &rep), OT_OK);
        assert_false(rep.ok);
        cases++;
    }
    assert_int_equal(ot_ledger_verify_bundle(f->bundle, f->len, &rep), OT_OK);
    assert_true(rep.ok);
    assert_int_equal(ot_ledger_verify_bundle(NULL, 0, &rep), OT_OK);
    assert_false(rep.ok);
    fprintf(stderr, "byte truncations caught: %d\n", cases);
}

/* --------------------------------------------------------------- refusals */

static enum ot_err try_append(struct fx *f, int64_t ship, const char *type, const char *from,
                              const char *to, const char *witness, int64_t ts, char *why)
{
    struct ot_custody_input in = {.type = type,
                                  .actor_name = "tester",
                                  .actor_role = "coordinator",
                                  .from_party = from,
                                  .to_party = to,
                                  .witness = witness,
                                  .ts = ts};
    cJSON *entry = NULL;
    /* the caller owns the transaction (ot_ledger.h) */
    assert_int_equal(ot_sql_begin(f->db), OT_OK);
    enum ot_err rc = ot_ledger_append(f->db, f->key, ship, &in, &entry, why, 256);
    if (rc)
        ot_sql_rollback(f->db);
    else
        assert_int_equal(ot_sql_commit(f->db), OT_OK);
    if (rc == OT_OK) {
        assert_non_null(entry);
        assert_non_null(cJSON_GetObjectItem(entry, "hash"));
        assert_non_null(cJSON_GetObjectItem(entry, "prev_hash"));
        assert_non_null(cJSON_GetObjectItem(entry, "index"));
    } else {
        assert_null(entry);
        assert_true(why[0] != '\0');
    }
    cJSON_Delete(entry);
    return rc;
}

/* OT_OK or OT_ERR_DB: one statement (its changes in *changes), or several
 * without a count */
static enum ot_err exec_sql(struct ot_sql *db, const char *sql)
{
    if (strchr(sql, ';'))
        return ot_sql_exec(db, sql);
    return ledger_trail_exec(db, sql) >= 0 ? OT_OK : OT_ERR_DB;
}

static int64_t count_rows(struct ot_sql *db, const char *sql)
{
    int64_t n = ledger_trail_int(db, sql);
    assert_true(n >= 0);
    return n;
}

static void impossible_sequences(void **state)
{
    struct fx *f = *state;
    char why[256];
    int64_t s3 = 0, t = T0 + 100 * 60000;
    int64_t before = count_rows(f->db, "SELECT count(*) FROM custody");
    assert_int_equal(ledger_trail_shipment(f->db, "KZ-WKO-0003", "HEART-7", &s3), 0);

    assert_int_equal(try_append(f, s3, "received", NULL, NULL, NULL, t, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "received before departed"));
    assert_int_equal(try_append(f, s3, "arrived", NULL, NULL, NULL, t, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "arrived before departed"));
    assert_int_equal(try_append(f, s3, "handoff", "Team A", "Team B", NULL, t, why), OT_ERR_INVAL);
    assert_non_null(strstr(why, "witness"));
    assert_int_equal(try_append(f, s3, "handoff", "Team A", " team a ", "W", t, why),
                     OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "same party"));
    assert_int_equal(try_append(f, s3, "handoff", "Team A", "Team B", "Team B", t, why),
                     OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "witness"));
    assert_int_equal(try_append(f, s3, "handoff", NULL, "Team B", "W", t, why), OT_ERR_INVAL);
    assert_int_equal(try_append(f, s3, "teleported", NULL, NULL, NULL, t, why), OT_ERR_INVAL);
    assert_int_equal(try_append(f, 999999, "note", NULL, NULL, NULL, t, why), OT_ERR_NOTFOUND);
    assert_int_equal(count_rows(f->db, "SELECT count(*) FROM custody"), before);

    assert_int_equal(try_append(f, s3, "handoff", "Team A", "Team B", "W", t, why), OT_OK);
    assert_int_equal(try_append(f, s3, "departed", NULL, NULL, NULL, t + 1, why), OT_OK);
    assert_int_equal(try_append(f, s3, "departed", NULL, NULL, NULL, t + 2, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "departed twice"));
    assert_int_equal(try_append(f, s3, "note", NULL, NULL, NULL, t - 5, why), OT_ERR_CONFLICT);
    assert_int_equal(try_append(f, s3, "arrived", NULL, NULL, NULL, t + 3, why), OT_OK);
    assert_int_equal(try_append(f, s3, "discarded", NULL, NULL, NULL, t + 4, why), OT_OK);
    assert_int_equal(try_append(f, s3, "note", NULL, NULL, NULL, t + 5, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "discarded"));

    /* a closed shipment takes no events */
    assert_int_equal(exec_sql(f->db, "UPDATE shipments SET status='closed' WHERE id=1"), OT_OK);
    assert_int_equal(try_append(f, 1, "note", NULL, NULL, NULL, t + 6, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "closed"));

    struct ot_ledger_report rep;
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    assert_true(rep.ok);
    assert_int_equal(rep.shipments, 3);
}

/* ---------------------------------------------------------- the database */

static void db_triggers_and_tamper(void **state)
{
    struct fx *f = *state;
    struct ot_ledger_report rep;
    /* the triggers refuse edits */
    assert_int_not_equal(exec_sql(f->db, "UPDATE custody SET to_party='Mallory' WHERE idx=1"),
                         OT_OK);
    assert_int_not_equal(exec_sql(f->db, "DELETE FROM custody WHERE idx=6"), OT_OK);
    assert_int_not_equal(exec_sql(f->db, "DELETE FROM custody_readings"), OT_OK);
    assert_int_not_equal(exec_sql(f->db, "UPDATE custody_readings SET idx=0"), OT_OK);
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    assert_true(rep.ok);
}

struct tamper {
    const char *sql;
    int64_t ship, idx;
};

static void db_tamper_cases(void **state)
{
    (void)state;
    static const struct tamper cases[] = {
        {"UPDATE custody SET to_party='Mallory' WHERE shipment_id=1 AND idx=1", 1, 1},
        {"UPDATE custody SET witness=NULL WHERE shipment_id=1 AND idx=4", 1, 4},
        {"UPDATE custody SET temp_c=4.0 WHERE shipment_id=1 AND idx=3", 1, 3},
        {"UPDATE custody SET ts=ts+1 WHERE shipment_id=1 AND idx=2", 1, 2},
        {"UPDATE custody SET hash='00' || substr(hash,3) WHERE shipment_id=1 AND idx=5", 1, 5},
        {"DELETE FROM custody WHERE shipment_id=1 AND idx=2", 1, 2},
        {"DELETE FROM custody WHERE shipment_id=1 AND idx=6", 1, 6},
        {"UPDATE readings SET temp_c=4.0 WHERE container='KZ-WKO-0001' AND seq=10", 1, 3},
        {"UPDATE readings SET ts=ts-1 WHERE container='KZ-WKO-0001' AND seq=15", 1, 4},
        {"DELETE FROM readings WHERE container='KZ-WKO-0001' AND seq=2", 1, 0},
        {"DELETE FROM custody_readings WHERE container='KZ-WKO-0001' AND seq=17", 1, 5},
        {"UPDATE custody_readings SET idx=3 WHERE container='KZ-WKO-0001' AND seq=14", 1, 3},
        {"UPDATE shipments SET donation_code='OTHER' WHERE id=2", 2, 0},
        {"UPDATE ledger_heads SET signature='00' || substr(signature,3) WHERE shipment_id=2 AND "
         "idx=1",
         2, 1},
        {"DELETE FROM ledger_heads WHERE shipment_id=1 AND idx=6", 1, 6},
        {"UPDATE ledger_heads SET signature='00' || substr(signature,3) WHERE shipment_id=1"
         " AND idx=2",
         1, 2},
        {"UPDATE ledger_heads SET hash=(SELECT hash FROM custody WHERE shipment_id=1 AND idx=4)"
         " WHERE shipment_id=1 AND idx=3",
         1, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[64];
        struct ot_sql *db = NULL;
        struct ot_ledger_key *key = NULL;
        int64_t ship = 0;
        struct ot_ledger_report rep;
        snprintf(dir, sizeof dir, "/tmp/ot_ledger_t_XXXXXX");
        assert_non_null(mkdtemp(dir));
        assert_int_equal(ledger_trail_build(dir, &db, &key, &ship), 0);
        assert_int_equal(ot_sql_exec(db, ledger_trail_drop_triggers_sql(db)), OT_OK);
        int64_t changed = ledger_trail_exec(db, cases[i].sql);
        if (changed != 1)
            fprintf(stderr, "tamper %zu changed %lld rows: %s\n", i, (long long)changed,
                    cases[i].sql);
        assert_int_equal(changed, 1);
        assert_int_equal(ot_ledger_verify_db(db, &rep), OT_OK);
        if (rep.ok || rep.bad_shipment != cases[i].ship || rep.bad_index != cases[i].idx)
            fprintf(stderr, "tamper %zu (%s): ok=%d shipment=%lld entry=%lld %s\n", i, cases[i].sql,
                    rep.ok, (long long)rep.bad_shipment, (long long)rep.bad_index, rep.why);
        assert_false(rep.ok);
        assert_int_equal(rep.bad_shipment, cases[i].ship);
        assert_int_equal(rep.bad_index, cases[i].idx);
        ot_ledger_key_free(key);
        assert_int_equal(ledger_trail_remove(dir, db), 0);
    }
}

/* ---------------------------------------------------------------- exports */

static void exports(void **state)
{
    struct fx *f = *state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(ot_ledger_export_epcis(f->db, f->ship, &out, &len), OT_OK);
    cJSON *doc = cJSON_ParseWithLength(out, len);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "type")->valuestring, "EPCISDocument");
    assert_string_equal(cJSON_GetObjectItem(doc, "schemaVersion")->valuestring, "2.0");
    cJSON *list = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "epcisBody"), "eventList");
    assert_int_equal(cJSON_GetArraySize(list), 7);
    cJSON *ho = cJSON_GetArrayItem(list, 1);
    assert_string_equal(cJSON_GetObjectItem(ho, "bizStep")->valuestring, "shipping");
    assert_non_null(cJSON_GetObjectItem(ho, "sourceList"));
    assert_non_null(cJSON_GetObjectItem(ho, "destinationList"));
    assert_non_null(cJSON_GetObjectItem(ho, "sensorElementList"));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 5), "bizStep")->valuestring,
                        "receiving");
    assert_null(strstr(out, "patient"));
    cJSON_Delete(doc);
    free(out);

    assert_int_equal(ot_ledger_export_csv(f->db, f->ship, &out, &len), OT_OK);
    assert_non_null(strstr(out, "\"quote \"\" and, comma\nnew line\""));
    assert_non_null(strstr(out, ",'=cmd|"));
    assert_non_null(strstr(out, "\r\nreading,0,KZ-WKO-0001,1,"));
    free(out);

    assert_int_equal(ot_ledger_export_bundle(f->db, 424242, &out, &len), OT_ERR_NOTFOUND);
}

int main(void)
{
    ot_log_init("test_ledger", OT_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(trail_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(entry_field_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(reading_field_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(shipment_and_head_mutations, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(deletions_insertions_swaps, setup, teardown),
        cmocka_unit_test_setup_teardown(byte_truncations, setup, teardown),
        cmocka_unit_test_setup_teardown(impossible_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(db_triggers_and_tamper, setup, teardown),
        cmocka_unit_test(db_tamper_cases),
        cmocka_unit_test_setup_teardown(exports, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
