// Turns bench medians into a terminal table, a Markdown report and an SVG chart.
const PEERS = ['idb-keyval', 'dexie', 'sqlite-wasm (opfs-sahpool)'];
const RAW = 'raw OPFS limit';
const DURABILITY = {
  'walden (strict)': 'strict: resolves after flush()',
  'walden (relaxed)': 'relaxed: after write(), flushed ≤ 50 ms',
  'walden (indexeddb)': "the IndexedDB fallback, strict: resolves after its 'strict' transaction",
  'raw OPFS limit': 'write() + flush() per commit',
  'idb-keyval': "IndexedDB default ('relaxed' in Chromium: no fsync)",
  dexie: "IndexedDB default ('relaxed' in Chromium: no fsync)",
  'sqlite-wasm (opfs-sahpool)': 'WAL, synchronous=FULL: fsync per commit',
};
const ROWS = [
  ['single', 'opsPerSec', 'durable single puts (2,000 awaited)', 'puts/s'],
  ['concurrent', 'opsPerSec', 'concurrent puts (64 writers, 20,000)', 'puts/s'],
  ['bulk', 'opsPerSec', 'bulk (100,000 in batches of 1,000)', 'puts/s'],
  ['reads', 'getsPerSec', 'point reads (10,000 random of 100,000)', 'gets/s'],
  ['reads', 'getManyMs', 'getMany(100)', 'ms'],
  ['reads', 'scanKeysPerSec', 'scan of 100,000 keys', 'keys/s'],
  ['large', 'mbPerSec', 'large values (200 × 256 KiB)', 'MB/s'],
  ['cold', 'ms', 'cold open to the first value (100,000 keys + 10 MB tail)', 'ms'],
  ['reopen', 'ms', 'first value after close() and reload (100,000 in a log never compacted)', 'ms'],
  ['reopen', 'engineOpenMs', "… of which the engine's open (recovery)", 'ms'],
  ['reopen', 'closeMs', 'the close() before that reload', 'ms'],
  ['reopen-unclosed', 'ms', 'first value after a reload without close() (the tab died)', 'ms'],
  ['reopen-unclosed', 'engineOpenMs', "… of which the engine's open (recovery: the log replayed)", 'ms'],
];

const fmt = (n) => (n === undefined || n === null || Number.isNaN(n) ? '–' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));

export function renderReport(result) {
  const m = result.medians;
  const systems = [...new Set(Object.values(m).flatMap((bySystem) => Object.keys(bySystem)))];
  const lowerIsBetter = (metric) => metric === 'ms' || metric === 'getManyMs' || metric === 'closeMs' || metric === 'engineOpenMs';
  const lines = [];
  const md = ['| workload | unit | ' + systems.join(' | ') + ' | walden ÷ raw | walden ÷ best peer |', '|' + ' --- |'.repeat(systems.length + 4)];
  for (const [workload, metric, label, unit] of ROWS) {
    const row = m[workload];
    if (!row) continue;
    const values = systems.map((s) => row[s]?.[metric]);
    const walden = row['walden (strict)']?.[metric];
    const rawValue = row[RAW]?.[metric];
    const peerValues = PEERS.map((p) => row[p]?.[metric]).filter((v) => v != null && !Number.isNaN(v));
    const best = peerValues.length === 0 ? undefined : lowerIsBetter(metric) ? Math.min(...peerValues) : Math.max(...peerValues);
    const ratio = (a, b) => (a == null || b == null || Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(lowerIsBetter(metric) ? b / a : a / b).toFixed(2)}×`);
    lines.push(`${label.slice(0, 58).padEnd(58)} ${values.map((v) => fmt(v).padStart(10)).join(' ')}   raw ${ratio(walden, rawValue)}  peer ${ratio(walden, best)}`);
    md.push(`| ${label} | ${unit} | ${values.map(fmt).join(' | ')} | ${ratio(walden, rawValue)} | ${ratio(walden, best)} |`);
  }
  const concurrent = m.concurrent?.['walden (strict)']?.opsPerSec;
  const single = m.single?.['walden (strict)']?.opsPerSec;
  const header = `${''.padEnd(58)} ${systems.map((s) => s.slice(0, 10).padStart(10)).join(' ')}`;
  const table = [header, ...lines, '', `group commit: concurrent ÷ single (walden strict) = ${concurrent && single ? (concurrent / single).toFixed(1) : '–'}×`].join('\n');
  const markdown = [
    `Measured ${result.when} (${result.runs} runs, medians), ${result.browser}, ${result.machine}. Ratios: higher is better (for ms rows, the inverse).`,
    '',
    ...md,
    '',
    `Group commit: concurrent ÷ single for walden (strict) = ${concurrent && single ? (concurrent / single).toFixed(1) : '–'}×.`,
    '',
    `Bundle (brotli): page ${(result.sizes.page.brotli / 1024).toFixed(1)} KiB (${result.sizes.page.files.join(' + ')}), worker ${(result.sizes.worker.brotli / 1024).toFixed(1)} KiB.`,
    '',
    'Durability of each row:',
    '',
    ...systems.map((s) => `- **${s}**: ${DURABILITY[s] ?? ''}`),
    '',
  ].join('\n');
  // The chart: writes per second (log scale) for the three write workloads.
  const chartRows = ROWS.filter(([w, metric]) => ['single', 'concurrent', 'bulk'].includes(w) && metric === 'opsPerSec');
  const colors = ['#2f6f4f', '#7fb89a', '#1d2a24', '#c9a227', '#a3402e', '#5470c6'];
  const width = 760;
  const barH = 14;
  const groupH = systems.length * barH + 26;
  const height = 40 + chartRows.length * groupH + 20 * Math.ceil(systems.length / 3);
  const x0 = 230;
  const scale = (v) => (v > 0 ? (Math.log10(v) / 7) * (width - x0 - 90) : 0); // log10 up to 10M
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>`;
  svg += `<text x="10" y="22" font-size="15" font-weight="600">Writes per second (log scale), median of ${result.runs} runs</text>`;
  chartRows.forEach(([workload, metric, label], g) => {
    const y = 40 + g * groupH;
    svg += `<text x="10" y="${y + 12}" font-weight="600">${label}</text>`;
    systems.forEach((system, i) => {
      const v = m[workload]?.[system]?.[metric];
      const by = y + 18 + i * barH;
      svg += `<text x="10" y="${by + 10}" fill="#444">${system}</text><rect x="${x0}" y="${by}" width="${scale(v).toFixed(1)}" height="${barH - 3}" fill="${colors[i % colors.length]}"/><text x="${x0 + scale(v) + 4}" y="${by + 10}">${fmt(v)}</text>`;
    });
  });
  svg += '</svg>';
  return { table, markdown, svg };
}
