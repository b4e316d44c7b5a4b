// Text and number formatting for the HTML report: escaping for user-supplied labels, and number formats
// that do not depend on the machine's locale, so a report renders byte-for-byte the same everywhere.

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Safe in element text and in quoted attribute values, of HTML and of inline SVG alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Placeholder for values that cannot be shown (no jobs, no lower bound). */
export const MISSING = '—';

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fixed decimals with thousands separators; `—` for NaN and infinities. */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return MISSING;
  // Avoid "-0.00" for tiny negatives that round to zero.
  const fixed = (Math.abs(value) < 0.5 * 10 ** -decimals ? 0 : value).toFixed(decimals);
  const negative = fixed.startsWith('-');
  const [whole = '', fraction] = (negative ? fixed.slice(1) : fixed).split('.');
  return `${negative ? '-' : ''}${groupThousands(whole)}${fraction === undefined ? '' : `.${fraction}`}`;
}

/** A fraction as a percentage: 0.271 → "27.1 %". */
export function formatPercent(fraction: number, decimals = 1): string {
  return Number.isFinite(fraction) ? `${formatNumber(fraction * 100, decimals)} %` : MISSING;
}

/** Three significant digits for axis ticks and bar labels (1.23, 45.6, 1,234). */
export function formatShort(value: number): string {
  if (!Number.isFinite(value)) return MISSING;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 100) return formatNumber(value, 0);
  if (magnitude >= 10) return formatNumber(value, 1);
  if (magnitude >= 1) return formatNumber(value, 2);
  return formatNumber(value, Math.min(6, 2 - Math.floor(Math.log10(magnitude))));
}

/** An SVG coordinate: one decimal is finer than a pixel and keeps the document small. */
export function coord(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
