package sandbox

import (
	"cmp"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"provision/engine/hashes"
	"provision/engine/importuser"
)

// importer applies one import file's users to a connection, one after
// the other, with Auth0's rules (docs/auth0.md §1–§2):
//
//  1. the element must satisfy Auth0's user schema (schemaErrors);
//  2. then the profile limits and rules the schema does not express
//     (profileErrors);
//  3. an email, username or user_id already seen earlier in the same file
//     fails with DUPLICATED_USER: the first occurrence wins, and Auth0 does
//     not insert and then update;
//  4. without upsert, a user matching an existing one on email, user_id,
//     username or phone number fails with DUPLICATED_USER;
//  5. with upsert, the user matching on email is updated with the
//     upsertable attributes only; when user_id, username or phone number
//     belong to another user, the user fails with CONFLICT_EMAIL,
//     CONFLICT_USERNAME or CONFLICT respectively.
type importer struct {
	st     state
	conn   *connectionRecord
	opts   connectionOptions
	upsert bool
	now    time.Time
	seen   map[string]bool
}

type importResult struct {
	summary Summary
	errors  []JobUserError
}

type outcome int

const (
	outcomeFailed outcome = iota
	outcomeInserted
	outcomeUpdated
)

func newImporter(st state, conn *connectionRecord, upsert bool, now time.Time) *importer {
	return &importer{st: st, conn: conn, opts: conn.options(), upsert: upsert, now: now, seen: map[string]bool{}}
}

func (im *importer) run(elements []json.RawMessage) (importResult, error) {
	var res importResult
	res.summary.Total = len(elements)
	for _, raw := range elements {
		out, errs, err := im.importOne(raw)
		if err != nil {
			return res, err
		}
		switch out {
		case outcomeInserted:
			res.summary.Inserted++
		case outcomeUpdated:
			res.summary.Updated++
		default:
			res.summary.Failed++
			res.errors = append(res.errors, JobUserError{User: redactUserJSON(raw), Errors: errs})
		}
	}
	return res, nil
}

func (im *importer) importOne(raw json.RawMessage) (outcome, []UserError, error) {
	if errs := schemaErrors(raw); len(errs) > 0 {
		return outcomeFailed, errs, nil
	}
	var (
		u      importuser.User
		fields map[string]json.RawMessage
	)
	if err := json.Unmarshal(raw, &u); err != nil {
		return outcomeFailed, []UserError{{Code: "INVALID_TYPE", Message: err.Error()}}, nil
	}
	_ = json.Unmarshal(raw, &fields) // an object: the schema said so
	u.Email = strings.ToLower(u.Email)
	u.Username = strings.ToLower(u.Username)

	if errs := im.profileErrors(&u, fields); len(errs) > 0 {
		return outcomeFailed, errs, nil
	}
	if ue, dup := im.duplicateInFile(&u); dup {
		return outcomeFailed, []UserError{ue}, nil
	}

	st, connID := im.st, im.conn.ID
	byEmail, err := st.userBy(bucketByEmail, connID, u.Email)
	if err != nil {
		return 0, nil, err
	}
	var byUserID *userRecord
	if u.UserID != "" {
		if byUserID, err = st.user(fullUserID(u.UserID)); err != nil {
			return 0, nil, err
		}
	}
	byUsername, err := st.userBy(bucketByUsername, connID, u.Username)
	if err != nil {
		return 0, nil, err
	}
	byPhone, err := st.userBy(bucketByPhone, connID, u.PhoneNumber)
	if err != nil {
		return 0, nil, err
	}

	if !im.upsert {
		if byEmail != nil || byUserID != nil || byUsername != nil || byPhone != nil {
			// Auth0's message, word for word.
			return outcomeFailed, []UserError{{Code: "DUPLICATED_USER", Message: "The user already exist and upsert parameter is false"}}, nil
		}
		return outcomeInserted, nil, im.insert(&u)
	}

	var conflicts []UserError
	for _, c := range []struct {
		other       *userRecord
		code, field string
	}{
		{byUserID, "CONFLICT_EMAIL", "user_id"},
		{byUsername, "CONFLICT_USERNAME", "username"},
		{byPhone, "CONFLICT", "phone_number"},
	} {
		if c.other != nil && (byEmail == nil || c.other.UserID != byEmail.UserID) {
			conflicts = append(conflicts, UserError{Code: c.code, Path: c.field,
				Message: fmt.Sprintf("A user with this %s already exists with a different email", c.field)})
		}
	}
	if len(conflicts) > 0 {
		return outcomeFailed, conflicts, nil
	}
	if byEmail == nil {
		return outcomeInserted, nil, im.insert(&u)
	}
	return outcomeUpdated, nil, im.update(byEmail, &u, fields)
}

