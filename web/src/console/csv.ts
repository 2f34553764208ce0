// CSV for the console's exports: the corrections log straight from the server (?format=csv) and
// the race director's lists (overdue runners, the sweep) built in the page. RFC 4180: fields with
// a comma, quote or line break are quoted, quotes doubled, lines end in CRLF.

export type CsvValue = string | number | boolean | null | undefined;

// Text a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1+1", "@SUM"): kept as text
// with a leading apostrophe. A plain negative number ("-12", "-0.5") is left alone.
const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?$/;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : String(value);
  if (typeof value === "string" && FORMULA.test(text) && !NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export interface CorrectionFilters {
  by?: string;
  kind?: string;
  bib?: string;
  limit?: number;
}

// The corrections log's URL with its filters (empty ones left out) and, for the export,
// format=csv: "/api/v1/admin/corrections?by=Ri+Chol&kind=void_reads&format=csv".
export function correctionsPath(filters: CorrectionFilters, format: "json" | "csv" = "json"): string {
  const params = new URLSearchParams();
  for (const key of ["by", "kind", "bib"] as const) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  if (filters.limit !== undefined && Number.isInteger(filters.limit) && filters.limit > 0)
    params.set("limit", String(filters.limit));
  if (format === "csv") params.set("format", "csv");
  const query = params.toString();
  return `/api/v1/admin/corrections${query ? `?${query}` : ""}`;
}

// "overdue-0842.csv": what the list is and the event-local time it was taken.
export function csvFileName(what: string, clock: string): string {
  const safe = what.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "export";
  const time = clock.replace(/[^0-9]/g, "").slice(0, 4);
  return time ? `${safe}-${time}.csv` : `${safe}.csv`;
}
