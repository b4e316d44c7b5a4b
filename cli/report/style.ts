// The report's stylesheet, inlined so the file is self-contained.
export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --best: #fff3cd; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .subtitle { margin: 0 0 8px; color: var(--muted); font-size: 16px; }
header .meta { margin: 4px 0; color: var(--muted); font-size: 13px; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eaeef2;
  padding: 2px 6px; border-radius: 4px; overflow-wrap: anywhere; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-top: 20px; }
section h2 { margin: 0 0 4px; font-size: 19px; }
p.caption { margin: 0 0 12px; color: var(--muted); font-size: 13px; }
p.note { margin: 10px 0 0; color: var(--muted); font-size: 13px; }
.table-wrap { overflow-x: auto; }
table.summary { border-collapse: collapse; width: 100%; font-size: 14px; }
table.summary th, table.summary td { padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.summary thead th { text-align: right; font-size: 12px; color: var(--muted); font-weight: 600; }
table.summary thead th:first-child, table.summary tbody th { text-align: left; }
table.summary td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary tbody th { font-weight: 600; min-width: 200px; }
table.summary tr.best { background: var(--best); }
table.summary tr.best td:nth-child(7) { font-weight: 700; }
.setup { font-weight: 400; font-size: 12px; color: var(--muted); }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; }
.badge { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 10px; background: #9a6700;
  color: #fff; font-size: 11px; font-weight: 600; vertical-align: 1px; }
div.chart-wrap { overflow-x: auto; }
svg.chart { min-width: 560px; display: block; width: 100%; height: auto; font-family: inherit; }
svg.chart text { font-size: 12px; fill: var(--ink); }
svg.chart .tick { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
svg.chart .axis-title { font-size: 12px; fill: var(--muted); }
svg.chart .panel-title { font-size: 13px; font-weight: 600; }
svg.chart .value { font-size: 11px; font-variant-numeric: tabular-nums; }
svg.chart .in-bar { font-size: 11px; pointer-events: none; }
svg.chart .in-bar.on-dark { fill: #fff; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
svg.chart .marker line { stroke: var(--ink); stroke-width: 2.5; }
svg.chart .segment rect { stroke: #fff; stroke-width: 1; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0 0; padding: 0;
  font-size: 13px; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
ul.legend svg.swatch { flex: none; }
p.empty { color: var(--muted); font-style: italic; }
@media print { body { background: #fff; } section { break-inside: avoid; border: none; padding: 0; } }
`;