// duplicateInFile remembers the identifiers of each valid user and fails
// a later user that repeats one.
func (im *importer) duplicateInFile(u *importuser.User) (UserError, bool) {
	ids := []struct{ field, value string }{{"email", u.Email}, {"username", u.Username}, {"user_id", u.UserID}}
	for _, id := range ids {
		if id.value != "" && im.seen[id.field+"\x00"+id.value] {
			return UserError{Code: "DUPLICATED_USER", Path: id.field,
				Message: fmt.Sprintf("A user with this %s was already provided.", id.field)}, true
		}
	}
	for _, id := range ids {
		if id.value != "" {
			im.seen[id.field+"\x00"+id.value] = true
		}
	}
	return UserError{}, false
}

// Auth0 prefixes the connection strategy to an imported user_id, also one
// that already starts with "auth0|" (docs/auth0.md §2).
func fullUserID(id string) string { return "auth0|" + id }

func (im *importer) insert(u *importuser.User) error {
	id := u.UserID
	if id == "" {
		id = newUserID()
	}
	local := u.Email[:strings.LastIndexByte(u.Email, '@')]
	seq, err := im.st.nextSeq(metaUserSeq)
	if err != nil {
		return err
	}
	rec := &userRecord{
		Seq: seq,
		User: User{
			UserID:        fullUserID(id),
			Email:         u.Email,
			EmailVerified: deref(u.EmailVerified),
			Username:      u.Username,
			PhoneNumber:   u.PhoneNumber,
			PhoneVerified: u.PhoneVerified,
			GivenName:     u.GivenName,
			FamilyName:    u.FamilyName,
			Name:          cmp.Or(u.Name, u.Email),
			Nickname:      cmp.Or(u.Nickname, local),
			Picture:       cmp.Or(u.Picture, defaultPicture(u.Email, local)),
			Blocked:       deref(u.Blocked),
			AppMetadata:   u.AppMetadata,
			UserMetadata:  u.UserMetadata,
			Identities:    []Identity{{Connection: im.conn.Name, UserID: id, Provider: "auth0"}},
			CreatedAt:     Timestamp{im.now},
			UpdatedAt:     Timestamp{im.now},
		},
		ConnectionID:       im.conn.ID,
		PasswordHash:       u.PasswordHash,
		CustomPasswordHash: u.CustomPasswordHash,
		MFAFactors:         u.MFAFactors,
	}
	if err := im.st.putUser(rec); err != nil {
		return err
	}
	return im.st.countImport(u.Email, true)
}

// update applies an upsert: only the attributes Auth0 lists as
// upsertable, and only those the file carries. Metadata is replaced, not
// merged. password_hash counts only on first import; a
// custom_password_hash replaces the credentials while the user has never
// logged in with the old ones.
func (im *importer) update(rec *userRecord, u *importuser.User, fields map[string]json.RawMessage) error {
	has := func(k string) bool { _, ok := fields[k]; return ok }
	for _, f := range []struct {
		key string
		dst *string
		v   string
	}{
		{"given_name", &rec.GivenName, u.GivenName},
		{"family_name", &rec.FamilyName, u.FamilyName},
		{"name", &rec.Name, u.Name},
		{"nickname", &rec.Nickname, u.Nickname},
		{"picture", &rec.Picture, u.Picture},
	} {
		if has(f.key) {
			*f.dst = f.v
		}
	}
	if has("email_verified") {
		rec.EmailVerified = deref(u.EmailVerified)
	}
	if has("app_metadata") {
		rec.AppMetadata = u.AppMetadata
	}
	if has("user_metadata") {
		rec.UserMetadata = u.UserMetadata
	}
	if u.CustomPasswordHash != nil && rec.LoginsCount == 0 {
		rec.CustomPasswordHash, rec.PasswordHash = u.CustomPasswordHash, ""
	}
	rec.UpdatedAt = Timestamp{im.now}
	if err := im.st.putUser(rec); err != nil {
		return err
	}
	return im.st.countImport(u.Email, false)
}

// Reserved app_metadata keys (docs/auth0.md §1).
var reservedAppMetadata = []string{
	"__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email",
	"globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount",
	"metadata", "multifactor_last_modified", "multifactor", "updated_at", "user_id",
}

