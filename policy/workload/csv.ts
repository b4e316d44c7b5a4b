// A small RFC 4180 reader for trace files: comma-separated, optional double quotes ("" escapes a quote),
// LF or CRLF line ends. Every record keeps the 1-based line it starts on so errors can point at it.

export interface CsvRecord {
  /** Line of the file the record starts on (1-based). */
  readonly line: number;
  readonly fields: readonly string[];
}

/** Stable codes for malformed input; the message says what and where. */
export type WorkloadErrorCode =
  | 'E_CSV_QUOTE'
  | 'E_CSV_HEADER'
  | 'E_CSV_COLUMNS'
  | 'E_CSV_NUMBER'
  | 'E_CSV_TIME_ORDER'
  | 'E_CSV_EMPTY'
  | 'E_WORKLOAD_OPTION';

export class WorkloadParseError extends Error {
  override readonly name = 'WorkloadParseError';
  constructor(
    readonly code: WorkloadErrorCode,
    /** 1-based line of the input, 0 when the problem is not on a line (an option). */
    readonly line: number,
    /** The message without the line prefix. */
    readonly detail: string,
  ) {
    super(line > 0 ? `line ${line}: ${detail}` : detail);
  }
}

/** Splits CSV text into records; blank lines are ignored. Throws WorkloadParseError on an unclosed quote. */
export function readCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let fieldStartedQuoted = false;
  const endField = () => {
    fields.push(field);
    field = '';
    fieldStartedQuoted = false;
  };
  const endRecord = () => {
    endField();
    // A record that is one empty unquoted field is a blank line.
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '' && !fieldStartedQuoted) {
      quoted = true;
      fieldStartedQuoted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) throw new WorkloadParseError('E_CSV_QUOTE', recordLine, 'a quoted field is never closed');
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
