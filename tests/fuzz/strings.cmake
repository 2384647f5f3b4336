# the raw-text string check of every API body and config file, and the SSE
# Last-Event-ID parse -> ot_json_text_check, ot_parse_i64
ot_fuzz_target(fuzz_json_text fuzz_json_text.c)
