import assert from "node:assert/strict";
import { test } from "node:test";
import { correctionsPath, csvCell, csvFileName, toCsv } from "../src/console/csv";

test("CSV cells: quoted when they hold a comma, quote or line break; formulas kept as text", () => {
  assert.equal(csvCell("plain"), "plain");
  assert.equal(csvCell("Kim, Il"), '"Kim, Il"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell("line\nbreak"), '"line\nbreak"');
  assert.equal(csvCell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  assert.equal(csvCell("@SUM"), "'@SUM");
  assert.equal(csvCell("-x"), "'-x");
  assert.equal(csvCell("-12"), "-12", "a negative number stays a number");
  assert.equal(csvCell(12), "12");
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(undefined), "");
});

test("a CSV file: header first, CRLF line ends", () => {
  assert.equal(toCsv(["bib", "name"], [["1", "Kim, Il"], ["2", null]]), 'bib,name\r\n1,"Kim, Il"\r\n2,\r\n');
});

test("the corrections log's export URL keeps its filters, trimmed, empty ones left out", () => {
  assert.equal(
    correctionsPath({ by: " Ri Chol ", kind: "void_reads", bib: "" }, "csv"),
    "/api/v1/admin/corrections?by=Ri+Chol&kind=void_reads&format=csv",
  );
  assert.equal(correctionsPath({}), "/api/v1/admin/corrections");
  assert.equal(correctionsPath({ bib: "3001", limit: 500 }), "/api/v1/admin/corrections?bib=3001&limit=500");
  assert.equal(correctionsPath({ by: "a&b=c" }, "csv"), "/api/v1/admin/corrections?by=a%26b%3Dc&format=csv");
});

test("export file names", () => {
  assert.equal(csvFileName("overdue", "08:42:13"), "overdue-0842.csv");
  assert.equal(csvFileName("Sweep marathon l2-arch", ""), "sweep-marathon-l2-arch.csv");
});
