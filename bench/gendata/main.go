// Command gendata writes a large, realistic legacy user export for
// benchmarks: the shape of fixtures' demo-users.csv (without its legacy
// signup_source column) at any size.
//
// Usage:
//
//	go run ./bench/gendata -rows 1000000 -out /tmp/users-1m.csv [-seed 1] [-format csv|ndjson]
//
// -out - writes to standard output. The file is created with mode 0600,
// since it holds password hashes. Rows, bytes and elapsed time are printed
// to standard error. The same -rows, -seed and -format give the same bytes.
//
// What the rows hold:
//   - unique emails (ignoring case) in several scripts' transliterations,
//     a username for about half, given, family and full names (Latin with
//     accents, Cyrillic, Greek, Han, Arabic, Devanagari), E.164 phone numbers
//     for about 30%, a numeric user_id for all, JSON metadata for some;
//   - real password hashes, made once into a small pool and then reused:
//     bcrypt $2b$ cost 10 for about 85% of rows, pbkdf2-sha512 in PHC form
//     and LDAP {SSHA} for about 5% each, no password for the rest. Hashing
//     per row would take hours at cost 10; a pool keeps generation at a few
//     seconds per million rows while every hash still verifies;
//   - about 0.5% deliberate errors, so validation has findings: half are
//     malformed emails (no "@", a space inside), half repeat an earlier
//     row's email with different capitalisation.
//
// Usernames, emails and phone numbers are unique up to 100 million rows.
// CSV output quotes cells as encoding/csv would; NDJSON output has one
// object per line, with booleans as JSON booleans and metadata as objects.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"provision/fixtures/legacyhash"
)

// columns are the CSV header: demo-users.csv's, less signup_source.
var columns = []string{
	"email", "email_verified", "given_name", "family_name", "name", "nickname", "username",
	"phone_number", "blocked", "user_id", "app_metadata", "user_metadata",
	"password_hash", "password_algorithm", "password_salt", "salt_position", "password_encoding",
}

// maxRows bounds -rows so that the permuted numbers that make emails,
// usernames and phones unique never wrap.
const maxRows = 100_000_000

func main() {
	rows := flag.Int("rows", 1_000_000, "number of user rows to write")
	out := flag.String("out", "", "output file (required; - for standard output)")
	seed := flag.Uint64("seed", 1, "seed: the same seed gives the same file")
	format := flag.String("format", "csv", "csv or ndjson")
	flag.Parse()

	if err := run(*rows, *out, *seed, *format, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(2)
	}
}

func run(rows int, out string, seed uint64, format string, log io.Writer) (err error) {
	switch {
	case out == "":
		return errors.New("-out is required (use - for standard output)")
	case rows < 1 || rows > maxRows:
		return fmt.Errorf("-rows %d is outside 1..%d", rows, maxRows)
	case format != "csv" && format != "ndjson":
		return fmt.Errorf("-format %q is not csv or ndjson", format)
	}
	start := time.Now()

	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		// OpenFile keeps the mode of a file that already existed. Only a
		// regular file is changed: -out /dev/null must stay as it is.
		if fi, err := f.Stat(); err != nil {
			return err
		} else if fi.Mode().IsRegular() {
			if err := f.Chmod(0o600); err != nil {
				return err
			}
		}
		w = f
	}

	g, err := newGenerator(seed, rows)
	if err != nil {
		return err
	}
	poolTime := time.Since(start)

	bw := bufio.NewWriterSize(w, 1<<20)
	var stats stats
	if format == "csv" {
		stats, err = g.writeCSV(bw, rows)
	} else {
		stats, err = g.writeNDJSON(bw, rows)
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(log, "gendata: %d rows, %d bytes (%.1f MB) in %s (hash pool %s; %.0f rows/s); planted %d bad and %d duplicate emails\n",
		rows, stats.bytes, float64(stats.bytes)/1e6, took.Round(time.Millisecond), poolTime.Round(time.Millisecond),
		float64(rows)/took.Seconds(), stats.badEmails, stats.dupEmails)
	return nil
}

