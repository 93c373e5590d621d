package importuser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// encodeStdlib is the reference AppendJSON must match: what an Encoder
// with HTML escaping off writes, without its newline.
func encodeStdlib(u *User) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(u); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkSame fails unless AppendJSON and encoding/json agree on u: the same
// bytes, or errors with the same text. It appends after a prefix to check
// that AppendJSON appends, and leaves dst alone when it fails.
func checkSame(t *testing.T, u *User) []byte {
	t.Helper()
	want, wantErr := encodeStdlib(u)
	const prefix = "prefix:"
	got, err := u.AppendJSON([]byte(prefix))
	if !bytes.HasPrefix(got, []byte(prefix)) {
		t.Fatalf("AppendJSON dropped the bytes already in dst: %q", got)
	}
	got = got[len(prefix):]
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("AppendJSON = %q, want error %q", got, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("AppendJSON error %q, want %q", err, want)
	case wantErr != nil:
		if err.Error() != wantErr.Error() {
			t.Fatalf("AppendJSON error %q, want %q", err, wantErr)
		}
		if len(got) != 0 {
			t.Fatalf("AppendJSON failed but appended %q", got)
		}
	case !bytes.Equal(got, want):
		t.Fatalf("AppendJSON differs from encoding/json\n got %q\nwant %q", got, want)
	}
	return got
}

// everyString puts s in every string field, nested ones included.
func everyString(s string) *User {
	return &User{Email: s, PhoneNumber: s, UserID: s, Username: s, GivenName: s, FamilyName: s,
		Name: s, Nickname: s, Picture: s, PasswordHash: s,
		CustomPasswordHash: &CustomPasswordHash{Algorithm: s,
			Hash:     HashValue{Value: s, Encoding: s, Digest: s, Key: &HMACKey{Value: s, Encoding: s}},
			Salt:     &Salt{Value: s, Encoding: s, Position: s},
			Password: &PasswordSpec{Encoding: s}}}
}

