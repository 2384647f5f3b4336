/* report_load.h - the API's side of the shipment report (issue 13): the
 * model loaded from the database (report_load.c) and the export handler
 * that renders it (report_route.c). */
#ifndef REPORT_LOAD_H
#define REPORT_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "report_model.h"

struct api_ctx;
struct api_db;
struct api_req;
struct ot_leg;

/* A loaded model and the storage behind its pointers. */
struct api_report_data {
    struct report_model m;
    struct report_reading *readings;
    struct report_gap *gaps;
    struct report_alarm *alarms;
    struct report_custody *custody;
    struct report_signature *sigs;
    struct ot_leg *plan; /* the stored legs, parsed; m.legs points into it */
    struct report_leg *legs;
    char **strs; /* every string the model points to */
    size_t n_strs, cap_strs;
};

/* Fills rd for shipment id with the statements of d (run it inside one
 * read transaction). OT_ERR_NOTFOUND: no such shipment; OT_ERR_TOOBIG:
 * beyond the model's caps. rd is to be freed with api__report_load_free
 * whatever the result. */
enum ot_err api__report_load(struct api_ctx *ctx, struct api_db *d, int64_t id,
                             struct api_report_data *rd);
void api__report_load_free(struct api_report_data *rd);

/* GET /api/v1/shipments/{id}/export?format=pdf&lang=kk|ru|en */
void api__h_export_pdf(struct api_req *r);

#endif
