// Package whirlpool implements the Whirlpool hash function (ISO/IEC
// 10118-3:2004, the final 2003 revision of the algorithm), which Auth0 accepts
// as an HMAC and PBKDF2 digest but neither the Go standard library nor
// golang.org/x/crypto provide.
//
// It uses the usual table-driven form (one table per column combining the
// S-box with the diffusion matrix), since PBKDF2 over Whirlpool can run it
// hundreds of thousands of times for one password check.
package whirlpool

import (
	"encoding/binary"
	"hash"
)

// Size is the size of a Whirlpool digest in bytes.
const Size = 64

// BlockSize is the block size of Whirlpool in bytes.
const BlockSize = 64

const rounds = 10

// sbox is the Whirlpool S-box, built at start-up from the three 4-bit
// mini-boxes E, E⁻¹ and R of the specification (section 5.1) rather than
// copied as a 256-entry table, so that it can be checked against the
// published first entries in the tests.
var sbox [256]byte

// diffusion is the first row of the circulant MDS matrix C.
var diffusion = [8]byte{1, 1, 4, 1, 8, 5, 2, 9}

// table[m][x] is the contribution of byte x in column m of a row, after the
// S-box (γ) and the diffusion matrix (θ), to that row: byte j of it is
// S[x]·C[m][j] in GF(2⁸). Rows are uint64s holding column 0 in the most
// significant byte.
var table [8][256]uint64

// roundConstants[r] is the first row of the round constant c^(r+1); its
// other rows are zero.
var roundConstants [rounds]uint64

func init() {
	e := [16]byte{0x1, 0xB, 0x9, 0xC, 0xD, 0x6, 0xF, 0x3, 0xE, 0x8, 0x7, 0x4, 0xA, 0x2, 0x5, 0x0}
	r := [16]byte{0x7, 0xC, 0xB, 0xD, 0xE, 0x4, 0x9, 0xF, 0x6, 0x3, 0x8, 0xA, 0x2, 0x5, 0x1, 0x0}
	var eInv [16]byte
	for i, v := range e {
		eInv[v] = byte(i)
	}
	for u := range 256 {
		a, b := e[u>>4], eInv[u&0xF]
		t := r[a^b]
		sbox[u] = e[a^t]<<4 | eInv[b^t]
	}
	for m := range 8 {
		for x := range 256 {
			var row uint64
			for j := range 8 {
				// C is circulant: C[m][j] = diffusion[(j-m) mod 8].
				row = row<<8 | uint64(gfMul(diffusion[(j-m+8)%8], sbox[x]))
			}
			table[m][x] = row
		}
	}
	for i := range roundConstants {
		roundConstants[i] = binary.BigEndian.Uint64(sbox[8*i:])
	}
}

func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		carry := a & 0x80
		a <<= 1
		if carry != 0 {
			a ^= 0x1D // x⁸ = x⁴+x³+x²+1
		}
		b >>= 1
	}
	return p
}

// state is the 8×8 byte matrix the cipher works on, one uint64 per row.
type state [8]uint64

// round returns ρ[k](s) = σ[k] ∘ θ ∘ π ∘ γ (s). π rotates column m down by m
// rows, so output row i takes column m's byte from input row i-m.
func round(s, k *state) state {
	var out state
	for i := range 8 {
		out[i] = k[i] ^
			table[0][byte(s[i]>>56)] ^
			table[1][byte(s[(i+7)&7]>>48)] ^
			table[2][byte(s[(i+6)&7]>>40)] ^
			table[3][byte(s[(i+5)&7]>>32)] ^
			table[4][byte(s[(i+4)&7]>>24)] ^
			table[5][byte(s[(i+3)&7]>>16)] ^
			table[6][byte(s[(i+2)&7]>>8)] ^
			table[7][byte(s[(i+1)&7])]
	}
	return out
}

// compress runs one Miyaguchi–Preneel step of the hash on block.
func compress(h *state, block []byte) {
	var m, s state
	key := *h
	for i := range 8 {
		m[i] = binary.BigEndian.Uint64(block[8*i:])
		s[i] = m[i] ^ key[i]
	}
	for r := range rounds {
		c := state{roundConstants[r]}
		key = round(&key, &c)
		s = round(&s, &key)
	}
	for i := range 8 {
		h[i] ^= s[i] ^ m[i]
	}
}

type digest struct {
	h      state
	buf    [BlockSize]byte
	n      int    // bytes in buf
	length uint64 // message length in bytes; 2⁶⁴ bytes is beyond any password
}

// New returns a new hash.Hash computing the Whirlpool digest.
func New() hash.Hash {
	d := new(digest)
	d.Reset()
	return d
}

// Sum returns the Whirlpool digest of data.
func Sum(data []byte) [Size]byte {
	d := new(digest)
	d.Write(data)
	var out [Size]byte
	copy(out[:], d.Sum(nil))
	return out
}

func (d *digest) Reset()         { *d = digest{} }
func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return BlockSize }

func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	d.length += uint64(n)
	if d.n > 0 {
		c := copy(d.buf[d.n:], p)
		d.n += c
		p = p[c:]
		if d.n < BlockSize {
			return n, nil
		}
		compress(&d.h, d.buf[:])
		d.n = 0
	}
	for len(p) >= BlockSize {
		compress(&d.h, p[:BlockSize])
		p = p[BlockSize:]
	}
	d.n = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest of the data written so far to in, leaving d
// unchanged.
func (d *digest) Sum(in []byte) []byte {
	c := *d
	// Padding: a single 1 bit, zeros up to 32 bytes before a block boundary,
	// then the message length in bits as a 256-bit big-endian number.
	var pad [2 * BlockSize]byte
	pad[0] = 0x80
	padLen := BlockSize - 32 - c.n
	if padLen < 1 {
		padLen += BlockSize
	}
	bits := c.length << 3
	binary.BigEndian.PutUint64(pad[padLen+24:], bits)
	binary.BigEndian.PutUint64(pad[padLen+16:], c.length>>61)
	c.Write(pad[:padLen+32])
	for _, row := range c.h {
		in = binary.BigEndian.AppendUint64(in, row)
	}
	return in
}
