#!/usr/bin/env node
// Parses and binds KQL with the official Kusto language service (@kusto/language-service-next, the
// bridge.net build of Kusto.Language) against the schema that the KQL scripts themselves declare.
//
// usage: node kql-check.mjs --schema <dir|file>... [--script <dir|file>...] [--text <dir|file>...]
//   --schema  KQL scripts that declare the database (tables, materialized views, functions); also checked.
//   --script  more KQL scripts to check: commands separated by blank lines, like `.execute database script`.
//   --text    KQL texts to check whole, one query or command per file (what the app sends at run time).
// Directories are searched recursively for *.kql (bin, obj and node_modules skipped).
// Prints one JSON object: { database, tables, materializedViews, functions, checked, diagnostics }.
// Exit code: 0 when no diagnostic is an error, 1 when one is, 2 on bad usage or unreadable input.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const require = createRequire(import.meta.url);
// The bridge files define the globals Bridge, System and Kusto; they are not modules.
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
const K = globalThis.Kusto.Language;
const S = K.Symbols;

const DatabaseName = 'clicks';

function parseArgs(argv) {
  const sets = { schema: [], script: [], text: [] };
  let current = null;
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      current = arg.slice(2);
      if (!(current in sets)) usage(`unknown option ${arg}`);
    } else if (current === null) {
      usage(`path ${arg} given before any option`);
    } else {
      sets[current].push(arg);
    }
  }
  if (sets.schema.length === 0) usage('at least one --schema path is required');
  return sets;
}

function usage(message) {
  process.stderr.write(`kql-check: ${message}\n`);
  process.exit(2);
}

function kqlFiles(path) {
  const full = resolve(path);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    return []; // a folder that does not exist yet holds no KQL
  }
  if (stat.isFile()) return [full];
  const found = [];
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (['bin', 'obj', 'node_modules', '.git'].includes(entry.name)) continue;
      found.push(...kqlFiles(join(full, entry.name)));
    } else if (entry.name.endsWith('.kql')) {
      found.push(join(full, entry.name));
    }
  }
  return found.sort();
}

// Splits a script into commands at blank lines, as Kusto tools and `.execute database script` do.
// Blocks that hold only comments are dropped.
function splitBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  let start = -1;
  let offset = 0;
  let blockOffset = 0;
  const flush = (endLine) => {
    if (start < 0) return;
    const body = lines.slice(start, endLine).join('\n');
    if (body.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('//'))) {
      blocks.push({ text: body, offset: blockOffset });
    }
    start = -1;
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') {
      flush(i);
    } else if (start < 0) {
      start = i;
      blockOffset = offset;
    }
    offset += line.length + 1;
  });
  flush(lines.length);
  return blocks;
}

function withoutComments(text) {
  return text
    .split('\n')
    .filter((l) => !l.trim().startsWith('//'))
    .join('\n')
    .trim();
}

const withClause = String.raw`(?:with\s*\((?:[^()'"]|'[^']*'|"[^"]*")*\)\s*)?`;
const tableDecl = /^\.create(?:-merge)?\s+table\s+(\w+)\s*\(([^)]*)\)/i;
const functionDecl = new RegExp(
  String.raw`^\.create(?:-or-alter)?\s+function\s+(?:ifnotexists\s+)?${withClause}(\w+)\s*(\((?:[^()]|\([^()]*\))*\))\s*(\{[\s\S]*\})\s*$`,
  'i');
const viewDecl = new RegExp(
  String.raw`^\.create(?:-or-alter)?\s+(?:async\s+)?(?:ifnotexists\s+)?materialized-view\s+${withClause}(\w+)\s+on\s+(?:table|materialized-view)\s+(\w+)\s*\{([\s\S]*)\}\s*$`,
  'i');
const mappingDecl = /^\.create(?:-or-alter)?\s+table\s+(\w+)\s+ingestion\s+json\s+mapping\s+("[^"]*"|'[^']*')\s+'([\s\S]*)'\s*$/i;
const rlsDecl = /^\.alter\s+(table|materialized-view)\s+(\w+)\s+policy\s+row_level_security\s+enable\s+(?:with\s*\([^)]*\)\s*)?"((?:[^"\\]|\\.)*)"\s*$/i;

function toArray(list) {
  const items = [];
  for (let i = 0; i < list.Count; i++) items.push(list.getItem(i));
  return items;
}

function columnsOf(table) {
  return toArray(table.Columns).map((c) => `${c.Name}:${c.Type.Name}`);
}

