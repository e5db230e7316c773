// Signs COUNT copies of the payload template, each with its own event and session id, with Stripe's own
// test-header helper (stripe.webhooks.generateTestHeaderString), all at one timestamp (now).
// Writes the template split around its ids (for wrk's Lua script to rebuild each body) and one line per
// delivery: "<12-digit id> <Stripe-Signature>".
// usage: node generate.js TEMPLATE COUNT OUT_DIR   (secret in WEBHOOK_SECRET)
'use strict';
const fs = require('fs');
const path = require('path');
const stripe = require('stripe')('sk_test_webhook_load');

const [templatePath, countText, outDir] = process.argv.slice(2);
const secret = process.env.WEBHOOK_SECRET;
const template = fs.readFileSync(templatePath, 'utf8');
const placeholder = '000000000000';
const parts = template.split(new RegExp(`(?<=_bench_)${placeholder}`));
if (parts.length !== 3) {
  throw new Error(`expected two ids ending in _bench_${placeholder} in ${templatePath}, found ${parts.length - 1}`);
}

fs.writeFileSync(path.join(outDir, 'part1'), parts[0]);
fs.writeFileSync(path.join(outDir, 'part2'), parts[1]);
fs.writeFileSync(path.join(outDir, 'part3'), parts[2]);

const count = Number(countText);
const timestamp = Math.floor(Date.now() / 1000);
const out = fs.openSync(path.join(outDir, 'signatures'), 'w');
let lines = [];
for (let i = 0; i < count; i++) {
  const id = String(i).padStart(12, '0');
  const payload = parts[0] + id + parts[1] + id + parts[2];
  const header = stripe.webhooks.generateTestHeaderString({payload, secret, timestamp});
  lines.push(`${id} ${header}\n`);
  if (lines.length === 10000) {
    fs.writeSync(out, lines.join(''));
    lines = [];
  }
}
fs.writeSync(out, lines.join(''));
fs.closeSync(out);