type stats struct {
	bytes                int64
	badEmails, dupEmails int
}

// name is a given or family name with the ASCII form addresses use.
type name struct{ native, ascii string }

// culture is a pool of names that go together.
type culture struct {
	given, family []name
	// familyFirst writes the full name family name first, without a space,
	// as Chinese, Japanese and Korean names are.
	familyFirst bool
}

func n(native, ascii string) name { return name{native, ascii} }

var (
	english = culture{
		given:  []name{n("James", "james"), n("Mary", "mary"), n("Olivia", "olivia"), n("Daniel", "daniel"), n("Sarah", "sarah"), n("Ryan", "ryan")},
		family: []name{n("Smith", "smith"), n("Johnson", "johnson"), n("Brown", "brown"), n("O'Brien", "obrien"), n("Taylor", "taylor"), n("Nguyen", "nguyen")},
	}
	cultures = []culture{
		english, english, english,
		{given: []name{n("Amélie", "amelie"), n("François", "francois"), n("Hélène", "helene"), n("Benoît", "benoit")},
			family: []name{n("Lefèvre", "lefevre"), n("Dupré", "dupre"), n("Lemaître", "lemaitre"), n("Girard", "girard")}},
		{given: []name{n("Jürgen", "juergen"), n("Sophie", "sophie"), n("Björn", "bjoern"), n("Käthe", "kaethe")},
			family: []name{n("Müller", "mueller"), n("Schröder", "schroeder"), n("Weiß", "weiss"), n("Becker", "becker")}},
		{given: []name{n("José", "jose"), n("Lucía", "lucia"), n("João", "joao"), n("Íñigo", "inigo")},
			family: []name{n("García", "garcia"), n("Núñez", "nunez"), n("Gonçalves", "goncalves"), n("Peña", "pena")}},
		{given: []name{n("Дмитрий", "dmitry"), n("Анна", "anna"), n("Олена", "olena"), n("Сергей", "sergey")},
			family: []name{n("Шевченко", "shevchenko"), n("Мельник", "melnyk"), n("Ткаченко", "tkachenko"), n("Кравчук", "kravchuk")}},
		{given: []name{n("Γιώργος", "giorgos"), n("Ελένη", "eleni"), n("Νίκος", "nikos")},
			family: []name{n("Οικονόμου", "oikonomou"), n("Γεωργίου", "georgiou"), n("Νικολάου", "nikolaou")}},
		{given: []name{n("伟", "wei"), n("秀英", "xiuying"), n("浩然", "haoran"), n("婷", "ting")},
			family: []name{n("王", "wang"), n("李", "li"), n("张", "zhang"), n("陈", "chen")}, familyFirst: true},
		{given: []name{n("翔太", "shota"), n("結衣", "yui"), n("さくら", "sakura")},
			family: []name{n("佐藤", "sato"), n("鈴木", "suzuki"), n("田中", "tanaka")}, familyFirst: true},
		{given: []name{n("서연", "seoyeon"), n("민준", "minjun"), n("하은", "haeun")},
			family: []name{n("김", "kim"), n("이", "lee"), n("박", "park")}, familyFirst: true},
		{given: []name{n("محمد", "mohammed"), n("فاطمة", "fatima"), n("ليلى", "layla")},
			family: []name{n("الحسن", "alhassan"), n("حداد", "haddad"), n("منصور", "mansour")}},
		{given: []name{n("राहुल", "rahul"), n("प्रिया", "priya"), n("अमित", "amit")},
			family: []name{n("शर्मा", "sharma"), n("पटेल", "patel"), n("गुप्ता", "gupta")}},
	}
	domains = []string{
		"example.com", "example.net", "example.org", "mail.example", "inbox.example", "post.example",
		"courriel.example", "pochta.example", "youxiang.example", "daak.example", "larkspur.example",
	}
	// Metadata templates; a benchmark needs their cost, not their variety.
	appMetadata = []string{
		`{"loyalty_tier":"gold","member_since":"2016-04-12"}`,
		`{"legacy_plan":"premium","seats":3}`,
		`{"crm_id":"0015g0000ABCDEFGHI"}`,
		`{"office":"Lisbon","roles":["agent"]}`,
	}
	userMetadata = []string{
		`{"locale":"en-US","newsletter":true}`,
		`{"locale":"fr-FR","newsletter":false,"timezone":"Europe/Paris"}`,
		`{"locale":"ru-RU","newsletter":true,"preferred_name":"Анна"}`,
		`{"locale":"ja-JP","newsletter":false,"seat_preference":"window","timezone":"Asia/Tokyo"}`,
	}
)

