package source

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/jszwec/csvutil"
)

// benchRows is the size of the generated benchmark export.
const benchRows = 100_000

var benchCSV = sync.OnceValue(func() []byte { return generateCSV(benchRows) })

// generateCSV builds a realistic legacy export: ten columns, a bcrypt hash,
// quoted names with the delimiter in them, and JSON metadata with doubled
// quotes.
func generateCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("email,email_verified,given_name,family_name,name,user_id,phone_number,password_hash,created,user_metadata\r\n")
	for i := range rows {
		fmt.Fprintf(&b, "user%d@example.com,%t,Given%d,Family%d,\"Family%d, Given%d\",%d,+1212555%04d,$2b$10$%053d,2021-03-%02dT10:00:00Z,\"{\"\"plan\"\":\"\"pro\"\",\"\"seats\"\":%d}\"\r\n",
			i, i%2 == 0, i, i, i, i, 100000+i, i%10000, i, 1+i%28, i%50)
	}
	return b.Bytes()
}

// BenchmarkCSV reads the generated export through Reader: the cost per row
// that validation pays for reading.
func BenchmarkCSV(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), "bench.csv", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Broken != nil {
				b.Fatal(err, row.Broken)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkBareEncodingCSV reads the same bytes with encoding/csv alone:
// the floor BenchmarkCSV is measured against.
func BenchmarkBareEncodingCSV(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		n := 0
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows+1 {
			b.Fatalf("read %d records, want %d", n, benchRows+1)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

// BenchmarkBareCSVUtil decodes the same bytes into Row with csvutil over
// encoding/csv and nothing else: what csvutil's reflection costs on its own.
func BenchmarkBareCSVUtil(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		dec, err := csvutil.NewDecoder(cr)
		if err != nil {
			b.Fatal(err)
		}
		var row Row
		n := 0
		for {
			if err := dec.Decode(&row); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

var benchUsers = sync.OnceValue(func() [][]byte {
	users := make([][]byte, benchRows)
	for i := range users {
		users[i] = fmt.Appendf(nil, `{"user_id":"auth0|%024x","email":"user%d@example.com","email_verified":%t,"given_name":"Given%d","family_name":"Family%d","name":"Given%d Family%d","created_at":"2021-03-04T10:00:00.000Z","logins_count":%d,"identities":[{"connection":"Username-Password-Authentication","provider":"auth0","isSocial":false}],"app_metadata":{"plan":"pro","seats":%d},"user_metadata":{"lang":"en"}}`,
			i, i, i%2 == 0, i, i, i, i, i%100, i%50)
	}
	return users
})

// BenchmarkNDJSON reads an Auth0-style NDJSON export.
func BenchmarkNDJSON(b *testing.B) {
	benchJSON(b, "bench.ndjson", append(bytes.Join(benchUsers(), []byte("\n")), '\n'))
}

// BenchmarkJSONArray reads the same users as a pretty-printed JSON array.
func BenchmarkJSONArray(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, u := range benchUsers() {
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.WriteString("  ")
		json.Indent(&buf, u, "  ", "  ")
	}
	buf.WriteString("\n]\n")
	benchJSON(b, "bench.json", buf.Bytes())
}

func benchJSON(b *testing.B, name string, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), name, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Broken != nil {
				b.Fatal(err, row.Broken)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}
