// Validates rendered Kubernetes manifests offline, each object against the schema of its
// apiVersion and kind: the types and required fields with kubernetes-models (its generated
// validators), and unknown fields, which those validators let through, by walking each object
// along the same package's TypeScript declarations. Exits 1 naming every problem.
//
// Usage: node validate.mjs FILE.yaml...   (multi-document YAML, as kubectl kustomize prints)
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

const here = path.dirname(new URL(import.meta.url).pathname);

// "apps/v1" + "StatefulSet" -> "kubernetes-models/apps/v1/StatefulSet"
const modulePath = (apiVersion, kind) => `kubernetes-models/${apiVersion}/${kind}`;

const objects = [];
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const object = doc.toJS();
    if (object === null) continue;
    // kustomize wraps long base64 values over lines, which the API server's decoder skips.
    if (object.kind === "Secret" && object.data) {
      for (const k of Object.keys(object.data)) object.data[k] = object.data[k].replace(/\s/g, "");
    }
    objects.push({ file, object });
  }
}
if (objects.length === 0) {
  console.error("validate: no objects to validate");
  process.exit(1);
}

// One TypeScript program over the declarations of every kind in the files.
const kinds = [...new Set(objects.map(({ object }) => `${object.apiVersion} ${object.kind}`))];
const entry = path.join(here, "kinds.generated.ts");
const source = kinds
  .map((k, i) => {
    const [apiVersion, kind] = k.split(" ");
    return `import type { I${kind} as K${i} } from "${modulePath(apiVersion, kind)}";\nexport type T${i} = K${i};`;
  })
  .join("\n");
const host = ts.createCompilerHost({});
const readFile = host.readFile.bind(host);
const fileExists = host.fileExists.bind(host);
host.readFile = (f) => (path.resolve(f) === entry ? source : readFile(f));
host.fileExists = (f) => path.resolve(f) === entry || fileExists(f);
const program = ts.createProgram(
  [entry],
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, types: [] },
  host,
);
const checker = program.getTypeChecker();
const entryFile = program.getSourceFile(entry);
const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(entryFile));
const typeOf = (i) => checker.getDeclaredTypeOfSymbol(exported.find((s) => s.name === `T${i}`));

// Every key of `value` must be a property of `type`, down the whole object.
function unknownFields(value, type, at, problems) {
  type = checker.getNonNullableType(type);
  if (Array.isArray(value)) {
    const element = checker.isArrayType(type) ? checker.getTypeArguments(type)[0] : undefined;
    if (element) value.forEach((v, i) => unknownFields(v, element, `${at}[${i}]`, problems));
    return;
  }
  if (value === null || typeof value !== "object") return;
  const objectTypes = type.isUnion() ? type.types.filter((t) => t.getProperties().length > 0) : [type];
  if (objectTypes.length !== 1) return; // A map, or a type the walk cannot narrow.
  const [objectType] = objectTypes;
  const map = objectType.getStringIndexType();
  if (objectType.getProperties().length === 0) {
    if (map) for (const [k, v] of Object.entries(value)) unknownFields(v, map, `${at}.${k}`, problems);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const property = objectType.getProperty(key);
    if (!property) {
      problems.push(`${at}.${key}: unknown field`);
      continue;
    }
    unknownFields(v, checker.getTypeOfSymbol(property), `${at}.${key}`, problems);
  }
}

let failed = 0;
for (const { file, object } of objects) {
  const name = `${file}: ${object.kind}/${object.metadata?.name}`;
  const problems = [];
  const index = kinds.indexOf(`${object.apiVersion} ${object.kind}`);
  let Model;
  try {
    Model = (await import(modulePath(object.apiVersion, object.kind)))[object.kind];
  } catch {
    problems.push(`no schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
  }
  if (Model) {
    try {
      new Model(object).validate();
    } catch (e) {
      problems.push(e.message);
    }
    unknownFields(object, typeOf(index), "", problems);
  }
  if (problems.length > 0) {
    failed++;
    console.error(`FAIL ${name}\n  ${problems.join("\n  ")}`);
  } else {
    console.log(`ok   ${name}`);
  }
}
console.log(`${objects.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
