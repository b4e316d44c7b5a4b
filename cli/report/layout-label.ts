// Display names for layouts. The simulator keys layouts by compute sizes ("4+3"); readers know the
// instances by their profile prefix, so the report writes "4g+3g".

export function layoutLabel(key: string): string {
  if (key === '') return '(no instances)';
  return /^\d+(\+\d+)*$/.test(key)
    ? key
        .split('+')
        .map((n) => `${n}g`)
        .join('+')
    : key;
}
