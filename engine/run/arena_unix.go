//go:build unix

package run

import "syscall"

// newArena returns an empty slab of capacity n for the in-memory spool,
// mapped outside the Go heap: hundreds of megabytes of pointer-free bytes
// that the garbage collector would otherwise count, letting the heap grow
// to twice their size before collecting. free unmaps it; nothing may refer
// to it afterwards.
func newArena(n int) (slab []byte, free func()) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, 0, n), func() {}
	}
	return b[:0], func() { _ = syscall.Munmap(b) }
}