// Builds the database symbol from the declarations in the schema scripts.
function buildSchema(blocks) {
  const tables = new Map(); // name -> array of "name:type"
  const functions = new Map(); // name -> { parameters, body }
  const views = new Map(); // name -> { query, columns }
  const problems = [];

  for (const block of blocks) {
    const text = withoutComments(block.text);
    let m;
    if ((m = tableDecl.exec(text))) {
      const declared = m[2].split(',').map((c) => c.trim().replace(/\s*:\s*/, ':')).filter((c) => c);
      const existing = tables.get(m[1]) ?? [];
      const names = new Set(existing.map((c) => c.split(':')[0]));
      tables.set(m[1], [...existing, ...declared.filter((c) => !names.has(c.split(':')[0]))]);
    } else if ((m = functionDecl.exec(text))) {
      functions.set(m[1], { parameters: m[2], body: m[3] });
    } else if ((m = viewDecl.exec(text))) {
      views.set(m[1], { query: m[3].trim(), columns: null, block });
    }
  }

  const database = () => {
    const members = [];
    for (const [name, cols] of tables) members.push(new S.TableSymbol.$ctor7(name, `(${cols.join(', ')})`, null));
    for (const [name, v] of views) {
      if (v.columns) members.push(new S.MaterializedViewSymbol.$ctor3(name, `(${v.columns.join(', ')})`, v.query, null));
    }
    for (const [name, f] of functions) members.push(new S.FunctionSymbol.$ctor16(name, f.parameters, f.body, null));
    return new S.DatabaseSymbol.$ctor2(DatabaseName, null, members);
  };

  // A view's columns are the result of its query, which may read other views: resolve until nothing changes.
  let progress = true;
  while (progress) {
    progress = false;
    for (const v of views.values()) {
      if (v.columns) continue;
      const globals = K.GlobalState.Default.WithDatabase(database());
      const code = K.KustoCode.ParseAndAnalyze(v.query, globals);
      const errors = toArray(code.GetDiagnostics()).filter((d) => d.Severity === 'Error');
      if (errors.length === 0 && code.ResultType && code.ResultType.Columns) {
        v.columns = columnsOf(code.ResultType);
        progress = true;
      }
    }
  }
  for (const [name, v] of views) {
    if (!v.columns) problems.push({ name, message: `the query of materialized view '${name}' does not bind, so its columns are unknown` });
  }

  return { globals: K.GlobalState.Default.WithDatabase(database()), tables, views, functions, problems };
}

function lineAndColumn(text, position) {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return { line, column };
}

function check(file, fileText, block, schema, root) {
  const found = [];
  const report = (severity, code, message, position) => {
    const at = lineAndColumn(fileText, block.offset + position);
    found.push({ file: relative(root, file), line: at.line, column: at.column, severity, code, message });
  };

  const code = K.KustoCode.ParseAndAnalyze(block.text, schema.globals);
  for (const d of toArray(code.GetDiagnostics())) report(d.Severity, d.Code, d.Message, d.Start);

  // The language service treats these payloads as plain strings; bind them as well.
  const text = withoutComments(block.text);
  const start = block.text.indexOf(text);
  let m;
  if ((m = rlsDecl.exec(text))) {
    const query = m[3].replace(/\\(.)/g, '$1');
    const rls = K.KustoCode.ParseAndAnalyze(query, schema.globals);
    for (const d of toArray(rls.GetDiagnostics())) {
      report(d.Severity, d.Code, `row_level_security query of ${m[2]}: ${d.Message}`, start + text.indexOf(m[3]));
    }
    if (rls.ResultType && !rls.ResultType.Columns) {
      report('Error', 'RLS001', `row_level_security query of ${m[2]} must return a table`, start);
    }
  }
  if ((m = mappingDecl.exec(text))) {
    const columns = new Set((schema.tables.get(m[1]) ?? []).map((c) => c.split(':')[0]));
    try {
      for (const entry of JSON.parse(m[3])) {
        if (!columns.has(entry.column)) {
          report('Error', 'MAP001', `ingestion mapping ${m[2]} names column '${entry.column}', which table ${m[1]} does not have`, start);
        }
      }
    } catch (e) {
      report('Error', 'MAP002', `ingestion mapping ${m[2]} is not valid JSON: ${e.message}`, start);
    }
  }
  return found;
}

const args = parseArgs(process.argv.slice(2));
const root = process.cwd();
const read = (file) => readFileSync(file, 'utf8').replace(/\r\n/g, '\n');

const schemaFiles = args.schema.flatMap(kqlFiles);
if (schemaFiles.length === 0) usage(`no .kql files under ${args.schema.join(', ')}`);
const scripts = [...new Set([...schemaFiles, ...args.script.flatMap(kqlFiles)])];
const texts = args.text.flatMap(kqlFiles).filter((f) => !scripts.includes(f));

const schema = buildSchema(schemaFiles.flatMap((f) => splitBlocks(read(f))));
const diagnostics = schema.problems.map((p) => ({ file: null, line: 0, column: 0, severity: 'Error', code: 'SCHEMA', message: p.message }));
const checked = [];
for (const file of scripts) {
  const text = read(file);
  const blocks = splitBlocks(text);
  checked.push({ file: relative(root, file), kind: 'script', blocks: blocks.length });
  for (const block of blocks) diagnostics.push(...check(file, text, block, schema, root));
}
for (const file of texts) {
  const text = read(file);
  checked.push({ file: relative(root, file), kind: 'text', blocks: 1 });
  diagnostics.push(...check(file, text, { text, offset: 0 }, schema, root));
}

process.stdout.write(JSON.stringify({
  database: DatabaseName,
  tables: Object.fromEntries(schema.tables),
  materializedViews: Object.fromEntries([...schema.views].map(([n, v]) => [n, v.columns])),
  functions: [...schema.functions.keys()],
  checked,
  diagnostics,
}, null, 2) + '\n');
process.exit(diagnostics.some((d) => d.Severity === 'Error' || d.severity === 'Error') ? 1 : 0);