func TestAppendJSONStrings(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "ana@example.com", `"ana@example.com"`},
		{"quote", `a"b`, `"a\"b"`},
		{"backslash", `a\b`, `"a\\b"`},
		{"short escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"other controls", "\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"DEL is not escaped", "\x7f", "\"\x7f\""},
		{"html is not escaped", "<script>&amp;</script>", `"<script>&amp;</script>"`},
		{"line and paragraph separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"neighbours of U+2028", "\u2027\u202a", "\"\u2027\u202a\""},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated sequence", "\xc3", `"\ufffd"`},
		{"truncated U+2028", "\xe2\x80", `"\ufffd\ufffd"`},
		{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"beyond U+10FFFF", "\xf4\x90\x80\x80", `"\ufffd\ufffd\ufffd\ufffd"`},
		{"real U+FFFD", "\ufffd", "\"\ufffd\""},
		{"accents", "José Ñúñez", `"José Ñúñez"`},
		{"emoji", "🙂👍🏽", `"🙂👍🏽"`},
		{"escape at the end", "abc\n", `"abc\n"`},
		{"mixed", "\"<\\>\"\x01\u2028\xff😀", `"\"<\\>\"\u0001\u2028\ufffd😀"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendString(nil, tt.in)); got != tt.want {
				t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if got := checkSame(t, &User{Email: tt.in}); string(got) != `{"email":`+tt.want+`}` {
				t.Errorf("email %q encodes as %s", tt.in, got)
			}
			checkSame(t, everyString(tt.in))
		})
	}
}

func TestAppendJSONUsers(t *testing.T) {
	yes, no := true, false
	full := &User{Email: "ana@example.com", EmailVerified: &yes, PhoneNumber: "+12125550100", PhoneVerified: &no,
		UserID: "legacy|1", Username: "ana", GivenName: "Ana", FamilyName: "Silva", Name: "Ana Silva",
		Nickname: "ani", Picture: "https://example.com/a.png?x=1&y=<2>", Blocked: &no,
		PasswordHash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		CustomPasswordHash: &CustomPasswordHash{Algorithm: "scrypt",
			Hash:     HashValue{Value: "aGFzaA==", Encoding: "base64", Digest: "sha256", Key: &HMACKey{Value: "k", Encoding: "utf8"}},
			Salt:     &Salt{Value: "c2FsdA==", Encoding: "base64", Position: "suffix"},
			Password: &PasswordSpec{Encoding: "utf16le"},
			KeyLen:   64, Cost: 16384, BlockSize: 8, Parallelization: -1},
		AppMetadata:  json.RawMessage(`{"plan":"gold"}`),
		UserMetadata: json.RawMessage(`{"lang":"en"}`),
		MFAFactors:   json.RawMessage(`[{"totp":{"secret":"JBSWY3DPEHPK3PXP"}}]`)}
	tests := []struct {
		name string
		user *User
		want string // "" when only encoding/json is the reference
	}{
		{"nil", nil, `null`},
		{"zero", &User{}, `{"email":""}`},
		{"email only", &User{Email: "a@b.co"}, `{"email":"a@b.co"}`},
		{"false bools are kept", &User{Email: "a@b.co", EmailVerified: &no, PhoneVerified: &no, Blocked: &no},
			`{"email":"a@b.co","email_verified":false,"phone_verified":false,"blocked":false}`},
		{"true bools", &User{EmailVerified: &yes, PhoneVerified: &yes, Blocked: &yes},
			`{"email":"","email_verified":true,"phone_verified":true,"blocked":true}`},
		{"every field", full, ""},
		{"bcrypt custom hash", &User{Email: "a@b.co", CustomPasswordHash: &CustomPasswordHash{
			Algorithm: "bcrypt", Hash: HashValue{Value: "$2y$12$abc"}}},
			`{"email":"a@b.co","custom_password_hash":{"algorithm":"bcrypt","hash":{"value":"$2y$12$abc"}}}`},
		{"zero custom hash", &User{CustomPasswordHash: &CustomPasswordHash{}},
			`{"email":"","custom_password_hash":{"algorithm":"","hash":{"value":""}}}`},
		{"empty nested objects", &User{CustomPasswordHash: &CustomPasswordHash{
			Hash: HashValue{Key: &HMACKey{}}, Salt: &Salt{}, Password: &PasswordSpec{}}},
			`{"email":"","custom_password_hash":{"algorithm":"","hash":{"value":"","key":{"value":""}},"salt":{"value":""},"password":{}}}`},
		{"hmac", &User{Email: "a@b.co", CustomPasswordHash: &CustomPasswordHash{Algorithm: "hmac",
			Hash: HashValue{Value: "00ff", Encoding: "hex", Digest: "sha1", Key: &HMACKey{Value: "s\"k", Encoding: "utf8"}}}},
			`{"email":"a@b.co","custom_password_hash":{"algorithm":"hmac","hash":{"value":"00ff","encoding":"hex","digest":"sha1","key":{"value":"s\"k","encoding":"utf8"}}}}`},
		{"pbkdf2 ints", &User{CustomPasswordHash: &CustomPasswordHash{Algorithm: "pbkdf2", KeyLen: 32, Cost: 600000}},
			`{"email":"","custom_password_hash":{"algorithm":"pbkdf2","hash":{"value":""},"keylen":32,"cost":600000}}`},
		{"extreme ints", &User{CustomPasswordHash: &CustomPasswordHash{KeyLen: -1 << 63, Cost: 1<<63 - 1, BlockSize: -7, Parallelization: 1}}, ""},
		{"redacted", func() *User { r := full.Redacted(); return &r }(), ""},
		{"empty raw messages are omitted", &User{AppMetadata: json.RawMessage{}, UserMetadata: json.RawMessage(nil), MFAFactors: json.RawMessage("")},
			`{"email":""}`},
		{"raw with whitespace", &User{AppMetadata: json.RawMessage(" {\n\t\"a\" : [ 1 , 2 ],\r\n \"b\": { } }\n")},
			`{"email":"","app_metadata":{"a":[1,2],"b":{}}}`},
		{"raw strings keep their whitespace", &User{UserMetadata: json.RawMessage(`{ "a b" : " x  y " , "c": "\" , \\" , "d" : "\\" }`)},
			`{"email":"","user_metadata":{"a b":" x  y ","c":"\" , \\","d":"\\"}}`},
		{"raw is not html-escaped", &User{AppMetadata: json.RawMessage("{\"h\": \"<b>&\u2028\u2029</b>\"}")},
			"{\"email\":\"\",\"app_metadata\":{\"h\":\"<b>&\u2028\u2029</b>\"}}"},
		{"raw keeps invalid UTF-8 in strings", &User{AppMetadata: json.RawMessage("{\"x\": \"\xff\"}")},
			"{\"email\":\"\",\"app_metadata\":{\"x\":\"\xff\"}}"},
		{"raw escapes are kept as written", &User{AppMetadata: json.RawMessage(`{"u":"\u00e9\/\n"}`)},
			`{"email":"","app_metadata":{"u":"\u00e9\/\n"}}`},
		{"raw scalars", &User{AppMetadata: json.RawMessage(" 42 "), UserMetadata: json.RawMessage(`"s"`), MFAFactors: json.RawMessage("\tnull\n")},
			`{"email":"","app_metadata":42,"user_metadata":"s","mfa_factors":null}`},
		{"raw numbers", &User{AppMetadata: json.RawMessage(`[ -0.5e+10 , 0 , 1E2 ]`)},
			`{"email":"","app_metadata":[-0.5e+10,0,1E2]}`},
		{"deep raw", &User{AppMetadata: json.RawMessage(strings.Repeat("[ ", 500) + strings.Repeat("] ", 500))},
			`{"email":"","app_metadata":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkSame(t, tt.user)
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAppendJSONInvalidRaw(t *testing.T) {
	for _, raw := range []string{
		"{", "}", `{"a":1,}`, `[1,]`, `1 2`, `tr ue`, `{} {}`, `{'a':1}`, "\"\x01\"", `"\x"`, "   ",
		`{"a" 1}`, `01`, `-`, `1.`, `nul`, `"unterminated`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		for field := range 3 {
			u := &User{Email: "a@b.co"}
			*[]*json.RawMessage{&u.AppMetadata, &u.UserMetadata, &u.MFAFactors}[field] = json.RawMessage(raw)
			checkSame(t, u)
			_, err := u.AppendJSON(nil)
			var me *json.MarshalerError
			var se *json.SyntaxError
			if !errors.As(err, &me) || !errors.As(err, &se) {
				t.Errorf("raw %.20q: error %v (%T), want a *json.MarshalerError wrapping a *json.SyntaxError", raw, err, err)
			}
		}
	}
}

// TestAppendJSONCoversEveryField sets every field, nested ones included,
// by reflection: a field added to User or its parts and not to AppendJSON
// fails here even if no other test sets it.
func TestAppendJSONCoversEveryField(t *testing.T) {
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[json.RawMessage]():
			v.SetBytes([]byte(`{"k": 1}`))
		case v.Kind() == reflect.String:
			v.SetString("s")
		case v.Kind() == reflect.Int:
			v.SetInt(7)
		case v.Kind() == reflect.Bool:
			v.SetBool(true)
		case v.Kind() == reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				fill(v.Field(i))
			}
		default:
			t.Fatalf("no filler for %s: teach this test and AppendJSON about it", v.Type())
		}
	}
	var u User
	fill(reflect.ValueOf(&u).Elem())
	checkSame(t, &u)
}