var (
	whitespace     = regexp.MustCompile(`\s`)
	usernameChars  = regexp.MustCompile("^[a-z0-9@^$.!`\\-#+'~_]+$")
	looksLikeEmail = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	e164           = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	bcryptHash     = regexp.MustCompile(`^\$2[ab]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)
	maxNameLengths = []struct {
		field string
		max   int
	}{{"given_name", 150}, {"family_name", 150}, {"name", 300}, {"nickname", 350}}
)

// profileErrors applies the rules the JSON schema leaves out: Auth0's
// profile limits (docs/auth0.md §1, §5) and the password and metadata rules.
func (im *importer) profileErrors(u *importuser.User, fields map[string]json.RawMessage) []UserError {
	var errs []UserError
	has := func(k string) bool { _, ok := fields[k]; return ok }
	length := func(path, v string, lo, hi int) {
		switch n := utf8.RuneCountInString(v); {
		case n < lo:
			errs = append(errs, tooShort(path, n, lo))
		case n > hi:
			errs = append(errs, tooLong(path, n, hi))
		}
	}

	if at := strings.LastIndexByte(u.Email, '@'); at > 64 {
		errs = append(errs, UserError{"MAX_LENGTH", fmt.Sprintf("The part of the email before @ is too long (%d chars), maximum 64", at), "email"})
	}
	length("email", u.Email, 1, 254)
	for _, f := range maxNameLengths {
		if has(f.field) {
			var v string
			_ = json.Unmarshal(fields[f.field], &v)
			length(f.field, v, 1, f.max)
		}
	}
	if has("user_id") {
		length("user_id", u.UserID, 1, 255)
		if whitespace.MatchString(u.UserID) {
			errs = append(errs, patternError("user_id", `^\S*$`, u.UserID))
		}
	}
	switch {
	case has("username"):
		lo, hi := im.opts.usernameLength()
		length("username", u.Username, lo, hi)
		if looksLikeEmail.MatchString(u.Username) {
			errs = append(errs, UserError{"PATTERN", "A username cannot be an email address", "username"})
		} else if u.Username != "" && !usernameChars.MatchString(u.Username) {
			errs = append(errs, patternError("username", usernameChars.String(), u.Username))
		}
	case im.opts.RequiresUsername:
		errs = append(errs, UserError{"OBJECT_REQUIRED", "Missing required property: username (the connection requires usernames)", "username"})
	}
	if has("phone_number") && !e164.MatchString(u.PhoneNumber) {
		errs = append(errs, patternError("phone_number", e164.String(), u.PhoneNumber))
	}
	switch {
	case has("password_hash") && has("custom_password_hash"):
		errs = append(errs, UserError{"NOT_PASSED", "password_hash and custom_password_hash are mutually exclusive", "custom_password_hash"})
	case has("password_hash") && !bcryptHash.MatchString(u.PasswordHash):
		errs = append(errs, patternError("password_hash", bcryptHash.String(), ""))
	case u.CustomPasswordHash != nil:
		if err := hashes.CheckCustom(u.CustomPasswordHash); err != nil {
			// Auth0 checks each algorithm's own rules; the sandbox reports
			// a failure the way a schema with one branch per algorithm
			// would. hashes errors never quote the hash.
			errs = append(errs, UserError{"ANY_OF_MISSING", err.Error(), "custom_password_hash"})
		}
	}
	if len(u.AppMetadata) > 0 {
		var meta map[string]json.RawMessage
		_ = json.Unmarshal(u.AppMetadata, &meta)
		keys := make([]string, 0, len(meta))
		for k := range meta {
			if slices.Contains(reservedAppMetadata, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			errs = append(errs, UserError{"NOT_PASSED", fmt.Sprintf("app_metadata must not contain the reserved property %q", k), "app_metadata." + k})
		}
	}
	if len(u.MFAFactors) > 0 {
		var factors []map[string]json.RawMessage
		_ = json.Unmarshal(u.MFAFactors, &factors)
		for i, f := range factors {
			if len(f) == 0 {
				errs = append(errs, mfaFactorError(fmt.Sprintf("mfa_factors[%d]", i)))
			}
		}
	}
	return errs
}

func newUserID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// defaultPicture is the Gravatar URL Auth0 gives a user without a picture,
// falling back to an avatar of the email's first two letters.
func defaultPicture(email, local string) string {
	sum := md5.Sum([]byte(email))
	initials := []rune(strings.ToLower(local))
	if len(initials) > 2 {
		initials = initials[:2]
	}
	fallback := "https://cdn.auth0.com/avatars/" + string(initials) + ".png"
	return "https://s.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=480&r=pg&d=" + url.QueryEscape(fallback)
}

func deref(b *bool) bool { return b != nil && *b }
