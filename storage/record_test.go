package storage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUserRecordRoundTrip(t *testing.T) {
	tests := []userRecord{
		{row: 1, line: 2, state: UserPending, email: "a@example.com"},
		{row: 1 << 40, line: 1 << 30, stage: 1<<31 - 1, chunk: 1 << 50, state: UserRolledBack, email: "ü@exämple.com",
			userID: "auth0|abc", errCode: "CONFLICT", errMsg: strings.Repeat("x", 900)},
		{row: 3, state: UserQuarantined}, // no email at all
	}
	for _, rec := range tests {
		got, err := decodeUserRecord(rec.row, rec.appendBinary(nil))
		if err != nil {
			t.Fatalf("decode %+v: %v", rec, err)
		}
		if got != rec {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, rec)
		}
		enc := rec.appendBinary(nil)
		if len(enc) > rec.maxEncodedLen() {
			t.Errorf("encoded %d bytes, over the bound %d", len(enc), rec.maxEncodedLen())
		}
		if peekUserState(enc) != rec.state {
			t.Errorf("peekUserState = %v, want %v", peekUserState(enc), rec.state)
		}
		if s, ok := peekUserStage(enc); !ok || s != rec.stage {
			t.Errorf("peekUserStage = %v %v, want %v", s, ok, rec.stage)
		}
	}
}

func TestDecodeUserRecordRejectsCorruption(t *testing.T) {
	good := (&userRecord{row: 9, line: 10, stage: 1, state: UserAssigned, email: "a@b.c"}).appendBinary(nil)
	tests := map[string][]byte{
		"empty":           nil,
		"unknown format":  append([]byte{9}, good[1:]...),
		"invalid state":   append([]byte{good[0], 0}, good[2:]...),
		"truncated":       good[:len(good)-2],
		"trailing bytes":  append(slices.Clone(good), 0),
		"string too long": append(slices.Clone(good[:len(good)-4]), 0x7f),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeUserRecord(9, b)
			if !errors.Is(err, errCorruptRecord) || !strings.Contains(err.Error(), "user row 9") {
				t.Errorf("got %v, want a corrupt-record error naming row 9", err)
			}
		})
	}
}

func FuzzDecodeUserRecord(f *testing.F) {
	f.Add((&userRecord{row: 1, line: 2, stage: 3, chunk: 4, state: UserFailed, email: "a@b", errCode: "X"}).appendBinary(nil))
	f.Add([]byte{1, 1, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeUserRecord(5, b)
		if err != nil {
			return
		}
		again, err := decodeUserRecord(5, rec.appendBinary(nil))
		if err != nil || again != rec {
			t.Fatalf("re-encoding %+v gave %+v, %v", rec, again, err)
		}
	})
}

func TestPackRows(t *testing.T) {
	tests := [][]RowID{
		{1},
		{1, 2, 3, 4},
		{10, 3, 1 << 50, 7}, // not sorted: deltas go negative
	}
	for _, rows := range tests {
		got, err := unpackRows(packRows(rows))
		if err != nil || !slices.Equal(got, rows) {
			t.Errorf("unpack(pack(%v)) = %v, %v", rows, got, err)
		}
	}
	consecutive := rowRange(1_000_001, 1_001_000)
	if n := len(packRows(consecutive)); n > 1010 {
		t.Errorf("1,000 consecutive rows pack into %d bytes; want about 1,000", n)
	}
	if _, err := unpackRows([]byte{5, 1}); err == nil {
		t.Error("a truncated member list must be refused")
	}
}

func TestTruncateMessageKeepsUTF8(t *testing.T) {
	long := strings.Repeat("é", maxMessageLen) // 2 bytes each
	got := truncateMessage(long)
	if !utf8.ValidString(got) || len(got) > maxMessageLen+len("…") {
		t.Errorf("truncated to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if truncateMessage("short") != "short" {
		t.Error("short messages must be kept whole")
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := map[string]string{
		" Alice@Example.COM ": "alice@example.com",
		"bob@example.com":     "bob@example.com",
		"":                    "",
	}
	for in, want := range tests {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
