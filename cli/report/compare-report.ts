// `renderCompareReport`: the HTML page of `smartmig compare --report`.
import type { CompareResult } from '../../policy/evaluate/compare.js';
import { escapeHtml } from './format.js';
import { REPORT_CSS } from './style.js';

export interface CompareReportOptions {
  readonly command: string;
  readonly describe: string;
}

export function renderCompareReport(result: CompareResult, opts: CompareReportOptions): string {
  const rows = result.rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.controller)}</td><td>${escapeHtml(r.placement)}</td><td>${r.et.mean.toFixed(3)} ± ${r.et.half.toFixed(3)}</td><td>${escapeHtml(r.found)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>smartmig compare</title><style>${REPORT_CSS}</style></head><body><header><h1>smartmig compare</h1><p class="subtitle">${escapeHtml(opts.describe)}</p><p class="meta">Command: <code>${escapeHtml(opts.command)}</code></p></header><table><thead><tr><th>controller</th><th>placement</th><th>ET</th><th>layouts</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}
