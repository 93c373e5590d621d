package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"provision/engine/hashes"
	"provision/engine/importuser"
	"provision/engine/source"
)

// Options tune the rules to the target connection.
type Options struct {
	Username UsernamePolicy
	// HashDefaults fill the hash-description columns (password_algorithm,
	// password_salt, salt_position, password_encoding) where a row leaves
	// them empty; the plan file sets them for exports that have no such
	// columns. HashDefaults.Hash is ignored.
	HashDefaults hashes.Input
	// MaxUserBytes, when set, marshals each valid user (Result.JSON) and
	// quarantines one that could not fit in an import file of that many
	// bytes even alone. Exports and migrations set it to the chunk limit.
	MaxUserBytes int
	// ExpectedRows sizes the duplicate index up front (0: grow as rows
	// come). An estimate is fine; callers derive it from the file size.
	ExpectedRows int
}

// Result is the verdict on one source row.
type Result struct {
	Line        int
	Row         source.Row
	User        importuser.User // what will be sent; meaningful only when !Quarantined
	Hash        hashes.Result
	Findings    []Finding
	Quarantined bool
	// JSON is User marshalled for an import file, set when
	// Options.MaxUserBytes is. In Run it shares memory with other rows of
	// its batch, reused once OnResult returns.
	JSON []byte
	keys [3]dupKey // email, username, user_id, hashed by checkRecord

	// Duplicate marks a row quarantined only because an earlier row has
	// the same email, username or user_id: the reconciliation counts it as
	// skipped, not as failed.
	Duplicate bool
}

// Validator checks rows one at a time. It remembers the keys of the valid
// rows it has seen, so it must see a file's rows in order, once.
type Validator struct {
	opts                      Options
	emails, usernames, userID dupIndex
	sink                      uint64
}

// New returns a Validator; zero Options mean Auth0's defaults.
func New(opts Options) *Validator {
	if opts.Username == (UsernamePolicy{}) {
		opts.Username = DefaultUsernamePolicy
	}
	n := opts.ExpectedRows
	return &Validator{opts: opts, emails: newDupIndex(n), usernames: newDupIndex(n), userID: newDupIndex(n)}
}

// Check validates one row and converts it to an import user.
func (v *Validator) Check(row source.Row) Result {
	var res Result
	v.checkRecord(&row, &res, nil)
	v.claimKeys(&res)
	return res
}

// checkRecord applies every rule that needs no other row. It only reads
// v.opts, so Run calls it from several goroutines at once.
// res is written in place: Run's batches hold the results, and reuse them.
// The user's JSON is appended to *buf, a buffer its batch reuses, when buf
// is not nil.
func (v *Validator) checkRecord(row *source.Row, res *Result, buf *[]byte) {
	*res = Result{Line: row.Line, Row: *row}
	if row.Broken != nil {
		res.Quarantined = true
		res.Hash.Family = "none"
		msg := row.Broken.Error()
		var re *source.RecordError
		if errors.As(row.Broken, &re) {
			msg = re.Reason // the finding carries the line already
		}
		res.Findings = []Finding{{Line: row.Line, Field: "*", Code: CodeBrokenRecord, Severity: SeverityError,
			Message: msg, Hint: "repair the record and run again; the rest of the file was read normally"}}
		return
	}
	c := checker{line: row.Line}
	u := &res.User

	u.Email, _ = c.one(checkEmail(row.Email))
	if row.Username != "" {
		u.Username, _ = c.one(checkUsername(row.Username, v.opts.Username))
	}
	u.EmailVerified = c.boolean("email_verified", row.EmailVerified)
	u.PhoneVerified = c.boolean("phone_verified", row.PhoneVerified)
	u.Blocked = c.boolean("blocked", row.Blocked)
	if row.UserID != "" {
		id, fs := checkUserID(row.UserID)
		c.add(fs...)
		u.UserID = id
	}
	if p := strings.TrimSpace(row.PhoneNumber); p != "" {
		u.PhoneNumber, _ = c.one(checkPhone(p))
	}
	u.GivenName, u.FamilyName, u.Name, u.Nickname = row.GivenName, row.FamilyName, row.Name, row.Nickname
	for i, val := range [...]string{u.GivenName, u.FamilyName, u.Name, u.Nickname} {
		if val != "" {
			c.addPtr(checkNameLength(nameLimits[i], val))
		}
	}
	if p := strings.TrimSpace(row.Picture); p != "" {
		u.Picture = p
		c.addPtr(checkPicture(p))
	}
	if row.AppMetadata != "" {
		m, fs := checkMetadata("app_metadata", row.AppMetadata)
		c.add(fs...)
		u.AppMetadata = m
	}
	if row.UserMetadata != "" {
		m, fs := checkMetadata("user_metadata", row.UserMetadata)
		c.add(fs...)
		u.UserMetadata = m
	}
	if strings.TrimSpace(row.MFAFactors) != "" {
		m, f := checkMFAFactors(row.MFAFactors)
		c.addPtr(f)
		u.MFAFactors = m
	}
	res.Hash = v.convertPassword(&c, row, u)

	if !c.failed && v.opts.MaxUserBytes > 0 {
		res.JSON = v.marshalWithin(&c, u, buf)
	}
	res.Findings = c.findings
	res.Quarantined = c.failed
	if !c.failed {
		for i, value := range [...]string{u.Email, u.Username, u.UserID} {
			if value != "" {
				res.keys[i] = keyOf(value)
			}
		}
	}
}

