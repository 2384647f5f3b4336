/* test_trail.c - the shipment and custody state machine (common/ot_trail.h):
 * every status change from every status to every status (and unknown
 * words) against the table of docs/api.md, every custody entry type in
 * every status against the status it moves to, the open and final
 * statuses (and the SQL list the collector pastes), and which entries the
 * trail takes in every state it can reach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ot_trail.h"

static const char *const statuses[] = {"created", "in_transit", "delivered", "closed", "discarded"};
#define NS 5
static const char *const types[] = {"packed",     "handoff", "departed",  "arrived",
                                    "received",   "opened",  "discarded", "note",
                                    "redirected", "checkin", "reperfused"};
#define NT 11

static void names(void **state)
{
    (void)state;
    for (int i = 0; i < NS; i++) {
        assert_string_equal(ot_trail_status_name((enum ot_trail_status)i), statuses[i]);
        assert_int_equal(ot_trail_status_parse(statuses[i]), i);
    }
    assert_int_equal(OT_TRAIL_S_COUNT, NS);
    assert_null(ot_trail_status_name(OT_TRAIL_S_COUNT));
    assert_null(ot_trail_status_name((enum ot_trail_status) - 1));
    assert_int_equal(ot_trail_status_parse(NULL), -1);
    assert_int_equal(ot_trail_status_parse(""), -1);
    assert_int_equal(ot_trail_status_parse("Created"), -1);
    assert_int_equal(ot_trail_status_parse("active"), -1);

    int n = 0;
    for (; ot_trail_entry_types[n]; n++) {
        assert_true(n < NT);
        assert_string_equal(ot_trail_entry_types[n], types[n]);
        assert_true(ot_trail_entry_type_known(types[n]));
        assert_non_null(strstr(OT_TRAIL_ENTRY_TYPES_TEXT, types[n]));
    }
    assert_int_equal(n, NT);
    /* the collector's list of handling entries: known types, as it had them */
    assert_string_equal(OT_TRAIL_HANDLING_SQL, "'handoff','packed','opened','received'");
    assert_false(ot_trail_entry_type_known(NULL));
    assert_false(ot_trail_entry_type_known("teleported"));
    assert_false(ot_trail_entry_type_known("Packed"));
    assert_false(ot_trail_entry_type_known("delivered")); /* a status, not an entry */
}

static void open_and_final(void **state)
{
    (void)state;
    /* the collector's SQL list holds exactly the open statuses */
    assert_string_equal(OT_TRAIL_OPEN_SQL, "'created','in_transit'");
    for (int i = 0; i < NS; i++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", statuses[i]);
        int open = i == OT_TRAIL_S_CREATED || i == OT_TRAIL_S_IN_TRANSIT;
        int final = i == OT_TRAIL_S_CLOSED || i == OT_TRAIL_S_DISCARDED;
        assert_int_equal(ot_trail_status_is_open(statuses[i]), open);
        assert_int_equal(ot_trail_status_is_final(statuses[i]), final);
        assert_int_equal(strstr(OT_TRAIL_OPEN_SQL, quoted) != NULL, open);
    }
    assert_false(ot_trail_status_is_open(NULL));
    assert_false(ot_trail_status_is_final(NULL));
    assert_false(ot_trail_status_is_open("shipped"));
    assert_false(ot_trail_status_is_final("shipped"));
}

/* every (from, to): allowed exactly when docs/api.md lists it */
static void every_transition(void **state)
{
    (void)state;
    static const char *const allowed[][2] = {
        {"created", "in_transit"},   {"created", "closed"},       {"created", "discarded"},
        {"in_transit", "delivered"}, {"in_transit", "discarded"}, {"delivered", "closed"},
        {"delivered", "discarded"},
    };
    int yes = 0;
    for (int f = 0; f < NS; f++)
        for (int t = 0; t < NS; t++) {
            int want = 0;
            for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
                want |= !strcmp(allowed[k][0], statuses[f]) && !strcmp(allowed[k][1], statuses[t]);
            if (ot_trail_transition_ok(statuses[f], statuses[t]) != want)
                fprintf(stderr, "%s -> %s: want %d\n", statuses[f], statuses[t], want);
            assert_int_equal(ot_trail_transition_ok(statuses[f], statuses[t]), want);
            yes += want;
        }
    assert_int_equal(yes, 7);
    /* nothing leaves a final status; nothing goes back to created */
    for (int i = 0; i < NS; i++) {
        assert_false(ot_trail_transition_ok("closed", statuses[i]));
        assert_false(ot_trail_transition_ok("discarded", statuses[i]));
        assert_false(ot_trail_transition_ok(statuses[i], "created"));
        assert_false(ot_trail_transition_ok(statuses[i], "nonsense"));
        assert_false(ot_trail_transition_ok("nonsense", statuses[i]));
        assert_false(ot_trail_transition_ok(statuses[i], NULL));
        assert_false(ot_trail_transition_ok(NULL, statuses[i]));
    }
}

