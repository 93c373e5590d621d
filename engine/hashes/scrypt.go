package hashes

import (
	"fmt"
	"strings"

	"provision/engine/importuser"
)

// Auth0's scrypt defaults, used when the object leaves them out.
const (
	scryptDefaultCost            = 16384
	scryptDefaultBlockSize       = 8
	scryptDefaultParallelization = 1
)

// nodeScryptMaxMem is Node.js crypto.scrypt's default memory limit. OpenSSL,
// which does the work, counts 128·r·(N+2) + 128·r·p bytes against it.
const nodeScryptMaxMem = 32 << 20

// scryptParams are the scrypt parameters of a legacy hash.
type scryptParams struct {
	n, r, p int
}

func (s scryptParams) valid() bool {
	return s.n > 1 && s.n&(s.n-1) == 0 && s.r > 0 && s.p > 0 && uint64(s.r)*uint64(s.p) < 1<<30
}

// nodeMemory is what OpenSSL's scrypt asks for, in bytes.
func (s scryptParams) nodeMemory() uint64 {
	return 128*uint64(s.r)*(uint64(s.n)+2) + 128*uint64(s.r)*uint64(s.p)
}

func scryptResult(form string, s scryptParams, key []byte, keyValue, keyEncoding string, salt *importuser.Salt, c columns) (Result, error) {
	if err := c.expect("scrypt", form); err != nil {
		return Result{}, err
	}
	custom := newCustom("scrypt", keyValue, keyEncoding)
	custom.Salt = salt
	custom.KeyLen = len(key)
	custom.Cost, custom.BlockSize, custom.Parallelization = s.n, s.r, s.p
	r := Result{Family: "scrypt", Format: form, Importable: true, Custom: custom}
	if m := s.nodeMemory(); m > nodeScryptMaxMem {
		r.Warnings = append(r.Warnings, Error{
			Code: WarnScryptMemory,
			Message: fmt.Sprintf("scrypt with N=%d, r=%d, p=%d needs %d MiB, more than the 32 MiB Node.js allows by default; Auth0 may be unable to verify it",
				s.n, s.r, s.p, (m+(1<<20)-1)>>20),
			Hint: "prove it with a canary login before importing; if it fails, these users need automatic migration or a password reset",
		})
	}
	return r, nil
}

// convertPasslibScrypt handles passlib's $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
// with salt and hash in unpadded standard base64.
func convertPasslibScrypt(h string, c columns) (Result, error) {
	const form = "passlib-scrypt"
	var parts [5]string
	if split(h, '$', parts[:]) != 5 {
		return Result{}, malformed("a passlib scrypt string", "it does not have the $scrypt$ln=…,r=…,p=…$<salt>$<hash> fields")
	}
	var s scryptParams
	var params [3]string
	ok := split(parts[2], ',', params[:]) == 3
	for i, name := range []string{"ln=", "r=", "p="} {
		if !ok {
			break
		}
		var v string
		if v, ok = strings.CutPrefix(params[i], name); !ok {
			break
		}
		var n int
		if n, ok = parseCount(v); !ok {
			break
		}
		switch i {
		case 0:
			if ok = n < 63; ok {
				s.n = 1 << n
			}
		case 1:
			s.r = n
		case 2:
			s.p = n
		}
	}
	if !ok || !s.valid() {
		return Result{}, malformed("a passlib scrypt string", "its parameters are not ln=<log2 N>,r=<r>,p=<p> with valid numbers")
	}
	salt, ok := decodeBase64(parts[3])
	if !ok {
		return Result{}, malformed("a passlib scrypt string", "its salt is not base64")
	}
	key, ok := decodeBase64(parts[4])
	if !ok {
		return Result{}, malformed("a passlib scrypt string", "its hash is not base64")
	}
	if err := c.noExtraSalt(form, parts[3], string(salt)); err != nil {
		return Result{}, err
	}
	return scryptResult(form, s, key, b64.EncodeToString(key), encBase64,
		&importuser.Salt{Value: b64.EncodeToString(salt), Encoding: encBase64}, c)
}

// convertDjangoScrypt handles Django's scrypt$<N>$<salt>$<r>$<p>$<b64 hash>,
// salt as text.
func convertDjangoScrypt(h string, c columns) (Result, error) {
	const form = "django-scrypt"
	var parts [6]string
	if split(h, '$', parts[:]) != 6 {
		return Result{}, malformed("a Django scrypt hash", "it does not have the scrypt$<N>$<salt>$<r>$<p>$<hash> fields")
	}
	var s scryptParams
	var ok1, ok2, ok3 bool
	s.n, ok1 = parseCount(parts[1])
	s.r, ok2 = parseCount(parts[3])
	s.p, ok3 = parseCount(parts[4])
	if !ok1 || !ok2 || !ok3 || !s.valid() {
		return Result{}, malformed("a Django scrypt hash", "its N, r and p are not valid scrypt parameters")
	}
	key, ok := decodeBase64(parts[5])
	if !ok {
		return Result{}, malformed("a Django scrypt hash", "its hash is not base64")
	}
	if err := c.noExtraSalt(form, parts[2]); err != nil {
		return Result{}, err
	}
	return scryptResult(form, s, key, b64.EncodeToString(key), encBase64,
		&importuser.Salt{Value: parts[2], Encoding: encUTF8}, c)
}

// convertWerkzeugScrypt handles Werkzeug's scrypt:<N>:<r>:<p>$<salt>$<hex hash>,
// salt as text.
func convertWerkzeugScrypt(h string, c columns) (Result, error) {
	const form = "werkzeug-scrypt"
	method, rest, _ := strings.Cut(h, "$")
	salt, hexKey, found := strings.Cut(rest, "$")
	var args [4]string
	if !found || split(method, ':', args[:]) != 4 || strings.Contains(hexKey, "$") {
		return Result{}, malformed("a Werkzeug scrypt hash", "it does not have the scrypt:<N>:<r>:<p>$<salt>$<hash> fields")
	}
	var s scryptParams
	var ok1, ok2, ok3 bool
	s.n, ok1 = parseCount(args[1])
	s.r, ok2 = parseCount(args[2])
	s.p, ok3 = parseCount(args[3])
	if !ok1 || !ok2 || !ok3 || !s.valid() {
		return Result{}, malformed("a Werkzeug scrypt hash", "its N, r and p are not valid scrypt parameters")
	}
	key, ok := decodeHex(hexKey)
	if !ok || len(key) == 0 {
		return Result{}, malformed("a Werkzeug scrypt hash", "its hash is not hex")
	}
	if err := c.noExtraSalt(form, salt); err != nil {
		return Result{}, err
	}
	return scryptResult(form, s, key, hexKey, encHex, &importuser.Salt{Value: salt, Encoding: encUTF8}, c)
}
