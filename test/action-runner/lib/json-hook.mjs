// Works around actions/languageservices#387: @actions/workflow-parser 0.3.61's dist imports its
// schema JSON without `with {type: "json"}`, which plain Node ESM rejects
// (ERR_IMPORT_ATTRIBUTE_MISSING). This loader hook adds the attribute to every .json import.
// It must be registered before the first (dynamic) import of @actions/workflow-parser.
import { register } from "node:module";

if (!globalThis.__actionRunnerJsonHook) {
  globalThis.__actionRunnerJsonHook = true;
  register(
    "data:text/javascript," +
      encodeURIComponent(`
    export async function load(url, context, next) {
      if (url.endsWith(".json")) {
        return next(url, { ...context, importAttributes: { ...(context.importAttributes || {}), type: "json" } });
      }
      return next(url, context);
    }`),
  );
}
