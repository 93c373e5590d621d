package hashes

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"

	"golang.org/x/crypto/md4"       //nolint:staticcheck // MD4 is what legacy systems used; we only verify it.
	"golang.org/x/crypto/ripemd160" //nolint:staticcheck // likewise RIPEMD-160.

	"provision/engine/hashes/internal/whirlpool"
)

// hashFunc is a digest a legacy hash may have been built on. new is nil for
// a digest Auth0 accepts but that cannot be computed here (MDC-2).
type hashFunc struct {
	name string // canonical short name
	size int    // output size in bytes
	new  func() hash.Hash
}

var (
	hMD4       = hashFunc{"md4", md4.Size, md4.New}
	hMD5       = hashFunc{"md5", md5.Size, md5.New}
	hSHA1      = hashFunc{"sha1", sha1.Size, sha1.New}
	hSHA224    = hashFunc{"sha224", sha256.Size224, sha256.New224}
	hSHA256    = hashFunc{"sha256", sha256.Size, sha256.New}
	hSHA384    = hashFunc{"sha384", sha512.Size384, sha512.New384}
	hSHA512    = hashFunc{"sha512", sha512.Size, sha512.New}
	hRIPEMD160 = hashFunc{"ripemd160", ripemd160.Size, ripemd160.New}
	hWhirlpool = hashFunc{"whirlpool", whirlpool.Size, whirlpool.New}
	hMDC2      = hashFunc{"mdc2", 16, nil}
)

// plainDigests are the custom_password_hash algorithms that are a single
// digest of the (salted) password.
var plainDigests = map[string]hashFunc{
	"md4": hMD4, "md5": hMD5, "sha1": hSHA1, "sha256": hSHA256, "sha512": hSHA512,
}

// hmacDigests are the values Auth0 accepts in hash.digest for hmac.
var hmacDigests = map[string]hashFunc{
	"md4": hMD4, "md5": hMD5, "ripemd160": hRIPEMD160, "sha1": hSHA1, "sha224": hSHA224,
	"sha256": hSHA256, "sha384": hSHA384, "sha512": hSHA512, "whirlpool": hWhirlpool,
}

// pbkdf2Digests maps the digest names Auth0 documents for the pbkdf2 PHC id
// ("pbkdf2-<digest>") to the digest. The names are OpenSSL's (Auth0 runs on
// Node.js crypto); OpenSSL looks them up case-insensitively, so the keys are
// lower case and lookups fold case.
var pbkdf2Digests = map[string]hashFunc{
	"rsa-md4": hMD4, "md4": hMD4, "md4withrsaencryption": hMD4,
	"rsa-md5": hMD5, "md5": hMD5, "md5withrsaencryption": hMD5, "ssl3-md5": hMD5,
	"rsa-mdc2": hMDC2, "mdc2": hMDC2, "mdc2withrsa": hMDC2,
	"rsa-ripemd160": hRIPEMD160, "ripemd": hRIPEMD160, "ripemd160": hRIPEMD160,
	"ripemd160withrsa": hRIPEMD160, "rmd160": hRIPEMD160,
	"rsa-sha1": hSHA1, "rsa-sha1-2": hSHA1, "sha1": hSHA1, "sha1withrsaencryption": hSHA1, "ssl3-sha1": hSHA1,
	"rsa-sha224": hSHA224, "sha224": hSHA224, "sha224withrsaencryption": hSHA224,
	"rsa-sha256": hSHA256, "sha256": hSHA256, "sha256withrsaencryption": hSHA256,
	"rsa-sha384": hSHA384, "sha384": hSHA384, "sha384withrsaencryption": hSHA384,
	"rsa-sha512": hSHA512, "sha512": hSHA512, "sha512withrsaencryption": hSHA512,
	"whirlpool": hWhirlpool,
}

func lookupPBKDF2Digest(name string) (hashFunc, bool) {
	h, ok := pbkdf2Digests[strings.ToLower(name)]
	return h, ok
}