// marshalWithin marshals u as the import file will hold it and checks that
// it fits in one file ("[" + user + "]").
func (v *Validator) marshalWithin(c *checker, u *importuser.User, buf *[]byte) []byte {
	// AppendJSON writes what a json.Encoder with SetEscapeHTML(false)
	// writes, as the chunker does: <, >, & need no escaping in JSON. Run
	// appends every user of a batch to one reused buffer, so a million
	// users are marshalled without a million allocations; on its own, a
	// user gets 512 bytes plus its metadata, which holds a typical one.
	var dst []byte
	if buf != nil {
		dst = *buf
	} else {
		dst = make([]byte, 0, 512+len(u.AppMetadata)+len(u.UserMetadata)+len(u.MFAFactors))
	}
	start := len(dst)
	out, err := u.AppendJSON(dst)
	if err != nil {
		c.add(Finding{Field: "*", Code: CodeUserTooLarge, Severity: SeverityError,
			Message: "the user cannot be written as JSON: " + err.Error(), Hint: "check the metadata columns"})
		return nil
	}
	doc := out[start:len(out):len(out)]
	if need := len(doc) + 2; need > v.opts.MaxUserBytes {
		c.add(Finding{Field: "*", Code: CodeUserTooLarge, Severity: SeverityError,
			Message: fmt.Sprintf("the user takes %d bytes in an import file; a file may hold at most %d", need, v.opts.MaxUserBytes),
			Hint:    "shorten app_metadata or user_metadata, or create this user through the Management API instead"})
		return nil
	}
	if buf != nil {
		*buf = out
	}
	return doc
}

// convertPassword fills u's password_hash or custom_password_hash.
func (v *Validator) convertPassword(c *checker, row *source.Row, u *importuser.User) hashes.Result {
	custom := strings.TrimSpace(row.CustomPasswordHash)
	legacy := strings.TrimSpace(row.PasswordHash)
	if custom != "" && legacy != "" {
		c.add(Finding{Field: "custom_password_hash", Code: CodeHashConflict, Severity: SeverityError,
			Message: "the row has both password_hash and custom_password_hash; Auth0 accepts only one",
			Hint:    "keep the one that matches how the password was hashed and empty the other"})
		return hashes.Result{Family: "conflict"}
	}
	if custom != "" {
		return v.readyMadeCustom(c, custom, u)
	}
	in := hashes.Input{Hash: legacy, Algorithm: row.PasswordAlgorithm, Salt: row.PasswordSalt,
		SaltPosition: row.SaltPosition, Encoding: row.PasswordEncoding}
	if legacy != "" {
		d := v.opts.HashDefaults
		in.Algorithm = firstNonEmpty(in.Algorithm, d.Algorithm)
		in.Salt = firstNonEmpty(in.Salt, d.Salt)
		in.SaltPosition = firstNonEmpty(in.SaltPosition, d.SaltPosition)
		in.Encoding = firstNonEmpty(in.Encoding, d.Encoding)
	}
	in.Algorithm = strings.ToLower(strings.TrimSpace(in.Algorithm))
	in.SaltPosition = strings.ToLower(strings.TrimSpace(in.SaltPosition))
	in.Encoding = strings.ToLower(strings.TrimSpace(in.Encoding))
	res, err := hashes.Convert(in)
	if err != nil {
		c.add(hashFinding(err))
		if res.Family == "" {
			res.Family = "invalid"
		}
		return res
	}
	for _, w := range res.Warnings {
		c.add(Finding{Field: "password_hash", Code: hashWarningCode(w.Code), Severity: SeverityWarning, Message: w.Message, Hint: w.Hint})
	}
	switch {
	case res.Family == "none" || legacy == "":
		res.Family = "none"
	case !res.Importable:
		c.add(Finding{Field: "password_hash", Code: CodePasswordNotImported, Severity: SeverityWarning,
			Message: fmt.Sprintf("password cannot be imported: Auth0 does not accept %s hashes; the user must reset it, or use automatic migration", res.Family),
			Hint:    "plan automatic migration (the legacy store checks the password at first login) or tell these users to reset their password"})
	case res.Custom != nil:
		u.CustomPasswordHash = res.Custom
	default:
		u.PasswordHash = res.PasswordHash
	}
	return res
}