// TestAppendJSONRandom compares AppendJSON with encoding/json on users made
// of awkward strings and raw messages, some of them invalid.
func TestAppendJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 5000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		u := randomUser(r)
		want, wantErr := encodeStdlib(u)
		got, err := u.AppendJSON(nil)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || !bytes.Equal(got, want) {
			t.Fatalf("user %d: AppendJSON differs from encoding/json\nuser %#v\n got %q, %v\nwant %q, %v", i, u, got, err, want, wantErr)
		}
	}
}

// pieces are the fragments random strings are made of: each is a case of
// appendString's.
var pieces = []string{"a", "Zz", " ", "0", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f",
	"<", ">", "&", "\u2028", "\u2029", "\u2027", "é", "日本", "😀", "\ufffd", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "+1"}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return ""
	}
	var b strings.Builder
	for range r.IntN(8) + 1 {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomUser(r *rand.Rand) *User {
	s := func() string { return randomString(r) }
	b := func() *bool {
		if r.IntN(3) == 0 {
			return nil
		}
		v := r.IntN(2) == 0
		return &v
	}
	u := &User{Email: s(), EmailVerified: b(), PhoneNumber: s(), PhoneVerified: b(), UserID: s(), Username: s(),
		GivenName: s(), FamilyName: s(), Name: s(), Nickname: s(), Picture: s(), Blocked: b(), PasswordHash: s(),
		AppMetadata: randomRaw(r), UserMetadata: randomRaw(r), MFAFactors: randomRaw(r)}
	if r.IntN(2) == 0 {
		n := func() int { return []int{0, 0, 1, -1, 64, 1 << 40, -1 << 63}[r.IntN(7)] }
		c := &CustomPasswordHash{Algorithm: s(), Hash: HashValue{Value: s(), Encoding: s(), Digest: s()},
			KeyLen: n(), Cost: n(), BlockSize: n(), Parallelization: n()}
		if r.IntN(2) == 0 {
			c.Hash.Key = &HMACKey{Value: s(), Encoding: s()}
		}
		if r.IntN(2) == 0 {
			c.Salt = &Salt{Value: s(), Encoding: s(), Position: s()}
		}
		if r.IntN(2) == 0 {
			c.Password = &PasswordSpec{Encoding: s()}
		}
		u.CustomPasswordHash = c
	}
	return u
}

// randomRaw returns nil, a JSON value with random whitespace, or (one time
// in eight) such a value damaged, which may or may not leave it valid.
func randomRaw(r *rand.Rand) json.RawMessage {
	if r.IntN(3) == 0 {
		return nil
	}
	var b []byte
	b = randomValue(r, b, 3)
	b = append(b, randomSpace(r)...)
	if r.IntN(8) == 0 && len(b) > 0 {
		i := r.IntN(len(b))
		switch r.IntN(3) {
		case 0:
			b = b[:i]
		case 1:
			b = append(b[:i], b[i+1:]...)
		default:
			junk := []string{"{", "}", "[", "]", ",", ":", `"`, `\`, "x", "1", " ", "\x01", "\n"}[r.IntN(13)]
			b = append(b[:i], append([]byte(junk), b[i:]...)...)
		}
	}
	return b
}

func randomSpace(r *rand.Rand) string {
	return []string{"", "", "", " ", "\t", "\n", "\r\n  "}[r.IntN(7)]
}

// jsonStringPieces are valid inside a JSON string as written: escapes,
// spaces and bytes compaction must leave alone.
var jsonStringPieces = []string{"a", " ", "  ", `\"`, `\\`, `\n`, `\u2028`, `\/`, "\u2028", "<>&", "é", "😀", "\xff", "{", "}", ",", ":", "[ ]"}

func randomValue(r *rand.Rand, b []byte, depth int) []byte {
	b = append(b, randomSpace(r)...)
	kind := r.IntN(7)
	if depth == 0 {
		kind = 2 + r.IntN(5)
	}
	switch kind {
	case 0:
		b = append(b, '{')
		for i := range r.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, randomSpace(r)...)
			b = randomJSONString(r, b)
			b = append(b, randomSpace(r)...)
			b = append(b, ':')
			b = randomValue(r, b, depth-1)
			b = append(b, randomSpace(r)...)
		}
		b = append(b, randomSpace(r)...)
		b = append(b, '}')
	case 1:
		b = append(b, '[')
		for i := range r.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = randomValue(r, b, depth-1)
			b = append(b, randomSpace(r)...)
		}
		b = append(b, randomSpace(r)...)
		b = append(b, ']')
	case 2, 3:
		b = randomJSONString(r, b)
	case 4:
		b = append(b, []string{"0", "-1", "12.5", "1e9", "-0.0E-2"}[r.IntN(5)]...)
	default:
		b = append(b, []string{"true", "false", "null"}[r.IntN(3)]...)
	}
	return b
}

func randomJSONString(r *rand.Rand, b []byte) []byte {
	b = append(b, '"')
	for range r.IntN(5) {
		b = append(b, jsonStringPieces[r.IntN(len(jsonStringPieces))]...)
	}
	return append(b, '"')
}

// FuzzAppendJSON: for any strings, flags, numbers and raw messages,
// AppendJSON writes what encoding/json writes, or fails as it does.
func FuzzAppendJSON(f *testing.F) {
	f.Add("ana@example.com", "Ana Silva", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", uint32(0x1ff), 0,
		[]byte(`{"plan":"gold"}`), []byte(`{"lang":"en"}`), []byte(`[{"totp":{"secret":"JBSWY3DPEHPK3PXP"}}]`))
	f.Add("", "", "", uint32(0), 0, []byte(nil), []byte(nil), []byte(nil))
	f.Add("\"\\\x00\x1f\b\f\n\r\t", "<>&\u2028\u2029", "\xff\xc3\xed\xa0\x80😀", uint32(0xffffffff), -1,
		[]byte(" { \"a b\" : [ 1 , \"\\\" \" ] } "), []byte("\"\u2028<>\xff\""), []byte("\t\nnull\r\n"))
	f.Add("x", "y", "z", uint32(0xaaaaaaaa), 1<<40, []byte(`{"a":1,}`), []byte(`1 2`), []byte("   "))
	f.Add("a", "b", "c", uint32(0x55555555), 64, []byte(`[`), []byte(`{}`), []byte("\"\x01\""))
	f.Fuzz(func(t *testing.T, s0, s1, s2 string, set uint32, n int, app, usr, mfa []byte) {
		// Bits of set choose which fields are present; each takes one of
		// the three strings, so that every field meets every kind of input.
		bit := 0
		str := func() string {
			bit++
			if set&(1<<(bit%32)) == 0 {
				return ""
			}
			return [...]string{s0, s1, s2}[bit%3]
		}
		flag := func() *bool {
			bit++
			if set&(1<<(bit%32)) == 0 {
				return nil
			}
			v := bit%2 == 0
			return &v
		}
		u := &User{Email: s0, EmailVerified: flag(), PhoneNumber: str(), PhoneVerified: flag(), UserID: str(),
			Username: str(), GivenName: str(), FamilyName: str(), Name: str(), Nickname: str(), Picture: str(),
			Blocked: flag(), PasswordHash: str(), AppMetadata: app, UserMetadata: usr, MFAFactors: mfa}
		if set&1 != 0 {
			u.CustomPasswordHash = &CustomPasswordHash{Algorithm: str(),
				Hash:   HashValue{Value: str(), Encoding: str(), Digest: str(), Key: &HMACKey{Value: s1, Encoding: str()}},
				Salt:   &Salt{Value: s2, Encoding: str(), Position: str()},
				KeyLen: n, Cost: -n, BlockSize: n >> 3, Parallelization: n & 0xff}
			if set&(1<<31) != 0 {
				u.CustomPasswordHash.Password = &PasswordSpec{Encoding: str()}
			}
		}
		checkSame(t, u)
	})
}
