package source

import (
	"fmt"
	"io"
	"runtime"
	"testing"
)

// rowSource generates a source of n records on the fly, so that the test
// itself holds no file in memory.
type rowSource struct {
	head, sep, tail string
	row             func(i int) string
	n, i            int
	pending         []byte
}

func (s *rowSource) Read(p []byte) (int, error) {
	for len(s.pending) < len(p) && s.i <= s.n+1 {
		switch {
		case s.i == 0:
			s.pending = append(s.pending, s.head...)
		case s.i <= s.n:
			if s.i > 1 {
				s.pending = append(s.pending, s.sep...)
			}
			s.pending = append(s.pending, s.row(s.i)...)
		default:
			s.pending = append(s.pending, s.tail...)
		}
		s.i++
	}
	if len(s.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.pending)
	s.pending = s.pending[:copy(s.pending, s.pending[n:])]
	return n, nil
}

// Memory must not grow with the size of the source: the heap after reading
// many rows is the heap after reading a few, give or take.
func TestMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100,000 rows per format")
	}
	const rows = 100_000
	sources := map[string]func() *rowSource{
		"u.csv": func() *rowSource {
			return &rowSource{head: "email,name,note\n", row: func(i int) string {
				return fmt.Sprintf("user%d@x.com,\"Name, %d\",x\n", i, i)
			}}
		},
		"u.ndjson": func() *rowSource {
			return &rowSource{row: func(i int) string {
				return fmt.Sprintf("{\"email\":\"user%d@x.com\",\"k%d\":1,\"app_metadata\":{\"n\":%d}}\n", i, i%100, i)
			}}
		},
		"u.json": func() *rowSource {
			return &rowSource{head: "[\n", sep: ",\n", tail: "\n]\n", row: func(i int) string {
				return fmt.Sprintf("  {\n    \"email\": \"user%d@x.com\",\n    \"app_metadata\": { \"n\": %d }\n  }", i, i)
			}}
		},
	}
	for name, newSource := range sources {
		t.Run(name, func(t *testing.T) {
			src := newSource()
			src.n = rows
			r, err := NewReader(src, name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var early uint64
			for i := 1; ; i++ {
				row, err := r.Next()
				if err == io.EOF {
					if i-1 != rows {
						t.Fatalf("read %d rows, want %d", i-1, rows)
					}
					break
				}
				if err != nil || row.Broken != nil {
					t.Fatalf("row %d: %v %v", i, err, row.Broken)
				}
				if i == 10_000 {
					early = heapInUse()
				}
			}
			late := heapInUse()
			if late > early+1<<20 {
				t.Errorf("heap grew from %d to %d bytes reading %d rows", early, late, rows)
			}
			if len(r.Unknown()) > 100 {
				t.Errorf("%d unknown columns, want at most 100", len(r.Unknown()))
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