// readyMadeCustom takes a custom_password_hash the source already has in
// Auth0's form (e.g. a JSON export prepared for Auth0).
func (v *Validator) readyMadeCustom(c *checker, text string, u *importuser.User) hashes.Result {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var ch importuser.CustomPasswordHash
	if err := dec.Decode(&ch); err != nil {
		c.add(Finding{Field: "custom_password_hash", Code: CodeHashInvalid, Severity: SeverityError,
			Message: "custom_password_hash is not a valid object: " + redactJSONError(err),
			Hint:    "follow Auth0's custom_password_hash schema: algorithm, hash {value, encoding}, salt {value, position}"})
		return hashes.Result{Family: "invalid"}
	}
	if err := hashes.CheckCustom(&ch); err != nil {
		f := hashFinding(err)
		f.Field = "custom_password_hash"
		c.add(f)
		return hashes.Result{Family: familyOr(ch.Algorithm)}
	}
	u.CustomPasswordHash = &ch
	return hashes.Result{Family: ch.Algorithm, Importable: true, Custom: &ch}
}

// claimKeys is the duplicate check: the first valid row with an email,
// username or user_id keeps it, and a later row with the same one is
// quarantined, naming the first. It must see rows in source order.
func (v *Validator) claimKeys(res *Result) {
	if res.Quarantined {
		return
	}
	u := &res.User
	keys := [...]struct {
		idx   *dupIndex
		field string
		code  string
		value string
	}{
		{&v.emails, "email", CodeDuplicateEmail, u.Email},
		{&v.usernames, "username", CodeDuplicateUsername, u.Username},
		{&v.userID, "user_id", CodeDuplicateUserID, u.UserID},
	}
	var sink uint64
	for i, k := range keys {
		if k.value != "" {
			sink |= k.idx.touch(res.keys[i])
		}
	}
	v.sink = sink // keeps the loads from being optimised away
	for i, k := range keys {
		if k.value == "" {
			continue
		}
		if first, dup := k.idx.lookup(res.keys[i]); dup {
			res.Findings = append(res.Findings, Finding{Line: res.Line, Field: k.field, Code: k.code, Severity: SeverityError,
				Message: fmt.Sprintf("%s %q already appears on line %d; the first occurrence is kept", k.field, clip(k.value), first),
				Hint:    fmt.Sprintf("merge the two accounts, or change the %s of one of them", k.field)})
			res.Duplicate = true
		}
	}
	if res.Duplicate {
		res.Quarantined = true
		res.JSON = nil
		return
	}
	// Only valid rows claim their keys, so that a later valid copy of a
	// quarantined row can still be imported.
	for i, k := range keys {
		if k.value != "" {
			k.idx.add(res.keys[i], res.Line)
		}
	}
}

// checker accumulates one row's findings.
type checker struct {
	line     int
	findings []Finding
	failed   bool
}

func (c *checker) add(fs ...Finding) {
	for _, f := range fs {
		f.Line = c.line
		if f.Severity == SeverityError {
			c.failed = true
		}
		c.findings = append(c.findings, f)
	}
}

func (c *checker) addPtr(f *Finding) {
	if f != nil {
		c.add(*f)
	}
}

// one records f (if any) and passes the value through.
func (c *checker) one(v string, f *Finding) (string, bool) {
	c.addPtr(f)
	return v, f == nil
}

func (c *checker) boolean(field, raw string) *bool {
	b, f := parseBool(field, raw)
	c.addPtr(f)
	return b
}

func hashFinding(err error) Finding {
	if he, ok := err.(*hashes.Error); ok {
		return Finding{Field: "password_hash", Code: hashCode(he.Code), Severity: SeverityError, Message: he.Message, Hint: he.Hint}
	}
	return Finding{Field: "password_hash", Code: CodeHashInvalid, Severity: SeverityError, Message: err.Error(),
		Hint: "check the password columns (password_hash, password_algorithm, password_salt, salt_position, password_encoding)"}
}

// redactJSONError keeps a decoding error's position but never the value
// that failed, which may be a hash.
func redactJSONError(err error) string {
	switch e := err.(type) {
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q has the wrong type (want %s)", e.Field, e.Type)
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field") {
		return strings.TrimPrefix(msg, "json: ")
	}
	return "invalid JSON"
}

// hashCode gives hash problems codes in the report's style
// (HASH_UNSUPPORTED_VARIANT), whatever the hashes package calls them.
func hashCode(code string) string {
	if code == "" {
		return CodeHashInvalid
	}
	code = strings.ToUpper(code)
	if !strings.HasPrefix(code, "HASH_") {
		code = "HASH_" + code
	}
	return code
}

func firstNonEmpty(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func hashWarningCode(code string) string {
	if code == "" {
		return CodeHashWarning
	}
	return hashCode(code)
}

func familyOr(alg string) string {
	if alg == "" {
		return "invalid"
	}
	return alg
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Message < fs[j].Message })
}
