package chunk

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"provision/engine/importuser"
)

// realisticUser makes a user of roughly 300–700 bytes as marshalled: a
// bcrypt hash, names, and metadata of varying size, like a legacy export.
func realisticUser(r *rand.Rand, i int) importuser.User {
	yes := true
	f, l := r.IntN(8), r.IntN(6)
	first := []string{"Ana", "Bartholomew", "Chen", "Dagny", "Émile", "Fatima", "Gustavo", "Hiroshi"}[f]
	last := []string{"Okafor", "Lindqvist", "Nakamura-Whitfield", "O'Brien", "Smith", "van der Berg"}[l]
	u := importuser.User{
		Email: fmt.Sprintf("%s.%s.%d@example.com",
			[]string{"ana", "bart", "chen", "dagny", "emile", "fatima", "gus", "hiro"}[f],
			[]string{"okafor", "lindqvist", "nakamura", "obrien", "smith", "vdberg"}[l], i),
		EmailVerified: &yes,
		GivenName:     first,
		FamilyName:    last,
		Name:          first + " " + last,
		PasswordHash:  "$2b$10$" + strings.Repeat("N9qo8uLOickgx2ZMRZoMye", 3)[:53],
	}
	if r.IntN(2) == 0 {
		u.Nickname = strings.ToLower(first)
		u.Picture = fmt.Sprintf("https://cdn.example.com/avatars/%08d.png", i)
	}
	u.AppMetadata = json.RawMessage(fmt.Sprintf(`{"legacy_id":%d,"plan":"%s","roles":["member"%s]}`,
		i, []string{"free", "pro", "enterprise"}[r.IntN(3)], strings.Repeat(`,"editor"`, r.IntN(4))))
	u.UserMetadata = json.RawMessage(fmt.Sprintf(`{"locale":"en-GB","newsletter":true,"bio":%q}`,
		strings.Repeat("x", r.IntN(260))))
	return u
}

