package whirlpool

import (
	"crypto/hmac"
	"encoding/hex"
	"strings"
	"testing"
)

// The expected digests are the ISO/IEC 10118-3 (NESSIE) test vectors. Each
// was also reproduced with a real tool:
//
//	printf %s "$MSG" | openssl dgst -provider legacy -provider default -whirlpool -r
func TestISOVectors(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"", "19fa61d75522a4669b44e39c1d2e1726c530232130d407f89afee0964997f7a73e83be698b288febcf88e3e03c4f0757ea8964e59b63d93708b138cc42a66eb3"},
		{"a", "8aca2602792aec6f11a67206531fb7d7f0dff59413145e6973c45001d0087b42d11bc645413aeff63a42391a39145a591a92200d560195e53b478584fdae231a"},
		{"abc", "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5"},
		{"message digest", "378c84a4126e2dc6e56dcc7458377aac838d00032230f53ce1f5700c0ffb4d3b8421557659ef55c106b4b52ac5a4aaa692ed920052838f3362e86dbd37a8903e"},
		{"abcdefghijklmnopqrstuvwxyz", "f1d754662636ffe92c82ebb9212a484a8d38631ead4238f5442ee13b8054e41b08bf2a9251c30b6a0b8aae86177ab4a6f68f673e7207865d5d9819a3dba4eb3b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "dc37e008cf9ee69bf11f00ed9aba26901dd7c28cdec066cc6af42e40f82f3a1e08eba26629129d8fb7cb57211b9281a65517cc879d7b962142c65f5a7af01467"},
		{strings.Repeat("1234567890", 8), "466ef18babb0154d25b9d38a6414f5c08784372bccb204d6549c4afadb6014294d5bd8df2a6c44e538cd047b2681a51a2c60481e88c5a20b2c2a80cf3a9a083b"},
		{strings.Repeat("a", 1000000), "0c99005beb57eff50a7cf005560ddf5d29057fd86b20bfd62deca0f1ccea4af51fc15490eddc47af32bb2b66c34ff9ad8c6008ad677f77126953b226e4ed8b01"},
	}
	for _, tt := range tests {
		sum := Sum([]byte(tt.msg))
		if got := hex.EncodeToString(sum[:]); got != tt.want {
			t.Errorf("Whirlpool(%.20q) = %s, want %s", tt.msg, got, tt.want)
		}
	}
}

// Writing in pieces that straddle block and padding boundaries must give the
// same digest as one write.
func TestIncrementalWrites(t *testing.T) {
	msg := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 7))
	for n := range len(msg) + 1 {
		want := Sum(msg[:n])
		for step := 1; step <= 65; step += 16 {
			d := New()
			for i := 0; i < n; i += step {
				d.Write(msg[i:min(i+step, n)])
			}
			if got := d.Sum(nil); string(got) != string(want[:]) {
				t.Fatalf("length %d in steps of %d: digest differs from one-shot", n, step)
			}
		}
	}
}

func TestSBoxMatchesSpecification(t *testing.T) {
	// First row of the S-box table in the Whirlpool specification.
	want := []byte{0x18, 0x23, 0xc6, 0xe8, 0x87, 0xb8, 0x01, 0x4f, 0x36, 0xa6, 0xd2, 0xf5, 0x79, 0x6f, 0x91, 0x52}
	if string(sbox[:16]) != string(want) {
		t.Fatalf("sbox[:16] = %x, want %x", sbox[:16], want)
	}
}

// HMAC-Whirlpool, checked against:
//
//	printf 'The quick brown fox jumps over the lazy dog' | openssl dgst -provider legacy -provider default -whirlpool -hmac key -r
func TestHMAC(t *testing.T) {
	m := hmac.New(New, []byte("key"))
	m.Write([]byte("The quick brown fox jumps over the lazy dog"))
	const want = "7f7192e3a155cb6a8171584ba146882f26821658112dfd2601272db013517a31e573637d146584596f86a884eb0decc9514dde000ecf2476dc5d436a92197527"
	if got := hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("HMAC-Whirlpool = %s, want %s", got, want)
	}
}

func TestSumDoesNotChangeState(t *testing.T) {
	d := New()
	d.Write([]byte("ab"))
	first := d.Sum(nil)
	if second := d.Sum(nil); string(first) != string(second) {
		t.Fatal("calling Sum twice gave different digests")
	}
	d.Write([]byte("c"))
	want := Sum([]byte("abc"))
	if got := d.Sum(nil); string(got) != string(want[:]) {
		t.Fatal("writing after Sum did not continue the message")
	}
}

func BenchmarkWhirlpool64(b *testing.B) {
	buf := make([]byte, 64)
	b.SetBytes(64)
	for b.Loop() {
		Sum(buf)
	}
}
