package hashes

import (
	"strconv"
	"strings"
)

// argon2Hash is a parsed PHC argon2 string.
type argon2Hash struct {
	variant string // argon2i | argon2id | argon2d
	version int    // 19 (0x13) or 16 (0x10, also meant by an absent v=)
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// The argon2 reference implementation's lower bounds.
const (
	argon2MinSalt = 8
	argon2MinKey  = 4
)

// parseArgon2 parses $argon2<type>[$v=<version>]$m=<m>,t=<t>,p=<p>$<salt>$<hash>
// with salt and hash in unpadded standard base64, as the reference
// implementation and libsodium (which Auth0's documentation points to) write
// them. what says what is wrong when ok is false.
func parseArgon2(s string) (a argon2Hash, what string, ok bool) {
	var buf [7]string
	n := split(s, '$', buf[:])
	parts := buf[:max(n, 0)]
	if len(parts) < 5 || parts[0] != "" {
		return a, "it does not have the $argon2<type>$v=19$m=…,t=…,p=…$<salt>$<hash> fields", false
	}
	a.variant = parts[1]
	switch a.variant {
	case "argon2i", "argon2id", "argon2d":
	default:
		return a, "its type is not argon2i, argon2id or argon2d", false
	}
	rest := parts[2:]
	a.version = 16
	if v, found := strings.CutPrefix(rest[0], "v="); found {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 16 && n != 19) {
			return a, "its version is neither 16 nor 19", false
		}
		a.version = n
		rest = rest[1:]
	}
	if len(rest) != 3 {
		return a, "it does not have exactly the parameter, salt and hash fields after the type", false
	}
	var params [3]string
	if split(rest[0], ',', params[:]) != 3 {
		return a, "its parameters are not exactly m, t and p", false
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, found := strings.CutPrefix(params[i], name)
		if !found {
			return a, "its parameters are not m, t and p in that order", false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return a, "a parameter is not a number", false
		}
		vals[i] = n
	}
	if vals[2] < 1 || vals[2] > 255 {
		return a, "its parallelism p is not between 1 and 255", false
	}
	if vals[1] < 1 {
		return a, "its time cost t is zero", false
	}
	if vals[0] < 8*vals[2] {
		return a, "its memory m is less than 8 KiB per lane", false
	}
	a.memory, a.time, a.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	if a.salt, ok = decodeBase64(rest[1]); !ok || len(a.salt) < argon2MinSalt {
		return a, "its salt is not base64 of at least 8 bytes", false
	}
	if a.key, ok = decodeBase64(rest[2]); !ok || len(a.key) < argon2MinKey {
		return a, "its hash is not base64 of at least 4 bytes", false
	}
	return a, "", true
}

// String is the canonical PHC form: version 19, parameters in m,t,p order,
// unpadded standard base64.
func (a argon2Hash) String() string {
	b := make([]byte, 0, 48+b64Raw.EncodedLen(len(a.salt))+b64Raw.EncodedLen(len(a.key)))
	b = append(b, '$')
	b = append(b, a.variant...)
	b = append(b, "$v="...)
	b = strconv.AppendInt(b, int64(a.version), 10)
	b = append(b, "$m="...)
	b = strconv.AppendUint(b, uint64(a.memory), 10)
	b = append(b, ",t="...)
	b = strconv.AppendUint(b, uint64(a.time), 10)
	b = append(b, ",p="...)
	b = strconv.AppendUint(b, uint64(a.threads), 10)
	b = append(b, '$')
	b = b64Raw.AppendEncode(b, a.salt)
	b = append(b, '$')
	b = b64Raw.AppendEncode(b, a.key)
	return string(b)
}

// importable reports whether Auth0 can verify this argon2 hash, and if not,
// the family name to report. Auth0 verifies argon2 the way libsodium
// does, which knows argon2i and argon2id at version 1.3 (19) only.
func (a argon2Hash) importable() (family string, ok bool) {
	switch {
	case a.variant == "argon2d":
		return "argon2d", false
	case a.version != 19:
		return "argon2-v16", false
	}
	return "argon2", true
}

func convertArgon2(h, format string, c columns) (Result, error) {
	a, what, ok := parseArgon2(h)
	if !ok {
		return Result{}, malformed("an argon2 PHC string", what)
	}
	if family, ok := a.importable(); !ok {
		return notImportable(family, format), nil
	}
	if err := c.expect("argon2", format); err != nil {
		return Result{}, err
	}
	if err := c.noExtraSalt(format, b64Raw.EncodeToString(a.salt), string(a.salt)); err != nil {
		return Result{}, err
	}
	return Result{Family: "argon2", Format: format, Importable: true, Custom: newCustom("argon2", a.String(), encUTF8)}, nil
}
