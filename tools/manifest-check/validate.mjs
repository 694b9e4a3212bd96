// Validate Teams app manifest and localization files with @microsoft/app-manifest's own validator.
//
// Why: tests/test_manifest.py validates with Python's jsonschema against a vendored copy of the
// schema; this runs Microsoft's validator (Ajv, draft-04 mode, the schema bundled in the package) on
// the same files, so a difference between the two validators cannot hide a broken package.
//
// package.json also pins fs-extra: @microsoft/app-manifest 1.1.2 requires it at run time but lists it
// only under devDependencies (the version pinned is the one in that devDependencies range).
//
// Every MicrosoftTeams.Localization.schema.json since v1.8 has two patternProperties that are not
// valid JavaScript regular expressions in Unicode mode ("activities.activityTypes\[\b(...)\b]", an
// unescaped "]"; MicrosoftDocs/msteams-docs#8858), so AppManifestUtils.validateAgainstSchema throws
// on any localization file. For those files only, this script retries with the same Ajv draft-04 setup
// (the package's own dependencies and options) but unicodeRegExp: false, and says so in "notes".
//
// Usage: node tools/manifest-check/validate.mjs FILE.json [FILE.json ...]
// Each file's "$schema" URL picks the schema. Only schemas bundled in the package are used: a URL
// the package does not bundle is an error here, never a network download.
// Prints {"results": {"<file>": [errors...]}, "notes": {"<file>": "..."}}; exit 0 if every file is
// valid, 1 if not, 2 on misuse.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const { AppManifestUtils } = require("@microsoft/app-manifest");
const packageRoot = path.dirname(require.resolve("@microsoft/app-manifest/package.json"));
const requireFromPackage = createRequire(path.join(packageRoot, "package.json"));

function loadBundledSchema(schemaFile) {
  // The same clean-up AppManifestUtils.fetchSchema applies to bundled schemas.
  const raw = readFileSync(schemaFile, "utf8");
  return JSON.parse(raw.replace(/\\a/g, "\\u0007").replace(/\\v/g, "\\u000b"));
}

function validateWithoutUnicodeRegExp(document, schema) {
  const Ajv = requireFromPackage("ajv-draft-04").default;
  const addFormats = requireFromPackage("ajv-formats").default;
  const ajv = new Ajv({ allErrors: true, strictTypes: false, unicodeRegExp: false });
  addFormats(ajv, ["uri", "email", "regex"]);
  const validate = ajv.compile(schema);
  if (validate(document)) return [];
  return validate.errors.map((e) => `${e.instancePath} ${e.message || ""}. Details: ${JSON.stringify(e.params)}`);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.json [FILE.json ...]");
  process.exit(2);
}

const results = {};
const notes = {};
let failed = false;
for (const file of files) {
  let errors;
  try {
    const document = JSON.parse(readFileSync(file, "utf8"));
    const suffix = document.$schema ? AppManifestUtils.getLocalSchemaSuffix(document.$schema) : undefined;
    const schemaFile = suffix ? path.join(packageRoot, "build", suffix) : undefined;
    if (!schemaFile || !existsSync(schemaFile)) {
      errors = [`$schema ${document.$schema ?? "(missing)"} is not bundled in @microsoft/app-manifest`];
    } else {
      try {
        errors = await AppManifestUtils.validateAgainstSchema(document);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!message.startsWith("Invalid regular expression") || !schemaFile.endsWith(".Localization.schema.json")) {
          throw error;
        }
        notes[file] = `validateAgainstSchema failed (${message}); validated with Ajv draft-04, unicodeRegExp: false`;
        errors = validateWithoutUnicodeRegExp(document, loadBundledSchema(schemaFile));
      }
    }
  } catch (error) {
    errors = [`cannot validate: ${error instanceof Error ? error.message : String(error)}`];
  }
  results[file] = errors;
  failed ||= errors.length > 0;
}
console.log(JSON.stringify({ results, notes }, null, 2));
process.exit(failed ? 1 : 0);
