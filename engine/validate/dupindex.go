package validate

import "hash/maphash"

// dupIndex remembers which line first used a key (a normalized email,
// username or user_id). It stores no strings: each key is reduced to 96 bits
// of two independent hashes, 16 bytes a slot, so a million-row file needs a
// few tens of megabytes, and a false "duplicate" needs a 96-bit collision
// (for 3 million keys, odds around 1 in 10^16).
//
// It is an open-addressing table with linear probing rather than a Go map
// because the key is already a uniform hash: probing on it directly costs
// one cache miss per lookup, where a map would hash the key again and touch
// more memory. Check runs this on every row of million-row files.
type dupIndex struct {
	slots []dupSlot
	used  int
}

type dupSlot struct {
	hi   uint64 // first hash; 0 marks an empty slot
	lo   uint32 // 32 bits of the second hash
	line uint32
}

var seedA, seedB = maphash.MakeSeed(), maphash.MakeSeed()

const initialDupSlots = 1 << 12

// newDupIndex sizes the table for about expected keys, so that a large
// file does not pay for a dozen rounds of growing and rehashing.
func newDupIndex(expected int) dupIndex {
	n := initialDupSlots
	for n*3 < expected*4 { // the load factor stays <= 3/4 with expected keys
		n *= 2
	}
	return dupIndex{slots: make([]dupSlot, n)}
}

// find returns the slot holding the key, or the empty slot where it would go.
func (d *dupIndex) find(hi uint64, lo uint32) *dupSlot {
	mask := uint64(len(d.slots) - 1)
	for i := hi & mask; ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.hi == 0 || s.hi == hi && s.lo == lo {
			return s
		}
	}
}

// dupKey is a key reduced to its hashes, so that looking it up and then
// adding it hashes the string once.
type dupKey struct {
	hi uint64
	lo uint32
}

func keyOf(s string) dupKey {
	return dupKey{hi: maphash.String(seedA, s) | 1, lo: uint32(maphash.String(seedB, s))} // hi is never 0, which marks an empty slot
}

// touch loads the key's first slot. Called for every key of a row before
// any probing, it lets the CPU fetch the rows' three cache lines at once
// instead of waiting for each miss in turn: the tables are far larger than
// the cache, so these misses are most of the index's cost.
func (d *dupIndex) touch(k dupKey) uint64 {
	return d.slots[k.hi&uint64(len(d.slots)-1)].hi
}

func (d *dupIndex) lookup(k dupKey) (line int, ok bool) {
	s := d.find(k.hi, k.lo)
	return int(s.line), s.hi != 0
}

// add records k at line unless it is already there.
func (d *dupIndex) add(k dupKey, line int) {
	s := d.find(k.hi, k.lo)
	if s.hi != 0 {
		return
	}
	*s = dupSlot{hi: k.hi, lo: k.lo, line: uint32(line)}
	d.used++
	if d.used*4 > len(d.slots)*3 { // keep probes short: load factor <= 3/4
		d.grow()
	}
}

func (d *dupIndex) grow() {
	old := d.slots
	d.slots = make([]dupSlot, len(old)*2)
	for _, s := range old {
		if s.hi != 0 {
			*d.find(s.hi, s.lo) = s
		}
	}
}