// hashPool holds the real hashes rows draw from.
type hashPool struct {
	bcrypt, pbkdf2, ssha []string
}

// poolPasswords are the plaintexts behind the pool, so a benchmark of
// verification knows which password matches each hash.
var poolPasswords = []string{
	"Sunflower1987!", "m0nk3y2020", "liverpool-ocean-lamp", "Qwerty!234", "bonjour77",
	"P@ssw0rd2019", "coffee-kiwi-river", "Dragon1995$",
}

// generator makes rows. Its numbers go through a permutation of
// [0, 10^k) so that the suffixes that make emails and usernames unique do
// not read as a row counter.
type generator struct {
	r       *rand.Rand
	pool    hashPool
	permMod uint64 // 10^k >= rows
	ring    [4096][]byte
	ringN   int
}

func newGenerator(seed uint64, rows int) (*generator, error) {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x70726f766973696f))}
	g.permMod = 10
	for g.permMod < uint64(rows) {
		g.permMod *= 10
	}
	pool, err := makePool(g.r)
	if err != nil {
		return nil, err
	}
	g.pool = pool
	return g, nil
}

// makePool computes the hash pool in parallel: at cost 10 a bcrypt hash
// costs tens of milliseconds, which is the reason for a pool. Salts are
// drawn first, in order, so the pool depends only on the seed.
func makePool(r *rand.Rand) (hashPool, error) {
	salt := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	n := len(poolPasswords)
	p := hashPool{bcrypt: make([]string, n), pbkdf2: make([]string, n/2), ssha: make([]string, n/2)}
	var jobs []func() error
	for i, pw := range poolPasswords {
		s := [legacyhash.BcryptSaltSize]byte(salt(legacyhash.BcryptSaltSize))
		jobs = append(jobs, func() (err error) {
			p.bcrypt[i], err = legacyhash.Bcrypt(pw, 10, s, "2b")
			return err
		})
	}
	for i := range n / 2 {
		s16, s4 := salt(16), salt(4)
		jobs = append(jobs, func() (err error) {
			p.pbkdf2[i], err = legacyhash.PBKDF2PHC("sha512", poolPasswords[i], s16, 100000, 64)
			return err
		}, func() (err error) {
			p.ssha[i], err = legacyhash.LDAP("SSHA", poolPasswords[n/2+i], s4)
			return err
		})
	}

	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				errs[i] = jobs[i]()
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return p, errors.Join(errs...)
}

// perm maps i to a distinct number below g.permMod: multiplying by a
// number coprime to 10^k is a bijection modulo 10^k.
func (g *generator) perm(i int, salt uint64) uint64 {
	return (uint64(i)*7_919 + salt) % g.permMod
}

// row is one user. Its byte slices are buffers reused from row to row, and
// its strings point into the tables, so making a row allocates nothing.
type row struct {
	email, username, phone []byte
	given, family          name
	familyFirst            bool
	nickname               string
	verified, verifiedSet  bool
	blocked                bool
	userID                 int
	app, user              string
	hash                   string
}