func packAll(t testing.TB, opts Options, users []importuser.User) []Chunk {
	t.Helper()
	p, err := NewPacker(opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []Chunk
	for i, u := range users {
		c, ok, err := p.Add(strings.ToLower(u.Email), i+2, u)
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		if ok {
			out = append(out, c)
		}
	}
	if c, ok := p.Flush(); ok {
		out = append(out, c)
	}
	return out
}

func TestPackKeepsOrderLimitAndValidity(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	users := make([]importuser.User, 3000)
	for i := range users {
		users[i] = realisticUser(r, i)
	}
	const limit = 50_000
	chunks := packAll(t, Options{MaxBytes: limit, FirstSeq: 7}, users)

	next := 0
	for i, c := range chunks {
		if c.Seq != 7+i {
			t.Errorf("chunk %d: Seq = %d, want %d", i, c.Seq, 7+i)
		}
		if len(c.Data) > limit {
			t.Errorf("chunk %d is %d bytes, over the %d limit", c.Seq, len(c.Data), limit)
		}
		if err := importuser.ValidateFileJSON(c.Data); err != nil {
			t.Fatalf("chunk %d is not a valid import file: %v", c.Seq, err)
		}
		var got []importuser.User
		if err := json.Unmarshal(c.Data, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != c.Users() || len(c.Lines) != c.Users() {
			t.Fatalf("chunk %d: %d users in data, %d keys, %d lines", c.Seq, len(got), len(c.Keys), len(c.Lines))
		}
		for j, u := range got {
			if u.Email != users[next].Email || c.Keys[j] != strings.ToLower(users[next].Email) || c.Lines[j] != next+2 {
				t.Fatalf("chunk %d user %d: got %s (key %s, line %d), want source user %d (%s)",
					c.Seq, j, u.Email, c.Keys[j], c.Lines[j], next, users[next].Email)
			}
			next++
		}
	}
	if next != len(users) {
		t.Fatalf("packed %d users, want %d", next, len(users))
	}
}

// TestMeanFill measures how full chunks are with realistic users at the
// real limit; the last chunk is excluded since it holds only the rest.
func TestMeanFill(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 12_000
	p, err := NewPacker(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var chunks []Chunk
	var userBytes int
	for i := range n {
		doc, err := json.Marshal(realisticUser(r, i))
		if err != nil {
			t.Fatal(err)
		}
		userBytes += len(doc)
		if c, ok, err := p.AddJSON("k", i, doc); err != nil {
			t.Fatal(err)
		} else if ok {
			chunks = append(chunks, c)
		}
	}
	// The open chunk holds only the rest, so it is left out.
	if len(chunks) < 10 {
		t.Fatalf("only %d full chunks; the test needs more users", len(chunks))
	}
	var filled int
	for _, c := range chunks {
		filled += len(c.Data)
	}
	fill := float64(filled) / float64(len(chunks)*DefaultMaxBytes)
	t.Logf("%d users, mean %d bytes each: %d full chunks, mean fill %.2f%% of %d bytes",
		n, userBytes/n, len(chunks), 100*fill, DefaultMaxBytes)
	if fill < 0.95 {
		t.Errorf("mean fill %.2f%%, want >= 95%%", 100*fill)
	}
}

func TestBoundaries(t *testing.T) {
	obj := func(n int) []byte { // a JSON object of exactly n bytes
		return []byte(`{"email":"` + strings.Repeat("a", n-len(`{"email":""}`)) + `"}`)
	}
	tests := []struct {
		name      string
		max       int
		sizes     []int
		wantUsers []int // users per chunk
		wantErrAt int   // index of the user that must be refused, -1 for none
	}{
		{"exact fit one user", 100, []int{98}, []int{1}, -1},
		{"one byte over", 100, []int{99}, nil, 0},
		{"two exactly fill", 100, []int{48, 49}, []int{2}, -1},
		{"third spills", 100, []int{48, 49, 20}, []int{2, 1}, -1},
		{"too large in the middle is skipped", 100, []int{30, 200, 30}, []int{2}, 1},
		{"each alone", 60, []int{40, 40, 40}, []int{1, 1, 1}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPacker(Options{MaxBytes: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i, n := range tt.sizes {
				c, ok, err := p.AddJSON(fmt.Sprint(i), i+1, obj(n))
				var tooLarge *TooLargeError
				if i == tt.wantErrAt {
					if !errors.Is(err, ErrUserTooLarge) || !errors.As(err, &tooLarge) || tooLarge.Line != i+1 || tooLarge.Size != n+2 {
						t.Fatalf("user %d: err = %v, want a TooLargeError for line %d, size %d", i, err, i+1, n+2)
					}
					continue
				}
				if err != nil {
					t.Fatalf("user %d: %v", i, err)
				}
				if ok {
					got = append(got, c.Users())
					if len(c.Data) > tt.max || !json.Valid(c.Data) {
						t.Fatalf("chunk %q: over limit or invalid", c.Data)
					}
				}
			}
			if c, ok := p.Flush(); ok {
				got = append(got, c.Users())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantUsers) {
				t.Errorf("users per chunk = %v, want %v", got, tt.wantUsers)
			}
		})
	}
}

func TestChunksDoNotShareMemory(t *testing.T) {
	p, _ := NewPacker(Options{MaxBytes: 40})
	doc := []byte(`{"email":"a@b.co"}`)
	var chunks []Chunk
	for i := range 6 {
		c, ok, err := p.AddJSON(fmt.Sprint(i), i, doc)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			chunks = append(chunks, c)
		}
		doc[10] = byte('a' + i) // the caller reuses its buffer
	}
	if c, ok := p.Flush(); ok {
		chunks = append(chunks, c)
	}
	want := []string{`[{"email":"a@b.co"},{"email":"a@b.co"}]`, `[{"email":"b@b.co"},{"email":"c@b.co"}]`, `[{"email":"d@b.co"},{"email":"e@b.co"}]`}
	for i, c := range chunks {
		if string(c.Data) != want[i] || c.Keys[0] != fmt.Sprint(2*i) {
			t.Errorf("chunk %d = %s keys %v, want %s", i, c.Data, c.Keys, want[i])
		}
	}
	if _, ok := p.Flush(); ok {
		t.Error("a second Flush must find no open chunk")
	}
}

func TestNewPackerRejectsTinyLimit(t *testing.T) {
	if _, err := NewPacker(Options{MaxBytes: 3}); err == nil {
		t.Fatal("want an error for a 3-byte limit")
	}
}

// BenchmarkPack1M packs one million realistic users at the real limit.
func BenchmarkPack1M(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 1_000_000
	const distinct = 4096 // marshalled ahead of time; packing is what is timed
	docs := make([][]byte, distinct)
	var total int
	for i := range docs {
		docs[i], _ = json.Marshal(realisticUser(r, i))
		total += len(docs[i])
	}
	b.SetBytes(int64(total / distinct * n))
	b.ReportAllocs()
	for b.Loop() {
		p, _ := NewPacker(Options{})
		chunks, filled := 0, 0
		for i := range n {
			c, ok, err := p.AddJSON("key", i, docs[i%distinct])
			if err != nil {
				b.Fatal(err)
			}
			if ok {
				chunks++
				filled += len(c.Data)
			}
		}
		b.ReportMetric(float64(chunks), "chunks")
		b.ReportMetric(100*float64(filled)/float64(chunks*DefaultMaxBytes), "fill%")
	}
}

// BenchmarkAddUser includes marshalling, as the executor calls it.
func BenchmarkAddUser(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	users := make([]importuser.User, 1024)
	for i := range users {
		users[i] = realisticUser(r, i)
	}
	p, _ := NewPacker(Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := p.Add("key", i, users[i%len(users)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
