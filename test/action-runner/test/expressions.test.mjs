// Expression plumbing: template splitting, if: normalisation, scalar conversion, the lexer fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evalExpr, evalStr, ifCondition, splitTemplate, scalarToString, runAction } from "../run-action.mjs";
import { tempDir } from "./helpers.mjs";

const ctx = (values, status = "success") => ({ values, status: () => status });

test("splitTemplate: literal and ${{ }} segments, quotes inside expressions, unclosed expressions", () => {
  assert.deepEqual(splitTemplate("a ${{ x }} b"), [{ lit: "a " }, { expr: "x" }, { lit: " b" }]);
  assert.deepEqual(splitTemplate("${{ 'a }} b' }}"), [{ expr: "'a }} b'" }]);
  assert.deepEqual(splitTemplate("no expr"), [{ lit: "no expr" }]);
  assert.deepEqual(splitTemplate(""), []);
  assert.throws(() => splitTemplate("x ${{ y"), /The expression is not closed/);
});

test("ifCondition: success() wrapping like PipelineTemplateConverter.ConvertToIfCondition", () => {
  assert.equal(ifCondition(undefined), "success()");
  assert.equal(ifCondition(""), "success()");
  assert.equal(ifCondition("always()"), "always()");
  assert.equal(ifCondition("${{ failure() }}"), "failure()");
  assert.equal(ifCondition("inputs.x == 'y'"), "success() && (inputs.x == 'y')");
  assert.equal(ifCondition("contains('success()', inputs.x)"), "success() && (contains('success()', inputs.x))");
  assert.equal(ifCondition(false), "success() && (false)");
  assert.equal(ifCondition("${{ inputs.a }} && ${{ env.b }}"), "success() && (format('{0} && {1}', inputs.a, env.b))");
});

test("scalars become strings like the runner's (C# G15 numbers, lower-case booleans)", () => {
  assert.equal(scalarToString(1.2), "1.2");
  assert.equal(scalarToString(20), "20");
  assert.equal(scalarToString(1e16), "1E+16");
  assert.equal(scalarToString(123456789012345678), "1.23456789012346E+17");
  assert.equal(scalarToString(0.00001), "1E-05");
  assert.equal(scalarToString(0.0001), "0.0001");
  assert.equal(scalarToString(true), "true");
  assert.equal(scalarToString(null), "");
});

test("evalExpr: '' unescaping (lexer fix), case rules, built-in functions, status functions", () => {
  const c = ctx({ inputs: { Name: "v" }, env: { FOO: "upper", foo: "lower" }, github: { ref: "refs/heads/x", event: { n: [1, 2] } } });
  assert.equal(evalExpr("'a''b''c'", c).coerceString(), "a'b'c");
  assert.equal(evalExpr("inputs.NAME", c).coerceString(), "v"); // contexts are case-insensitive...
  assert.equal(evalExpr("GitHub.Ref", c).coerceString(), "refs/heads/x");
  assert.equal(evalExpr("env.FOO", c).coerceString(), "upper"); // ...except env on Linux/macOS
  assert.equal(evalExpr("env.foo", c).coerceString(), "lower");
  assert.equal(evalExpr("format('{0}-{1}', inputs.name, join(github.event.n, '+'))", c).coerceString(), "v-1+2");
  assert.equal(evalExpr("fromJSON('{\"a\":[3]}').a[0]", c).coerceString(), "3");
  assert.equal(evalExpr("toJSON(github.event.n)", c).coerceString(), "[\n  1,\n  2\n]");
  assert.equal(evalExpr("startsWith(github.ref, 'REFS/')", c).coerceString(), "true");
  assert.equal(evalExpr("failure()", ctx({}, "failure")).coerceString(), "true");
  assert.equal(evalExpr("success()", ctx({}, "failure")).coerceString(), "false");
  assert.equal(evalExpr("cancelled()", ctx({})).coerceString(), "false");
  assert.throws(() => evalStr("${{ github.event }}", c), /a string was expected/);
  assert.equal(evalStr("${{ toJSON(github.event) }}", c), '{\n  "n": [\n    1,\n    2\n  ]\n}');
});

test("the `if: ${{ inputs.flag }}` pitfall: the string 'false' is truthy", async () => {
  const ws = tempDir({
    "a/action.yml": `name: a
description: d
inputs:
  flag: { description: f, default: "false" }
runs:
  using: composite
  steps:
    - { id: raw, if: "\${{ inputs.flag }}", shell: bash, run: "true" }
    - { id: compared, if: "inputs.flag == 'true'", shell: bash, run: "true" }
    - { id: fromjson, if: "\${{ fromJSON(inputs.flag) }}", shell: bash, run: "true" }
`,
  });
  const r = await runAction({ workspace: ws, uses: "./a" });
  assert.equal(r.outcome, "success", r.log);
  assert.deepEqual([r.steps.raw.outcome, r.steps.compared.outcome, r.steps.fromjson.outcome], ["success", "skipped", "skipped"]);
});

test("upstream quirks the harness works around are still there (diagnostic only)", async (t) => {
  const { Lexer } = await import("@actions/expressions");
  const raw = new Lexer("'a''b''c'").lex().tokens[0].value;
  if (raw === "a'b'c") t.diagnostic("@actions/expressions now unescapes every '' — the lexer fix in lib/expressions.mjs can go");
  else assert.equal(raw, "a'b''c");
  assert.equal(evalExpr("'a''b''c'", ctx({})).coerceString(), "a'b'c"); // our result either way
});
