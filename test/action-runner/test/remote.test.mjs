// Remote `uses: owner/repo@ref` steps: handlers, local stand-in directories, the bundled
// actions/github-script stand-in, and a consumer-side run of a "published" action repository.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runJob, runAction } from "../run-action.mjs";
import { tempDir, copyFixture, FIXTURES } from "./helpers.mjs";

const SHA = "60a0d83039c74a4aee543508d2ffcb1c3799cdea";

test("a registered handler gets with: inputs and the node-action env, returns outputs/env/path", async () => {
  const calls = [];
  const r = await runJob({
    runtime: { token: "tok-1", resultsUrl: "http://127.0.0.1:5555/" },
    remoteActions: {
      "Acme/Thing": async (call) => {
        calls.push(call);
        call.log("handler says hi");
        return { outputs: { answer: 42, echo: call.inputs.text }, env: { FROM_HANDLER: "yes" }, path: "/opt/handler/bin" };
      },
    },
    steps: [
      { id: "t", uses: `acme/thing/sub/dir@${SHA}`, with: { text: "multi\nline ${{ github.ref }}" } },
      { id: "after", run: 'echo "v=${{ steps.t.outputs.answer }}/$FROM_HANDLER/${PATH%%:*}" >> "$GITHUB_OUTPUT"' },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(calls.length, 1);
  const c = calls[0];
  assert.deepEqual([c.name, c.path, c.ref], ["acme/thing", "sub/dir", SHA]);
  assert.deepEqual(c.inputs, { text: "multi\nline refs/heads/main" });
  assert.equal(c.env["INPUT_TEXT"], "multi\nline refs/heads/main");
  assert.equal(c.env.ACTIONS_RUNTIME_TOKEN, "tok-1");
  assert.equal(c.env.ACTIONS_RESULTS_URL, "http://127.0.0.1:5555/");
  assert.equal(c.env.GITHUB_ACTION_REPOSITORY, "acme/thing");
  assert.equal(c.env.GITHUB_ACTION_REF, SHA);
  assert.deepEqual(r.step("t").outputs, { answer: "42", echo: "multi\nline refs/heads/main" });
  assert.equal(r.step("after").outputs.v, "42/yes//opt/handler/bin");
  assert.match(r.step("t").log, /handler says hi/);
  assert.equal(r.remoteCalls.length, 1);
});

test("handler failure and thrown errors fail the step", async () => {
  const r = await runJob({
    remoteActions: {
      "a/fails": () => ({ outcome: "failure", error: "stub said no", outputs: { partial: "p" } }),
      "a/throws": () => {
        throw new Error("kaboom");
      },
    },
    steps: [
      { id: "f", uses: "a/fails@v1", "continue-on-error": true },
      { id: "t", uses: "a/throws@v1" },
    ],
  });
  assert.equal(r.outcome, "failure");
  assert.equal(r.step("f").outcome, "failure");
  assert.equal(r.step("f").outputs.partial, "p");
  assert.match(r.step("f").log, /stub said no/);
  assert.match(r.step("t").log, /kaboom/);
});

test("an unregistered remote action fails the composite that uses it before any of its steps run", async () => {
  const ws = tempDir({
    "a/action.yml": "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo first-step\n    - uses: nobody/nothing@v1\n",
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "failure");
  assert.match(r.log, /Remote action 'nobody\/nothing@v1' is not available offline/);
  assert.doesNotMatch(r.log, /first-step/);
});

test("bundled actions/github-script stand-in: runtime token passed as a masked output to one step", async () => {
  const token = "rt-secret-token-xyz";
  const r = await runAction({
    workspace: copyFixture("workspace"),
    uses: "./.github/actions/runtime-token",
    github: { repository: "octo/hello" },
    runtime: { token, resultsUrl: "http://127.0.0.1:7777/" },
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.seen, `${token}|http://127.0.0.1:7777/|runtime-env:none`); // run steps never get ACTIONS_*
  assert.deepEqual(JSON.parse(r.outputs.result), { repo: "hello", v2: "True" });
  assert.ok(r.masks.includes(token)); // core.setSecret → ::add-mask::
  assert.doesNotMatch(r.maskedLog, new RegExp(token));
});

test("github-script stand-in: script errors and API calls fail the step; result-encoding string", async () => {
  const r = await runJob({
    steps: [
      { id: "throws", uses: `actions/github-script@${SHA}`, with: { script: "throw new Error('nope')" }, "continue-on-error": true },
      { id: "api", uses: `actions/github-script@${SHA}`, with: { script: "await github.rest.issues.get({})" }, "continue-on-error": true },
      { id: "str", uses: `actions/github-script@${SHA}`, with: { script: "return 'plain'", "result-encoding": "string" } },
      { id: "json", uses: `actions/github-script@${SHA}`, with: { script: "core.exportVariable('EXPORTED', 'x'); return [1, 'a']" } },
      { id: "none", uses: `actions/github-script@${SHA}`, with: { script: "core.info('no return')" } },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("throws").outcome, "failure");
  assert.match(r.step("throws").log, /Unhandled error: Error: nope/);
  assert.equal(r.step("api").outcome, "failure");
  assert.match(r.step("api").log, /not available in the offline action harness/);
  assert.equal(r.step("str").outputs.result, "plain");
  assert.equal(r.step("json").outputs.result, '[1,"a"]');
  assert.equal(r.env.EXPORTED, "x");
  assert.equal(r.step("none").outputs.result, ""); // JSON.stringify(undefined) → core writes ""
});

test("a test can replace the github-script stand-in with its own handler", async () => {
  const r = await runAction({
    workspace: copyFixture("workspace"),
    uses: "./.github/actions/runtime-token",
    remoteActions: {
      "actions/github-script": ({ inputs, env }) => {
        assert.match(inputs.script, /core\.setSecret/);
        return { outputs: { token: `stub:${env.ACTIONS_RUNTIME_TOKEN}`, "results-url": "http://stub/", result: "null" } };
      },
    },
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.outputs.seen, "stub:harness-runtime-token|http://stub/|runtime-env:none");
});

test("consumer view of a published action repo: remote uses mapped to a local dir, save with if: always()", async () => {
  const store = tempDir({}, "store-");
  const repo = path.join(FIXTURES, "action-repo");
  const job = (home, extra = {}) =>
    runJob({
      workspace: tempDir({ "go.work.sum": "x" }, "consumer-"),
      home,
      env: { FAKE_STORE: store },
      runtime: { token: "consumer-token", resultsUrl: "http://127.0.0.1:9999/" },
      remoteActions: { "acme/fake-cache": repo },
      steps: [
        { id: "restore", uses: "acme/fake-cache@v1", with: { key: "k-${{ hashFiles('go.work.sum') }}", ...extra } },
        { id: "build", run: "mkdir -p ~/.cache/fake && { test -f ~/.cache/fake/built || date +%s%N > ~/.cache/fake/built; }" },
        { id: "save", if: "always()", uses: "acme/fake-cache/save@v1", with: { key: "k-${{ hashFiles('go.work.sum') }}" } },
      ],
    });

  const home1 = tempDir({}, "home1-");
  const r1 = await job(home1);
  assert.equal(r1.outcome, "success", r1.log);
  assert.equal(r1.step("restore").outputs["cache-hit"], "false");
  assert.equal(r1.step("restore").outputs["runtime-seen"], "token:set,url:http://127.0.0.1:9999/");
  assert.equal(r1.step("save").outputs.saved, "true");
  assert.match(r1.summary, /saved `k-[0-9a-f]{64}`/);
  assert.ok(r1.masks.includes("consumer-token"));
  assert.doesNotMatch(r1.maskedLog, /consumer-token/);

  const home2 = tempDir({}, "home2-");
  const r2 = await job(home2);
  assert.equal(r2.step("restore").outputs["cache-hit"], "true", r2.log);
  assert.equal(fs.readFileSync(path.join(home2, ".cache/fake/built"), "utf8"), fs.readFileSync(path.join(home1, ".cache/fake/built"), "utf8"));

  // restore fails → build is skipped, save still runs (nothing to save → warning annotation)
  const r3 = await job(tempDir({}, "home3-"), { fail: "true" });
  assert.equal(r3.outcome, "failure");
  assert.deepEqual(r3.steps.map((s) => s.outcome), ["failure", "skipped", "success"]);
  assert.equal(r3.step("save").outputs.saved, "false");
  assert.deepEqual(r3.annotations.map((a) => [a.level, a.message]), [["error", "fake-tool asked to fail"], ["warning", `nothing to save at ${r3.home}/.cache/fake`]]);
  // the failing composite's own steps are in children / steps
  assert.equal(r3.step("restore").steps.tool.outcome, "failure");
  assert.equal(r3.step("restore").children[0].outcome, "success"); // the github-script step
});

test("the same repo run as the workspace's own actions: uses: ./ and ./save", async () => {
  const ws = copyFixture("action-repo");
  const store = tempDir({}, "store-");
  const r = await runJob({
    workspace: ws,
    env: { FAKE_STORE: store },
    steps: [
      { id: "restore", uses: "./", with: { key: "k1" } },
      { run: "mkdir -p ~/.cache/fake && echo hi > ~/.cache/fake/f" },
      { id: "save", uses: "./save", if: "always()", with: { key: "k1" } },
    ],
  });
  assert.equal(r.outcome, "success", r.log);
  assert.equal(r.step("restore").outputs["cache-hit"], "false");
  assert.equal(r.step("save").outputs.saved, "true");
  assert.ok(fs.existsSync(path.join(store, "k1/f")));
});

test("steps can reach an HTTP server running inside the test process (the harness never blocks the event loop on steps)", async () => {
  const http = await import("node:http");
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ url: req.url, auth: req.headers.authorization, body });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, signed_download_url: "http://example.invalid/blob" }));
    });
  });
  await new Promise((res) => server.listen(0, "127.0.0.1", res));
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    const r = await runJob({
      runtime: { token: "twirp-token", resultsUrl: url },
      steps: [
        {
          id: "gh",
          uses: `actions/github-script@${SHA}`,
          with: {
            script: `const res = await fetch(new URL('twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL', process.env.ACTIONS_RESULTS_URL), {
  method: 'POST', headers: { Authorization: 'Bearer ' + process.env.ACTIONS_RUNTIME_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ key: 'k', version: 'v' }) });
return (await res.json()).signed_download_url;`,
            "result-encoding": "string",
          },
        },
        { id: "run", run: `"${process.execPath}" -e 'fetch(process.argv[1] + "from-run-step").then(r => r.json()).then(j => console.log("ok=" + j.ok))' "${url}"` },
      ],
    });
    assert.equal(r.outcome, "success", r.log);
    assert.equal(r.step("gh").outputs.result, "http://example.invalid/blob");
    assert.match(r.step("run").log, /ok=true/);
    assert.deepEqual(seen.map((s) => [s.url, s.auth]), [
      ["/twirp/github.actions.results.api.v1.CacheService/GetCacheEntryDownloadURL", "Bearer twirp-token"],
      ["/from-run-step", undefined],
    ]);
    assert.deepEqual(JSON.parse(seen[0].body), { key: "k", version: "v" });
  } finally {
    server.close();
  }
});
