package assign

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"provision/storage"
)

func candidates(n int) []Candidate {
	out := make([]Candidate, n)
	for i := range out {
		out[i] = Candidate{Row: storage.RowID(i + 1), Rank: Rank(fmt.Sprintf("user%d@example.com", i))}
	}
	return out
}

func TestSplitCoversEveryUserOnce(t *testing.T) {
	for _, tc := range []struct {
		users int
		sizes []int
	}{
		{0, []int{0, 0}},
		{1, []int{1, 0}},
		{10, []int{3, 0, 7}},
		{1000, []int{50, 95, 855}},
	} {
		got, err := Split(candidates(tc.users), tc.sizes)
		if err != nil {
			t.Fatalf("%d users %v: %v", tc.users, tc.sizes, err)
		}
		seen := map[storage.RowID]int{}
		for i, rows := range got {
			if len(rows) != tc.sizes[i] {
				t.Errorf("%d users: stage %d has %d rows, want %d", tc.users, i, len(rows), tc.sizes[i])
			}
			if !slices.IsSorted(rows) {
				t.Errorf("%d users: stage %d rows are not in row order", tc.users, i)
			}
			for _, r := range rows {
				seen[r]++
			}
		}
		for r := 1; r <= tc.users; r++ {
			if seen[storage.RowID(r)] != 1 {
				t.Errorf("%d users: row %d is in %d stages, want 1", tc.users, r, seen[storage.RowID(r)])
			}
		}
	}
}

// The same users in another order land in the same stages: a re-exported
// source, or a resume, cannot move anyone.
func TestSplitIgnoresInputOrder(t *testing.T) {
	sizes := []int{50, 200, 750}
	want, err := Split(candidates(1000), sizes)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := candidates(1000)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	got, err := Split(shuffled, sizes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("stage %d differs after shuffling the input", i)
		}
	}
}

// A canary is drawn from the whole export, not its first rows.
func TestSplitSpreadsSmallStagesOverTheSource(t *testing.T) {
	const n = 10000
	got, err := Split(candidates(n), []int{50, n - 50})
	if err != nil {
		t.Fatal(err)
	}
	var deciles [10]int
	for _, r := range got[0] {
		deciles[(int(r)-1)*10/n]++
	}
	for d, c := range deciles {
		if c == 0 {
			t.Errorf("the canary has no user in decile %d of the source: %v", d, deciles)
		}
	}
}

func TestSplitRefusesSizesThatDoNotAddUp(t *testing.T) {
	if _, err := Split(candidates(10), []int{5, 4}); err == nil {
		t.Error("sizes adding up to 9 for 10 users were accepted")
	}
	if _, err := Split(candidates(10), []int{11, -1}); err == nil {
		t.Error("a negative size was accepted")
	}
}

func TestRankIsStable(t *testing.T) {
	// Journals written by earlier versions depend on these exact values.
	if got := Rank("alice@example.com"); got != Rank("alice@example.com") {
		t.Fatal("rank is not deterministic")
	}
	if Rank("alice@example.com") == Rank("alicf@example.com") {
		t.Error("neighbouring emails share a rank")
	}
	const pinned = "ann@example.com"
	if got, want := Rank(pinned), uint64(pinnedRank); got != want {
		t.Errorf("Rank(%q) = %d, want %d: changing the rank moves users between stages of existing journals", pinned, got, want)
	}
}

func BenchmarkSplit1M(b *testing.B) {
	base := candidates(1_000_000)
	cands := make([]Candidate, len(base))
	b.ReportAllocs()
	for b.Loop() {
		copy(cands, base)
		if _, err := Split(cands, []int{50, 100_000, 899_950}); err != nil {
			b.Fatal(err)
		}
	}
}

const pinnedRank = 16213784745199003281

// TestSplitMatchesAFullSort: the bucketed ordering gives exactly what
// sorting every candidate by (rank, row) gives, with ties, ranks crowded
// into one bucket, rows out of order and gaps between them.
func TestSplitMatchesAFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for _, n := range []int{0, 1, 7, 1000, 50_000} {
		cands := make([]Candidate, n)
		rows := rng.Perm(n) // distinct rows, in no order, with gaps
		for i := range cands {
			rank := rng.Uint64()
			switch i % 5 {
			case 1:
				rank = 42 // a tie shared by many, in the first bucket
			case 2:
				rank = math.MaxUint64 - uint64(rng.IntN(3)) // a crowded last bucket
			}
			cands[i] = Candidate{Row: storage.RowID(3*rows[i] + 1), Rank: rank}
		}
		sizes := []int{n / 10, n / 3, n - n/10 - n/3}

		ref := slices.Clone(cands)
		slices.SortFunc(ref, func(a, b Candidate) int {
			if c := cmp.Compare(a.Rank, b.Rank); c != 0 {
				return c
			}
			return cmp.Compare(a.Row, b.Row)
		})
		want := make([][]storage.RowID, len(sizes))
		next := 0
		for i, size := range sizes {
			for _, c := range ref[next : next+size] {
				want[i] = append(want[i], c.Row)
			}
			slices.Sort(want[i])
			next += size
		}

		got, err := Split(cands, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sizes {
			if !slices.Equal(got[i], want[i]) && !(len(got[i]) == 0 && len(want[i]) == 0) {
				t.Fatalf("n=%d stage %d: %d rows, want %d (first %v, want %v)", n, i, len(got[i]), len(want[i]), got[i][:min(3, len(got[i]))], want[i][:min(3, len(want[i]))])
			}
		}
	}
}
