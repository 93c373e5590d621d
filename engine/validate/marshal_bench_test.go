package validate

import (
	"bytes"
	"encoding/json"
	"testing"

	"provision/engine/importuser"
)

var marshalSink []byte

// BenchmarkMarshalUser compares the encoder marshalWithin used to call
// with AppendJSON, on a user as a typical export produces it.
func BenchmarkMarshalUser(b *testing.B) {
	yes := true
	u := &importuser.User{Email: "ana.silva@example.com", EmailVerified: &yes, UserID: "legacy-1042",
		Username: "ana.silva", GivenName: "Ana", FamilyName: "Silva", Name: "Ana Silva",
		PasswordHash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		AppMetadata:  json.RawMessage(`{"plan":"gold","legacy_id":1042,"roles":["admin","billing"]}`)}

	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(u); err != nil {
				b.Fatal(err)
			}
			_ = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, err := u.AppendJSON(make([]byte, 0, 512))
			if err != nil {
				b.Fatal(err)
			}
			marshalSink = doc // on the heap, as Result.JSON is
		}
	})
	b.Run("AppendJSON/reused", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = u.AppendJSON(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshalWithin", func(b *testing.B) {
		b.ReportAllocs()
		v := New(Options{MaxUserBytes: 500_000})
		for b.Loop() {
			var c checker
			if v.marshalWithin(&c, u, nil) == nil {
				b.Fatal(c.findings)
			}
		}
	})
}
