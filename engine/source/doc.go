// Package source streams user records out of legacy exports (CSV, JSON array,
// NDJSON, Auth0 user exports) and maps their columns onto Auth0 import
// fields. Memory stays flat whatever the file size: one record at a time.
//
// Open or NewReader detect the format from the file's extension and first
// bytes (an Auth0 export is NDJSON even when named .json), and for CSV the
// delimiter from the header line. Input may be gzipped (Auth0 delivers its
// exports as .json.gz); text may start with a byte order mark and may be
// UTF-16; CSV lines may end in LF, CRLF or a bare CR.
//
// Columns (CSV) and keys (JSON) map onto Auth0's import fields by name,
// ignoring case and surrounding space, or through an explicit mapping
// (ParseMapping, from --map COLUMN=FIELD). Columns that map to nothing are
// reported once each by Reader.Unknown.
//
// A record that cannot be read as a record (a wrong field count, broken
// quoting, malformed JSON) comes back as a Row with Broken set to a
// *RecordError saying what is wrong and how to fix it, and reading goes on
// with the next record. Care is taken that one bad record costs one row: an
// unclosed CSV quote or JSON brace does not swallow the rows after it.
package source
