// Package assign decides which stage of a staged migration each valid user
// belongs to. The decision is a pure function of the users' emails and the
// stage sizes, so a resumed run, or a second look at the same source,
// always puts every user in the same stage.
//
// Users are ranked by a fixed hash of their normalized email and the
// stages take them in rank order: the canary is a sample spread over the
// whole export (every era of accounts, every hash format a legacy system
// accumulated), not its first rows, and reordering the export does not
// change who is in it.
package assign

import (
	"cmp"
	"fmt"
	"slices"

	"provision/storage"
)

// Candidate is one valid user to place in a stage.
type Candidate struct {
	Row  storage.RowID
	Rank uint64 // Rank(email)
}

// Rank is a user's place in the draw: FNV-1a over the normalized email,
// finished with SplitMix64's mixer so that emails differing in one
// character land far apart. It is fixed forever: changing it would move
// users between stages of journals written by earlier versions.
func Rank(normalizedEmail string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(normalizedEmail); i++ {
		h ^= uint64(normalizedEmail[i])
		h *= prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Split gives each stage its users: stage i takes the next sizes[i]
// candidates in rank order (ties, which need equal hashes, go by row).
// Each stage's rows come back in row order, which is the order the
// journal writes fastest and the source is read in. The sizes must add up
// to the number of candidates, as plan.Sizes guarantees.
func Split(cands []Candidate, sizes []int) ([][]storage.RowID, error) {
	total := 0
	for i, n := range sizes {
		if n < 0 {
			return nil, fmt.Errorf("assign users: stage %d has negative size %d", i+1, n)
		}
		total += n
	}
	if total != len(cands) {
		return nil, fmt.Errorf("assign users: the stages take %d users but there are %d", total, len(cands))
	}
	order := rankOrder(cands)
	stageOf := make([]uint32, len(cands))
	next := 0
	for i, n := range sizes {
		for _, c := range order[next : next+n] {
			stageOf[c] = uint32(i)
		}
		next += n
	}
	// Collected in input order, which is row order when the caller read
	// the source in order (the usual case): then no stage needs sorting.
	out := make([][]storage.RowID, len(sizes))
	for i, n := range sizes {
		out[i] = make([]storage.RowID, 0, n)
	}
	for i, c := range cands {
		out[stageOf[i]] = append(out[stageOf[i]], c.Row)
	}
	for _, rows := range out {
		if !slices.IsSorted(rows) {
			slices.Sort(rows)
		}
	}
	return out, nil
}

// rankBits is how many leading bits of the rank bucket the candidates.
const rankBits = 16

// rankOrder returns the indexes of cands in rank order (ties by row). The
// ranks are uniform hashes, so a counting sort on their leading bits
// leaves buckets of a few candidates each to sort: linear time, where a
// comparison sort of a million candidates took a quarter of a second.
func rankOrder(cands []Candidate) []int32 {
	starts := make([]int32, 1<<rankBits+1)
	for _, c := range cands {
		starts[c.Rank>>(64-rankBits)+1]++
	}
	for i := 1; i < len(starts); i++ {
		starts[i] += starts[i-1]
	}
	fill := slices.Clone(starts[:1<<rankBits])
	order := make([]int32, len(cands))
	for i, c := range cands {
		b := c.Rank >> (64 - rankBits)
		order[fill[b]] = int32(i)
		fill[b]++
	}
	byRank := func(a, b int32) int {
		if c := cmp.Compare(cands[a].Rank, cands[b].Rank); c != 0 {
			return c
		}
		return cmp.Compare(cands[a].Row, cands[b].Row)
	}
	for b := range 1 << rankBits {
		if bucket := order[starts[b]:starts[b+1]]; len(bucket) > 1 {
			slices.SortFunc(bucket, byRank)
		}
	}
	return order
}