/* every entry type in every status: the status it moves the shipment to */
static void every_custody_effect(void **state)
{
    (void)state;
    /* [type][status] -> next status, NULL = stays */
    static const char *const want[NT][NS] = {
        /* created      in_transit    delivered    closed  discarded */
        [0] = {NULL, NULL, NULL, NULL, NULL},                      /* packed */
        [1] = {NULL, NULL, NULL, NULL, NULL},                      /* handoff */
        [2] = {"in_transit", NULL, NULL, NULL, NULL},              /* departed */
        [3] = {NULL, NULL, NULL, NULL, NULL},                      /* arrived */
        [4] = {"delivered", "delivered", NULL, NULL, NULL},        /* received */
        [5] = {NULL, NULL, NULL, NULL, NULL},                      /* opened */
        [6] = {"discarded", "discarded", "discarded", NULL, NULL}, /* discarded */
        [7] = {NULL, NULL, NULL, NULL, NULL},                      /* note */
    };
    for (int t = 0; t < NT; t++)
        for (int s = 0; s < NS; s++) {
            const char *got = ot_trail_custody_status(types[t], statuses[s]);
            if (!want[t][s])
                assert_null(got);
            else {
                assert_non_null(got);
                assert_string_equal(got, want[t][s]);
                /* a move is always to a known status, never to itself */
                assert_true(ot_trail_status_parse(got) >= 0);
                assert_string_not_equal(got, statuses[s]);
            }
        }
    assert_null(ot_trail_custody_status("teleported", "created"));
    assert_null(ot_trail_custody_status("discarded", "nonsense"));
    assert_null(ot_trail_custody_status(NULL, "created"));
    assert_null(ot_trail_custody_status("departed", NULL));
}

static enum ot_err check(const char *status, const struct ot_trail_seq *s, const char *type,
                         const char *from, const char *to, const char *witness, int64_t ts,
                         char *why)
{
    struct ot_trail_entry e = {type, from, to, witness, ts};
    why[0] = '\0';
    enum ot_err rc = ot_trail_entry_check(7, status, s, &e, why, 256);
    if (rc)
        assert_true(why[0] != '\0');
    return rc;
}

/* the trail after applying types[] in order (ts 1, 2, ...) */
static struct ot_trail_seq after(const char *const *seq)
{
    struct ot_trail_seq s = {0};
    for (int i = 0; seq[i]; i++)
        ot_trail_seq_apply(&s, seq[i], i + 1);
    return s;
}

