// `${{ }}` handling the way actions/runner does it, on GitHub's own expression engine
// (@actions/expressions 0.3.61) with two upstream quirks fixed:
//  - the 0.3.61 lexer unescapes only the first '' in a string literal; the runner unescapes all
//    (runner src/Sdk/Expressions/Tokens/LexicalAnalyzer.cs ReadStringToken);
//  - @actions/workflow-parser builds format() strings for multi-line scalars from the raw YAML
//    source (keeping block indentation, ignoring folding/chomping). We take values from the
//    parsed YAML and split literal / ${{ }} segments ourselves, as the runner's
//    TemplateReader.ParseScalar does.
import "./json-hook.mjs";

const { Lexer, Parser, Evaluator, data } = await import("@actions/expressions");
const { TokenType } = await import("@actions/expressions/lexer");
const { truthy } = await import("@actions/expressions/result");
const { ensureStatusFunction } = await import("@actions/workflow-parser/model/converter/if-condition");

export { truthy };

const STATUS_FUNCS = ["always(0,0)", "failure(0,0)", "cancelled(0,0)", "success(0,0)", "hashFiles(1,255)"];
const IF_CONTEXTS = ["github", "inputs", "steps", "job", "runner", "env", "strategy", "matrix", "secrets", "vars", "needs"];
const IF_DEF = { allowedContext: [...IF_CONTEXTS, ...STATUS_FUNCS] };
const FUNC_INFOS = [
  ["success", 0, 0],
  ["failure", 0, 0],
  ["cancelled", 0, 0],
  ["always", 0, 0],
  ["hashFiles", 1, 255],
].map(([name, minArgs, maxArgs]) => ({ name, minArgs, maxArgs }));

// The runner's env context is a CaseSensitiveDictionaryContextData on Linux/macOS;
// data.Dictionary is case-insensitive, so `env` gets its own class.
class CaseSensitiveDictionary extends data.Dictionary {
  add(key, value) {
    this.byKey ??= new Map();
    if (this.byKey.has(key)) return;
    this.byKey.set(key, value);
    this.keys.push(key);
    this.v.push(value);
  }
  get(key) {
    return this.byKey?.get(key);
  }
  pairs() {
    return this.keys.map((key) => ({ key, value: this.byKey.get(key) }));
  }
}

/** JS value → expression data (objects become case-insensitive dictionaries, like the runner's). */
export const toData = (v) => JSON.parse(JSON.stringify(v ?? null), data.reviver);

function contextData(values) {
  return new data.Dictionary(
    ...Object.entries(values).map(([key, v]) => {
      if (key !== "env") return { key, value: toData(v) };
      const d = new CaseSensitiveDictionary();
      for (const [k, x] of Object.entries(v ?? {})) d.add(k, new data.StringData(String(x)));
      return { key, value: d };
    }),
  );
}

/**
 * Evaluates one expression (the text between `${{` and `}}`, or an `if:` condition).
 * ctx = { values: {github, env, inputs, steps, ...}, status(): "success"|"failure",
 *         hashFiles(patterns: string[]): string }
 * Returns @actions/expressions data (use .coerceString(), truthy()).
 */
export function evalExpr(expr, ctx) {
  const status = () => (ctx.status ? ctx.status() : "success");
  const impl = {
    success: () => status() === "success",
    failure: () => status() === "failure",
    cancelled: () => (ctx.cancelled ? ctx.cancelled() : false),
    always: () => true,
    hashfiles: (...args) => {
      if (!ctx.hashFiles) throw new Error("hashFiles is not available here");
      return ctx.hashFiles(args.map((a) => a.coerceString()));
    },
  };
  const funcs = new Map(
    Object.entries(impl).map(([name, f]) => [name, { name, minArgs: 0, maxArgs: 255, call: (...a) => toData(f(...a)) }]),
  );
  const tokens = new Lexer(expr).lex().tokens;
  for (const t of tokens) if (t.type === TokenType.STRING) t.value = t.lexeme.slice(1, -1).replaceAll("''", "'");
  const tree = new Parser(tokens, Object.keys(ctx.values), FUNC_INFOS).parse();
  return new Evaluator(tree, contextData(ctx.values), funcs).evaluate();
}

