package validate

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"provision/engine/source"
)

// benchCSV is a realistic export: ten columns, a bcrypt hash on most rows.
func benchCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("email,email_verified,given_name,family_name,name,username,user_id,phone_number,password_hash,user_metadata\n")
	const hash = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	for i := 0; i < rows; i++ {
		h := hash
		if i%10 == 0 {
			h = ""
		}
		fmt.Fprintf(&b, "user%d@example.com,true,Given%d,Family,Given%d Family,user%d,legacy-%d,+1212555%04d,%s,\"{\"\"lang\"\":\"\"en\"\"}\"\n",
			i, i, i, i, i, i%10000, h)
	}
	return b.Bytes()
}

func BenchmarkRun(b *testing.B) {
	const rows = 100_000
	data := benchCSV(rows)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := source.NewReader(bytes.NewReader(data), "bench.csv", source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Run(context.Background(), r, RunOptions{File: "bench.csv", MaxFindings: 100})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Valid != rows {
			b.Fatalf("valid = %d, want %d: %v", rep.Valid, rows, rep.Findings)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCheck(b *testing.B) {
	row := source.Row{Line: 2, Email: "Ana.Lopez@example.com", EmailVerified: "true", GivenName: "Ana", Username: "ana",
		UserID: "legacy-1", PhoneNumber: "+12125550100", PasswordHash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		UserMetadata: `{"lang":"en"}`}
	v := New(Options{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		row.Line = i + 2
		row.Email = fmt.Sprint("u", i, "@example.com")
		row.Username = fmt.Sprint("u", i)
		row.UserID = row.Username
		if res := v.Check(row); res.Quarantined {
			b.Fatal(res.Findings)
		}
	}
}