/* which entry the trail takes, in every state a trail can reach */
static void entries_by_state(void **state)
{
    (void)state;
    char why[256];
    struct {
        const char *name;
        const char *const *seq;
        /* expected rc of packed handoff departed arrived received opened discarded note
         * redirected (checked in status in_transit) */
        enum ot_err rc[NT];
    } cases[] = {
        {"empty",
         (const char *const[]){NULL},
         {0, 0, 0, OT_ERR_CONFLICT, OT_ERR_CONFLICT, 0, 0, 0}},
        {"packed",
         (const char *const[]){"packed", NULL},
         {0, 0, 0, OT_ERR_CONFLICT, OT_ERR_CONFLICT, 0, 0, 0}},
        {"in transit",
         (const char *const[]){"packed", "departed", NULL},
         {0, 0, OT_ERR_CONFLICT, 0, 0, 0, 0, 0}},
        {"arrived",
         (const char *const[]){"departed", "arrived", NULL},
         {0, 0, 0, OT_ERR_CONFLICT, 0, 0, 0, 0}},
        {"received",
         (const char *const[]){"departed", "received", NULL},
         {0, 0, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, 0, 0, 0, OT_ERR_CONFLICT, 0, 0}},
        {"received after arrival",
         (const char *const[]){"departed", "arrived", "received", NULL},
         {0, 0, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, 0, 0, 0, OT_ERR_CONFLICT, 0, 0}},
        {"discarded",
         (const char *const[]){"packed", "discarded", NULL},
         {OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT,
          OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT, OT_ERR_CONFLICT,
          OT_ERR_CONFLICT}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct ot_trail_seq s = after(cases[c].seq);
        for (int t = 0; t < NT; t++) {
            /* a hand-off always brings its parties and witness, a redirect
             * the old and the new destination */
            int ho = !strcmp(types[t], "handoff") || !strcmp(types[t], "redirected") ||
                     !strcmp(types[t], "checkin");
            enum ot_err rc = check("in_transit", &s, types[t], ho ? "A" : NULL, ho ? "B" : NULL,
                                   ho ? "W" : NULL, 100, why);
            if (rc != cases[c].rc[t])
                fprintf(stderr, "%s + %s: %d (%s)\n", cases[c].name, types[t], rc, why);
            assert_int_equal(rc, cases[c].rc[t]);
        }
    }
    /* the reasons the API shows */
    struct ot_trail_seq s = after((const char *const[]){NULL});
    check("created", &s, "received", NULL, NULL, NULL, 1, why);
    assert_non_null(strstr(why, "received before departed"));
    check("created", &s, "arrived", NULL, NULL, NULL, 1, why);
    assert_non_null(strstr(why, "arrived before departed"));
    s = after((const char *const[]){"departed", NULL});
    check("in_transit", &s, "departed", NULL, NULL, NULL, 5, why);
    assert_non_null(strstr(why, "departed twice"));
    s = after((const char *const[]){"departed", "received", NULL});
    check("delivered", &s, "departed", NULL, NULL, NULL, 5, why);
    assert_non_null(strstr(why, "already received"));
    s = after((const char *const[]){"discarded", NULL});
    check("created", &s, "note", NULL, NULL, NULL, 5, why);
    assert_non_null(strstr(why, "discarded"));
}

/* a closed trail takes nothing; the status alone decides that */
static void final_status_takes_nothing(void **state)
{
    (void)state;
    char why[256];
    struct ot_trail_seq s = after((const char *const[]){"packed", NULL});
    for (int st = 0; st < NS; st++)
        for (int t = 0; t < NT; t++) {
            int ho = !strcmp(types[t], "handoff") || !strcmp(types[t], "redirected") ||
                     !strcmp(types[t], "checkin"),
                arr = !strcmp(types[t], "arrived"), rec = !strcmp(types[t], "received"),
                red = !strcmp(types[t], "redirected");
            enum ot_err rc = check(statuses[st], &s, types[t], ho ? "A" : NULL, ho ? "B" : NULL,
                                   ho ? "W" : NULL, 10, why);
            if (ot_trail_status_is_final(statuses[st])) {
                assert_int_equal(rc, OT_ERR_CONFLICT);
                char want[80];
                snprintf(want, sizeof want, "shipment 7 is %s: its custody trail is closed",
                         statuses[st]);
                assert_string_equal(why, want);
            } else {
                /* a redirect only while on the way (created, in_transit) */
                int red_no = red && !ot_trail_status_is_open(statuses[st]);
                assert_int_equal(rc, arr || rec || red_no ? OT_ERR_CONFLICT : OT_OK);
            }
        }
    assert_int_equal(check(NULL, &s, "note", NULL, NULL, NULL, 10, why), OT_ERR_CONFLICT);
    assert_int_equal(check("nonsense", &s, "note", NULL, NULL, NULL, 10, why), OT_ERR_CONFLICT);
}

/* v1.1: a signature is the one entry every status takes, after close and
 * after discarded too, in time order; it is not a custody POST type */
static void signed_after_close(void **state)
{
    (void)state;
    char why[256];
    struct ot_trail_seq s = after((const char *const[]){"packed", "departed", "discarded", NULL});
    assert_false(ot_trail_entry_type_known("signed"));
    assert_true(ot_trail_entry_type_stored("signed"));
    assert_true(ot_trail_entry_type_stored("note"));
    assert_false(ot_trail_entry_type_stored("teleported"));
    for (int st = 0; st < NS; st++)
        assert_int_equal(check(statuses[st], &s, "signed", NULL, NULL, NULL, 10, why), OT_OK);
    assert_int_equal(check("closed", &s, "note", NULL, NULL, NULL, 10, why), OT_ERR_CONFLICT);
    assert_int_equal(check("closed", &s, "signed", NULL, NULL, NULL, 2, why), OT_ERR_CONFLICT);
    assert_int_equal(check("nonsense", &s, "signed", NULL, NULL, NULL, 10, why), OT_ERR_CONFLICT);
    assert_true(ot_trail_meaning_known("released") && ot_trail_meaning_known("reviewed") &&
                ot_trail_meaning_known("rejected"));
    assert_false(ot_trail_meaning_known("approved") || ot_trail_meaning_known(NULL));
}

static void parties_and_time(void **state)
{
    (void)state;
    char why[256];
    struct ot_trail_seq s = after((const char *const[]){"packed", NULL}); /* last_ts 1 */
    assert_int_equal(check("created", &s, "handoff", "Team A", "Team B", NULL, 5, why),
                     OT_ERR_INVAL);
    assert_non_null(strstr(why, "witness"));
    assert_int_equal(check("created", &s, "handoff", NULL, "Team B", "W", 5, why), OT_ERR_INVAL);
    assert_int_equal(check("created", &s, "handoff", "Team A", "  ", "W", 5, why), OT_ERR_INVAL);
    assert_int_equal(check("created", &s, "handoff", "Team A", " team a\t", "W", 5, why),
                     OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "same party"));
    assert_int_equal(check("created", &s, "handoff", "Team A", "Team B", "TEAM B ", 5, why),
                     OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "second person"));
    assert_int_equal(check("created", &s, "note", "X", "x", NULL, 5, why), OT_ERR_CONFLICT);
    assert_int_equal(check("created", &s, "handoff", "Team A", "Team B", "W", 5, why), OT_OK);
    /* time: equal to the previous entry's is fine, earlier is not */
    assert_int_equal(check("created", &s, "note", NULL, NULL, NULL, 1, why), OT_OK);
    assert_int_equal(check("created", &s, "note", NULL, NULL, NULL, 0, why), OT_ERR_CONFLICT);
    assert_non_null(strstr(why, "before the previous"));
    struct ot_trail_seq empty = {0};
    assert_int_equal(check("created", &empty, "note", NULL, NULL, NULL, -5, why), OT_OK);
    /* unknown type */
    assert_int_equal(check("created", &s, "teleported", NULL, NULL, NULL, 5, why), OT_ERR_INVAL);
    assert_non_null(strstr(why, OT_TRAIL_ENTRY_TYPES_TEXT));
    /* party names */
    assert_true(ot_trail_same_party(" Dr. Serik ", "dr. serik"));
    assert_false(ot_trail_same_party("Dr. Serik", "Dr. Serik N."));
    assert_false(ot_trail_same_party(NULL, NULL));
    assert_false(ot_trail_same_party("", " "));
    /* a NULL why is fine */
    struct ot_trail_entry e = {"arrived", NULL, NULL, NULL, 5};
    assert_int_equal(ot_trail_entry_check(1, "created", &s, &e, NULL, 0), OT_ERR_CONFLICT);
}

static void seq_apply(void **state)
{
    (void)state;
    struct ot_trail_seq s = after((const char *const[]){"packed", "departed", NULL});
    assert_true(s.in_transit && s.departed && !s.received && !s.discarded);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.last_ts, 2);
    ot_trail_seq_apply(&s, "arrived", 9);
    assert_true(!s.in_transit && s.departed);
    ot_trail_seq_apply(&s, "departed", 10);
    assert_true(s.in_transit);
    ot_trail_seq_apply(&s, "received", 11);
    assert_true(!s.in_transit && s.received);
    ot_trail_seq_apply(&s, "note", 12);
    assert_int_equal(s.count, 6);
    assert_int_equal(s.last_ts, 12);
    ot_trail_seq_apply(&s, "discarded", 13);
    assert_true(s.discarded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(open_and_final),
        cmocka_unit_test(every_transition),
        cmocka_unit_test(every_custody_effect),
        cmocka_unit_test(entries_by_state),
        cmocka_unit_test(final_status_takes_nothing),
        cmocka_unit_test(signed_after_close),
        cmocka_unit_test(parties_and_time),
        cmocka_unit_test(seq_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
