#!/usr/bin/env node
// validate.mjs OPENAPI.yaml EXCHANGES.json - the HTTP API's description
// against the API's real answers, with existing validators only:
//  1. the document itself: @seriousme/openapi-schema-validator (the
//     OpenAPI 3.1 meta-schemas);
//  2. every recorded exchange: its operation (method + path template) must
//     be in the document, its status among the operation's responses, its
//     Content-Type among that response's media types, and its body (JSON)
//     valid against that media type's schema; a 2xx request body against
//     the operation's requestBody schema; event-stream frames against
//     components.schemas.Event. Schemas are compiled by ajv's JSON Schema
//     2020-12 dialect (OpenAPI 3.1's) with ajv-formats, $refs resolved by
//     the document validator;
//  3. coverage: every operation of the document answered 2xx at least once.
// EXCHANGES.json: [{method, path, status, content_type, body, request_body,
// request_content_type, events: [data objects]}] written by
// tests/integration/api_openapi.py. Prints one line per problem and
// "OK operations=N exchanges=M"; exit 0 valid, 1 invalid, 2 setup problem.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let Validator, Ajv2020, addFormats;
try {
  ({ Validator } = await import('@seriousme/openapi-schema-validator'));
  Ajv2020 = require('ajv/dist/2020').default;
  addFormats = require('ajv-formats');
} catch (e) {
  process.stderr.write(`validate.mjs: npm packages missing (run scripts/install-deps.sh: npm ci in tests/openapi): ${e.message}\n`);
  process.exit(2);
}
const [docFile, exFile] = process.argv.slice(2);
if (!docFile || !exFile) {
  process.stderr.write('usage: validate.mjs OPENAPI.yaml EXCHANGES.json\n');
  process.exit(2);
}

const problems = [];
const v = new Validator();
const res = await v.validate(readFileSync(docFile, 'utf8'));
if (!res.valid) {
  console.log(`FAIL ${docFile} is not a valid OpenAPI document:`);
  console.log(JSON.stringify(res.errors, null, 1).slice(0, 4000));
  process.exit(1);
}
if (v.version !== '3.1') problems.push(`${docFile}: OpenAPI ${v.version}, want 3.1`);
const spec = v.resolveRefs();

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const compiled = new WeakMap();
function check(schema, value, what) {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (!fn(value)) {
    const errs = fn.errors.slice(0, 6).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    problems.push(`${what}: ${errs.join('; ')}`);
  }
}

// path templates, most literal first ("/api/v1/tokens" before "/api/v1/tokens/{id}")
const templates = Object.keys(spec.paths).map((t) => ({
  t,
  re: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));
const seen = new Map(); // "GET /path" -> [statuses]
const exchanges = JSON.parse(readFileSync(exFile, 'utf8'));
for (const ex of exchanges) {
  const method = ex.method.toLowerCase();
  const path = ex.path.split('?')[0];
  const what = `${ex.method} ${ex.path} -> ${ex.status}`;
  const tpl = templates.find((x) => x.re.test(path));
  const op = tpl && spec.paths[tpl.t][method];
  if (!op) {
    problems.push(`${what}: no such operation in ${docFile}`);
    continue;
  }
  const key = `${ex.method} ${tpl.t}`;
  if (!seen.has(key)) seen.set(key, []);
  seen.get(key).push(ex.status);
  const resp = op.responses[String(ex.status)] || op.responses[`${String(ex.status)[0]}XX`] || op.responses.default;
  if (!resp) {
    problems.push(`${what}: status ${ex.status} is not documented (${Object.keys(op.responses).join(', ')})`);
    continue;
  }
  if (ex.status < 300 && ex.request_body !== undefined && op.requestBody) {
    const rmt = (ex.request_content_type || 'application/json').split(';')[0].trim();
    const rc = op.requestBody.content[rmt];
    if (!rc) problems.push(`${what}: request type ${rmt} not documented`);
    else check(rc.schema, ex.request_body, `${what} request body`);
  }
  if (!resp.content) {
    if (ex.body) problems.push(`${what}: a body where the document has none`);
    continue;
  }
  const mt = (ex.content_type || '').split(';')[0].trim();
  const media = resp.content[mt];
  if (!media) {
    problems.push(`${what}: Content-Type ${mt || '(none)'} not documented (${Object.keys(resp.content).join(', ')})`);
    continue;
  }
  let body = ex.body;
  if (/json$/.test(mt)) {
    try {
      body = JSON.parse(ex.body);
    } catch (e) {
      problems.push(`${what}: body is not JSON: ${e.message}`);
      continue;
    }
  }
  if (media.schema && !(mt === 'text/event-stream')) check(media.schema, body, `${what} body`);
  for (const h of Object.keys(resp.headers || {})) {
    const got = (ex.headers || {})[h.toLowerCase()];
    if (got === undefined) problems.push(`${what}: header ${h} missing`);
    else check(resp.headers[h].schema, got, `${what} header ${h}`);
  }
  for (const [i, data] of (ex.events || []).entries()) {
    check(spec.components.schemas.Event, data, `${what} event[${i}]`);
  }
}

// coverage: every documented operation answered 2xx
let ops = 0;
for (const [t, item] of Object.entries(spec.paths)) {
  for (const m of ['get', 'put', 'post', 'patch', 'delete']) {
    if (!item[m]) continue;
    ops++;
    const st = seen.get(`${m.toUpperCase()} ${t}`) || [];
    if (!st.some((s) => s >= 200 && s < 300)) problems.push(`${m.toUpperCase()} ${t}: never answered 2xx in the test (statuses seen: ${st.join(', ') || 'none'})`);
  }
}
for (const p of problems) console.log(`FAIL ${p}`);
if (problems.length) process.exit(1);
console.log(`OK operations=${ops} exchanges=${exchanges.length} statuses=${[...seen.values()].flat().length}`);