// next fills r with row i.
func (g *generator) next(i int, r *row, st *stats) {
	rnd := g.r
	c := &cultures[rnd.IntN(len(cultures))]
	r.given = c.given[rnd.IntN(len(c.given))]
	r.family = c.family[rnd.IntN(len(c.family))]
	r.familyFirst = c.familyFirst

	// The email: a pattern of the names, then a permuted number. Names
	// have no digits, so the number alone makes the address unique.
	e := r.email[:0]
	switch rnd.IntN(5) {
	case 0:
		e = append(append(append(e, r.given.ascii...), '.'), r.family.ascii...)
	case 1:
		e = append(append(e, r.given.ascii...), r.family.ascii...)
	case 2:
		e = append(append(append(e, r.given.ascii...), '_'), r.family.ascii...)
	case 3:
		e = append(append(e, r.given.ascii[0]), r.family.ascii...)
	default:
		e = append(append(append(e, r.family.ascii...), '.'), r.given.ascii...)
	}
	e = strconv.AppendUint(e, g.perm(i, 17), 10)
	e = append(append(e, '@'), domains[rnd.IntN(len(domains))]...)

	// Planted errors, one row in two hundred.
	switch {
	case rnd.IntN(200) != 0:
		slot := g.ringN % len(g.ring)
		g.ring[slot] = append(g.ring[slot][:0], e...)
		g.ringN++
	case rnd.IntN(2) == 0 && g.ringN > 0:
		// An earlier row's address, capitalised: the same to Auth0, which
		// lower-cases emails.
		e = append(e[:0], g.ring[rnd.IntN(min(g.ringN, len(g.ring)))]...)
		e[0] -= 'a' - 'A'
		st.dupEmails++
	default:
		at := bytes.IndexByte(e, '@')
		if rnd.IntN(2) == 0 {
			e[at] = '.' // "bob.example.com"
		} else {
			e = slices.Insert(e, at, ' ')
		}
		st.badEmails++
	}
	r.email = e

	r.username = r.username[:0]
	if rnd.IntN(2) == 0 {
		var nb [20]byte
		num := strconv.AppendUint(nb[:0], g.perm(i, 4242), 10)
		keep := min(len(r.given.ascii), 15-1-len(num))
		r.username = append(append(append(r.username, r.given.ascii[:keep]...), '_'), num...)
	}

	r.phone = r.phone[:0]
	if rnd.IntN(10) < 3 {
		// +44 79xx xxxxxx, unique through the permuted number.
		n := g.perm(i, 99991)
		var digits [8]byte
		for k := len(digits) - 1; k >= 0; k-- {
			digits[k] = byte('0' + n%10)
			n /= 10
		}
		r.phone = append(append(r.phone, "+4479"...), digits[:]...)
	}

	r.nickname = ""
	if rnd.IntN(2) == 0 {
		r.nickname = r.given.native
	}
	r.verifiedSet = rnd.IntN(20) != 0
	r.verified = rnd.IntN(10) < 7
	r.blocked = rnd.IntN(50) == 0
	r.userID = 1_000_000 + i
	r.app, r.user = "", ""
	if rnd.IntN(5) == 0 {
		r.app = appMetadata[rnd.IntN(len(appMetadata))]
	}
	if rnd.IntN(4) == 0 {
		r.user = userMetadata[rnd.IntN(len(userMetadata))]
	}
	switch x := rnd.IntN(100); {
	case x < 85:
		r.hash = g.pool.bcrypt[rnd.IntN(len(g.pool.bcrypt))]
	case x < 90:
		r.hash = g.pool.pbkdf2[rnd.IntN(len(g.pool.pbkdf2))]
	case x < 95:
		r.hash = g.pool.ssha[rnd.IntN(len(g.pool.ssha))]
	default:
		r.hash = ""
	}
}

func (r *row) appendName(dst []byte) []byte {
	if r.familyFirst {
		return append(append(dst, r.family.native...), r.given.native...)
	}
	return append(append(append(dst, r.given.native...), ' '), r.family.native...)
}

