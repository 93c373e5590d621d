package source

import (
	"io"
	"strings"
	"testing"
)

func TestTape(t *testing.T) {
	tp := newTape(strings.NewReader("one\ntwo\nthree\nfour"), 1, 1<<10)
	buf := make([]byte, 6)
	read := func() string {
		t.Helper()
		n, err := tp.Read(buf)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "one\ntw" {
		t.Fatalf("Read = %q", got)
	}
	// Release "one\n": the kept text starts at line 2.
	tp.release(4)
	if tp.line != 2 || string(tp.kept(100)) != "tw" {
		t.Fatalf("after release: line %d kept %q", tp.line, tp.kept(100))
	}
	if got := read(); got != "o\nthre" {
		t.Fatalf("Read = %q", got)
	}
	if string(tp.kept(8)) != "two\n" {
		t.Fatalf("kept(8) = %q", tp.kept(8))
	}
	// Rewind serves the kept bytes again, then goes on with the source.
	tp.rewind()
	if got := read() + read() + read(); got != "two\nthree\nfour" {
		t.Fatalf("after rewind read %q", got)
	}
	if n, err := tp.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("at the end Read = %d, %v", n, err)
	}
}

func TestTapeLimitAndSkipLine(t *testing.T) {
	tp := newTape(strings.NewReader(strings.Repeat("x", 100)+"\nnext\n"), 1, 16)
	buf := make([]byte, 64)
	if n, err := tp.Read(buf); n != 16 || err != nil {
		t.Fatalf("Read = %d, %v; want the 16 bytes the limit allows", n, err)
	}
	if _, err := tp.Read(buf); err != errRecordTooLarge {
		t.Fatalf("Read past the limit: %v, want errRecordTooLarge", err)
	}
	if !tp.skipLine() {
		t.Fatal("skipLine found no line break")
	}
	n, _ := tp.Read(buf)
	if got := string(buf[:n]); got != "next\n" || tp.line != 2 {
		t.Fatalf("after skipLine: read %q at line %d", got, tp.line)
	}
	if tp.skipLine() {
		t.Fatal("skipLine at the end reported a line")
	}
}
