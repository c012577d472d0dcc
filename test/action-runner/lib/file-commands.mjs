// $GITHUB_OUTPUT / $GITHUB_ENV / $GITHUB_STATE file format (runner FileCommandManager.cs,
// EnvFileKeyValuePairs) and `::command::` workflow commands on a step's output
// (ActionCommand.TryParseV2 / ActionCommandManager).

/**
 * Parses a $GITHUB_OUTPUT/$GITHUB_ENV/$GITHUB_STATE file: `NAME=VALUE` lines and
 * `NAME<<DELIM` heredocs, whichever of `=` and `<<` comes first on the line. Empty lines are
 * skipped. Returns [[name, value], ...] in file order. Throws the runner's messages on bad input.
 */
export function parseEnvFile(text) {
  const out = [];
  let i = 0;
  const readLine = () => {
    if (i >= text.length) return [null, null];
    const lf = text.indexOf("\n", i);
    if (lf < 0) {
      const l = text.slice(i);
      i = text.length;
      return [l, null];
    }
    const l = text.slice(i, lf);
    i = lf + 1;
    return [l, "\n"];
  };
  for (let [line] = readLine(); line !== null; [line] = readLine()) {
    if (!line) continue;
    const eq = line.indexOf("=");
    const hd = line.indexOf("<<");
    if (eq >= 0 && (hd < 0 || eq < hd)) {
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
      continue;
    }
    if (hd < 0) throw new Error(`Invalid format '${line}'`);
    const key = line.slice(0, hd);
    const delim = line.slice(hd + 2);
    if (!key || !delim) throw new Error(`Invalid format '${line}'. Name must not be empty and delimiter must not be empty`);
    const start = i;
    let end = i;
    let [t, nl] = readLine();
    while (t !== delim) {
      if (t === null) throw new Error(`Invalid value. Matching delimiter not found '${delim}'`);
      if (nl === null) throw new Error("Invalid value. EOF marker missing new line.");
      end = i - nl.length;
      [t, nl] = readLine();
    }
    out.push([key, end > start ? text.slice(start, end) : ""]);
  }
  return out;
}

/** Serialises name/value pairs in the heredoc form @actions/core uses. */
export function formatEnvFile(pairs, delim = "ghadelimiter_harness") {
  return Object.entries(pairs)
    .map(([k, v]) => `${k}<<${delim}\n${v}\n${delim}\n`)
    .join("");
}

const COMMANDS = new Set([
  "add-mask", "add-matcher", "remove-matcher", "debug", "notice", "warning", "error", "group",
  "endgroup", "echo", "stop-commands", "save-state", "set-output", "set-env", "add-path",
]);
const unescapeData = (s) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
const unescapeProperty = (s) => unescapeData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));

/**
 * Finds `::name k=v,k2=v2::message` workflow commands in a step's combined output, honouring
 * `::stop-commands::TOKEN` … `::TOKEN::`. Returns [{command, properties, message}].
 */
export function parseWorkflowCommands(text) {
  const out = [];
  let stopToken = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (!line.startsWith("::")) continue;
    const end = line.indexOf("::", 2);
    if (end < 0) continue;
    const info = line.slice(2, end);
    if (stopToken !== null) {
      if (info === stopToken) stopToken = null;
      continue;
    }
    const sp = info.indexOf(" ");
    const command = sp < 0 ? info : info.slice(0, sp);
    if (!COMMANDS.has(command)) continue;
    const properties = {};
    if (sp > 0) {
      for (const p of info.slice(sp + 1).trim().split(",").filter(Boolean)) {
        const eq = p.indexOf("=");
        if (eq > 0 && eq < p.length - 1) properties[p.slice(0, eq)] = unescapeProperty(p.slice(eq + 1));
      }
    }
    const message = unescapeData(line.slice(end + 2));
    if (command === "stop-commands") {
      stopToken = message;
      continue;
    }
    out.push({ command, properties, message });
  }
  return out;
}
