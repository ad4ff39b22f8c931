// Reads a Parquet file with an independent reader and prints what it read, for the parquet
// round-trip test (tests/integration/parquet). Usage:
//   node read.mjs duckdb FILE      rows through DuckDB (@duckdb/node-api)
//   node read.mjs hyparquet FILE   rows through hyparquet (pure JavaScript; its ZSTD from
//                                  hyparquet-compressors, its own SNAPPY)
//   node read.mjs metadata FILE    DuckDB's parquet_metadata() rows, one JSON array
//   node read.mjs sql QUERY        a DuckDB query's rows (read_parquet over a glob, say), one
//                                  JSON object a line
// Rows are NDJSON: a first line {"columns":[{"name","type"}...]}, then one array a row, then
// {"rows":N}. Cells are canonical so both readers print the same text for the same value:
// null, true/false, "s:<text>", "i:<integer>" (64-bit), "f:<hex of the IEEE 754 bits>" (any
// JS number: INT32 and DOUBLE), "date:<days>", "ts:<microseconds>". A reader's error exits 1.
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { writeSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);
if (!mode || !file) {
  console.error('usage: node read.mjs duckdb|hyparquet|metadata FILE | sql QUERY');
  process.exit(2);
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function numberCell(v) {
  f64[0] = v;
  return 'f:' + u64[0].toString(16).padStart(16, '0');
}

function cell(v, kind) {
  if (v === null || v === undefined) return null;
  if (kind === 'date') return 'date:' + String(v.days ?? v);
  if (kind === 'ts') return 'ts:' + String(v.micros ?? v);
  switch (typeof v) {
    case 'boolean': return v;
    case 'bigint': return 'i:' + v.toString();
    case 'number': return numberCell(v);
    case 'string': return 's:' + v;
    default: throw new Error('unexpected value ' + String(v));
  }
}

// Output in big blocks: one write a line would make a million rows slow.
let pending = [];
function out(obj) {
  pending.push(JSON.stringify(obj));
  if (pending.length >= 10000) flush();
}
function flush() {
  if (pending.length) writeSync(1, pending.join('\n') + '\n');
  pending = [];
}

const quote = (name) => '"' + name.replaceAll('"', '""') + '"';

async function duckdb() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const describe = await connection.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($1)', [file]);
  const columns = describe.getRowObjectsJS().map((r) => ({ name: r.column_name, type: r.column_type }));
  // DATE and TIMESTAMP WITH TIME ZONE are read as numbers (days, microseconds): exact, and the
  // type DuckDB gave them is printed in the header for the test to check.
  const kinds = columns.map((c) => (c.type === 'DATE' ? 'date' : c.type.startsWith('TIMESTAMP') ? 'ts' : ''));
  const select = columns.map((c, i) => {
    const q = quote(c.name);
    if (kinds[i] === 'date') return `(${q} - DATE '1970-01-01')::BIGINT`;
    if (kinds[i] === 'ts') return `epoch_us(${q})`;
    return q;
  });
  out({ columns });
  const result = await connection.stream(`SELECT ${select.join(', ')} FROM read_parquet($1)`, [file]);
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunk.getRows()) {
      out(row.map((v, i) => cell(v, kinds[i])));
      ++n;
    }
  }
  out({ rows: n });
}

async function hyparquet() {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const leaves = metadata.schema.slice(1);
  const columns = leaves.map((e) => ({
    name: e.name,
    type: [e.type, e.converted_type, e.logical_type?.type].filter(Boolean).join('/'),
  }));
  const kinds = leaves.map((e) =>
    e.converted_type === 'DATE' ? 'date' : e.converted_type === 'TIMESTAMP_MICROS' ? 'ts' : '');
  out({ columns });
  // Keep dates and timestamps as the integers they are (the default parsers make lossy Dates).
  const parsers = { dateFromDays: (d) => d, timestampFromMicroseconds: (us) => us };
  let rows = [];
  await parquetRead({
    file: buffer,
    metadata,
    parsers,
    compressors: { ZSTD: compressors.ZSTD },
    onComplete: (r) => { rows = r; } });
  for (const row of rows) out(row.map((v, i) => cell(v, kinds[i])));
  out({ rows: rows.length });
}

async function metadata() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll('SELECT * FROM parquet_metadata($1)', [file]);
  out(reader.getRowObjectsJson());
}

async function sql() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(file);
  for (const row of reader.getRowObjectsJson()) out(row);
}

try {
  if (mode === 'duckdb') await duckdb();
  else if (mode === 'sql') await sql();
  else if (mode === 'hyparquet') await hyparquet();
  else if (mode === 'metadata') await metadata();
  else throw new Error('unknown mode ' + mode);
  flush();
} catch (e) {
  flush();
  console.error(`${mode}: ${e?.message ?? e}`);
  process.exit(1);
}
