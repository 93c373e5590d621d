//go:build !unix

package run

// newArena returns an empty slab of capacity n for the in-memory spool.
func newArena(n int) (slab []byte, free func()) { return make([]byte, 0, n), func() {} }