// write generates rows rows, renders each with render and writes it.
func (g *generator) write(w io.Writer, rows int, first []byte, render func(dst []byte, r *row) []byte) (stats, error) {
	var st stats
	n, err := w.Write(first)
	st.bytes += int64(n)
	var r row
	var buf []byte
	for i := 0; i < rows && err == nil; i++ {
		g.next(i, &r, &st)
		buf = render(buf[:0], &r)
		n, err = w.Write(buf)
		st.bytes += int64(n)
	}
	return st, err
}

func (g *generator) writeCSV(w io.Writer, rows int) (stats, error) {
	header := []byte(strings.Join(columns, ",") + "\n")
	return g.write(w, rows, header, func(b []byte, r *row) []byte {
		b = append(appendCSV(b, r.email), ',')
		if r.verifiedSet {
			b = strconv.AppendBool(b, r.verified)
		}
		b = append(appendCSV(append(b, ','), r.given.native), ',')
		b = append(appendCSV(b, r.family.native), ',')
		start := len(b)
		b = r.appendName(b)
		if needsQuotes(b[start:]) {
			b = appendCSV(b[:start], string(b[start:]))
		}
		b = append(appendCSV(append(b, ','), r.nickname), ',')
		b = append(append(b, r.username...), ',')
		b = append(append(b, r.phone...), ',')
		b = append(strconv.AppendBool(b, r.blocked), ',')
		b = append(strconv.AppendInt(b, int64(r.userID), 10), ',')
		b = append(appendCSV(b, r.app), ',')
		b = append(appendCSV(b, r.user), ',')
		// PHC hashes hold commas ("i=100000,l=64"), so they too go through
		// appendCSV. They describe themselves: the other password columns
		// stay empty.
		return append(appendCSV(b, r.hash), ",,,,\n"...)
	})
}

func (g *generator) writeNDJSON(w io.Writer, rows int) (stats, error) {
	return g.write(w, rows, nil, func(b []byte, r *row) []byte {
		b = appendJSONString(append(b, `{"email":`...), r.email)
		if r.verifiedSet {
			b = strconv.AppendBool(append(b, `,"email_verified":`...), r.verified)
		}
		b = appendJSONString(append(b, `,"given_name":`...), r.given.native)
		b = appendJSONString(append(b, `,"family_name":`...), r.family.native)
		b = append(b, `,"name":"`...)
		b = append(r.appendName(b), '"') // names hold nothing JSON escapes
		if r.nickname != "" {
			b = appendJSONString(append(b, `,"nickname":`...), r.nickname)
		}
		if len(r.username) > 0 {
			b = appendJSONString(append(b, `,"username":`...), r.username)
		}
		if len(r.phone) > 0 {
			b = appendJSONString(append(b, `,"phone_number":`...), r.phone)
		}
		b = strconv.AppendBool(append(b, `,"blocked":`...), r.blocked)
		b = append(strconv.AppendInt(append(b, `,"user_id":"`...), int64(r.userID), 10), '"')
		if r.app != "" {
			b = append(append(b, `,"app_metadata":`...), r.app...)
		}
		if r.user != "" {
			b = append(append(b, `,"user_metadata":`...), r.user...)
		}
		if r.hash != "" {
			b = appendJSONString(append(b, `,"password_hash":`...), r.hash)
		}
		return append(b, "}\n"...)
	})
}

// needsQuotes is encoding/csv's rule: a separator, quote or line break
// anywhere, or a leading space.
func needsQuotes[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' {
		return true
	}
	for i := range len(s) {
		switch s[i] {
		case ',', '"', '\n', '\r':
			return true
		}
	}
	return false
}

// appendCSV appends s as a CSV cell, quoted only when it must be.
func appendCSV[T string | []byte](dst []byte, s T) []byte {
	if !needsQuotes(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := range len(s) {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string. UTF-8 passes through; only
// quotes, backslashes and control characters are escaped.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