/** TemplateReader.ParseScalar: split a parsed YAML string into literal and ${{ }} segments. */
export function splitTemplate(raw) {
  const segs = [];
  let i = 0;
  let start = raw.indexOf("${{");
  while (i < raw.length) {
    if (i === start) {
      let end = -1;
      let inString = false;
      for (i += 3; i < raw.length; i++) {
        if (raw[i] === "'") inString = !inString;
        else if (!inString && raw[i] === "}" && raw[i - 1] === "}") {
          end = i++;
          break;
        }
      }
      if (end < start)
        throw new Error("The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found.");
      segs.push({ expr: raw.slice(start + 3, end - 1).trim() });
      start = raw.indexOf("${{", i);
    } else if (start >= 0 && i < start) {
      segs.push({ lit: raw.slice(i, start) });
      i = start;
    } else {
      segs.push({ lit: raw.slice(i) });
      break;
    }
  }
  return segs;
}

/**
 * A YAML scalar as the runner turns it into a string: numbers via C# ToString("G15")
 * (`1.20` → "1.2", 1e16 → "1E+16"), booleans lower-case, null → "".
 */
export function scalarToString(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return g15(v);
  if (typeof v === "bigint") return g15(Number(v));
  return String(v);
}

function g15(n) {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n === 0) return "0";
  // .NET "G15": fixed-point when -5 < exponent < 15, else d.dddE+XX (at least two exponent digits)
  const p = Number(n.toPrecision(15));
  const [mant, e] = p.toExponential(14).split("e");
  const exp = Number(e);
  if (exp >= 15 || exp <= -5) {
    const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
    return `${m}E${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(p);
}

/** Evaluates a string-typed template value; undefined stays undefined. */
export function evalStr(v, ctx) {
  if (v === undefined) return undefined;
  if (v !== null && typeof v === "object") throw new Error("A mapping or sequence was not expected here");
  if (typeof v !== "string") return scalarToString(v);
  const segs = splitTemplate(v);
  if (segs.length === 1 && segs[0].expr !== undefined) {
    const r = evalExpr(segs[0].expr, ctx);
    if (!r.primitive) throw new Error(`Unexpected value '${r.coerceString()}' for '${segs[0].expr}': a string was expected`);
    return r.coerceString();
  }
  return segs.map((s) => (s.lit !== undefined ? s.lit : evalExpr(s.expr, ctx).coerceString())).join("");
}

/** Evaluates every value of a mapping (with:, env:) to a string. */
export function evalMap(m, ctx) {
  if (m === undefined || m === null) return {};
  if (typeof m !== "object" || Array.isArray(m)) throw new Error("A mapping was expected");
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, evalStr(v, ctx) ?? ""]));
}

/** A boolean-typed template value (continue-on-error). */
export function evalBool(v, ctx) {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v !== "string") return truthy(toData(v));
  const segs = splitTemplate(v);
  if (segs.length === 1 && segs[0].expr !== undefined) {
    const r = evalExpr(segs[0].expr, ctx);
    return r.kind === data.Kind.Boolean ? r.value : r.coerceString() === "true";
  }
  return v === "true";
}

/**
 * PipelineTemplateConverter.ConvertToIfCondition: the condition text to evaluate.
 * Empty → success(); without a status function → `success() && (cond)`; a value that mixes
 * text and ${{ }} becomes a format() call (a non-empty string: truthy).
 */
export function ifCondition(v) {
  if (v === undefined || v === null) return "success()";
  const segs = typeof v === "string" ? splitTemplate(v) : [{ lit: scalarToString(v) }];
  let cond;
  if (segs.length === 0) return "success()";
  if (segs.length === 1) cond = segs[0].expr ?? segs[0].lit;
  else {
    let n = 0;
    const fmt = segs
      .map((s) => (s.lit === undefined ? `{${n++}}` : s.lit.replaceAll("'", "''").replaceAll("{", "{{").replaceAll("}", "}}")))
      .join("");
    cond = `format('${fmt}'${segs
      .filter((s) => s.expr !== undefined)
      .map((s) => ", " + s.expr)
      .join("")})`;
  }
  return cond.trim() ? ensureStatusFunction(cond, IF_DEF) : "success()";
}
