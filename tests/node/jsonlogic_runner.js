// Reads JSON lines {"rule": ..., "data": ...} on stdin; writes {"result": ...} or {"error": "..."} per line.
// Values JSON cannot carry are tagged: {"$js": "NaN" | "Infinity" | "-Infinity" | "-0" | "undefined" | "function"}.
"use strict";
const jsonLogic = require("json-logic-js");
const readline = require("readline");

// `log` calls console.log: keep stdout for replies only.
console.log = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");

function encode(value) {
  if (value === undefined) return { $js: "undefined" };
  if (typeof value === "function") return { $js: "function" };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $js: "NaN" };
    if (value === Infinity) return { $js: "Infinity" };
    if (value === -Infinity) return { $js: "-Infinity" };
    if (Object.is(value, -0)) return { $js: "-0" };
    return value;
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = encode(value[key]);
    return out;
  }
  return value;
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let reply;
  try {
    const request = JSON.parse(line);
    reply = { result: encode(jsonLogic.apply(request.rule, request.data)) };
  } catch (err) {
    reply = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
