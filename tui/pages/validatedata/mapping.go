package validatedata

import (
	"fmt"
	"regexp"
	"strings"

	"provision/engine/source"
)

// how says where a column's field came from.
type how int

const (
	howNone     how = iota // maps to nothing: the run warns about it
	howSameName            // the column is named after the field
	howGuessed             // a common name for the field (mail, surname, pwd)
	howValues              // its values look like the field (emails, hashes)
	howChosen              // the operator chose it
)

func (h how) String() string {
	switch h {
	case howSameName:
		return "same name"
	case howGuessed:
		return "guessed"
	case howValues:
		return "from values"
	case howChosen:
		return "chosen"
	}
	return ""
}

// column is one source column and the Auth0 field it maps to: a name in
// source.Fields, source.Ignore to drop it quietly, or "" when it maps to
// nothing (the run then reports it once as UNKNOWN_COLUMN).
type column struct {
	sourceColumn
	Field string
	How   how
}

// aliases are common legacy names for each field, compared with case,
// spaces and punctuation removed.
var aliases = map[string][]string{
	"email":                {"mail", "emailaddress", "emailaddr", "useremail", "loginemail", "primaryemail", "emailid"},
	"email_verified":       {"verified", "isverified", "emailconfirmed", "confirmed", "verifiedemail", "isemailverified"},
	"phone_number":         {"phone", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone", "telephone", "tel", "msisdn", "phoneno"},
	"phone_verified":       {"phoneconfirmed", "mobileverified", "isphoneverified"},
	"user_id":              {"id", "uid", "accountid", "legacyid", "customerid", "memberid", "externalid"},
	"username":             {"login", "loginname", "user", "handle", "screenname", "uname"},
	"given_name":           {"firstname", "first", "forename", "fname"},
	"family_name":          {"lastname", "last", "surname", "lname"},
	"name":                 {"fullname", "displayname"},
	"nickname":             {"nick"},
	"picture":              {"avatar", "avatarurl", "photo", "photourl", "image", "imageurl", "pictureurl", "profileimage"},
	"blocked":              {"isblocked", "disabled", "isdisabled", "locked", "islocked", "banned", "suspended"},
	"app_metadata":         {"appmeta"},
	"user_metadata":        {"metadata", "usermeta", "profile"},
	"mfa_factors":          {"mfa"},
	"password_hash":        {"password", "passwd", "pwd", "pass", "hash", "pwhash", "passhash", "hashedpassword", "encryptedpassword", "cryptedpassword", "passworddigest", "userpassword", "pw"},
	"custom_password_hash": {},
	"password_algorithm":   {"algorithm", "hashalgorithm", "hashtype", "algo", "passwordscheme", "scheme", "hasher", "passwordformat", "hashformat"},
	"password_salt":        {"salt", "pwsalt", "hashsalt"},
	"salt_position":        {"saltpos"},
	"password_encoding":    {"encoding", "hashencoding"},
}

// aliasField maps a compact name to its field.
var aliasField = func() map[string]string {
	m := map[string]string{}
	for _, f := range source.Fields {
		m[compact(f)] = f
	}
	for f, names := range aliases {
		for _, n := range names {
			m[n] = f
		}
	}
	return m
}()

// compact lower-cases s and drops everything but letters and digits.
func compact(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isField(name string) bool {
	for _, f := range source.Fields {
		if f == name {
			return true
		}
	}
	return false
}

var (
	emailLike = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	hashLike  = regexp.MustCompile(`^(\$(2[abxy]?|argon2(id|i|d)|pbkdf2[-_a-z0-9]*|scrypt|1|5|6|P|H)\$|\{(S?SHA[0-9]*|S?MD5|CRYPT|PBKDF2[-A-Z0-9]*)\}|(pbkdf2_sha(1|256)|argon2|bcrypt(_sha256)?|sha1|md5)\$|[0-9a-fA-F]{32,128}$)`)
)

// guessColumns proposes a field for every column: the field of the same
// name first, then a common alias, then what the values look like. A
// field goes to one column only, the best match.
func guessColumns(cols []sourceColumn) []column {
	out := make([]column, len(cols))
	owner := map[string]int{}
	claim := func(i int, field string, h how) {
		if field == "" {
			return
		}
		if j, taken := owner[field]; taken {
			if out[j].How <= h {
				return
			}
			out[j].Field, out[j].How = "", howNone
		}
		owner[field] = i
		out[i].Field, out[i].How = field, h
	}
	for i, c := range cols {
		out[i].sourceColumn = c
	}
	for i, c := range cols {
		norm := strings.ToLower(strings.TrimSpace(c.Name))
		if isField(norm) {
			claim(i, norm, howSameName)
		}
	}
	for i, c := range cols {
		if out[i].Field == "" {
			claim(i, aliasField[compact(c.Name)], howGuessed)
		}
	}
	for i, c := range cols {
		if out[i].Field != "" || len(c.Samples) == 0 {
			continue
		}
		switch {
		case allMatch(c.Samples, emailLike):
			claim(i, "email", howValues)
		case allMatch(c.Samples, hashLike):
			claim(i, "password_hash", howValues)
		}
	}
	return out
}

func allMatch(values []string, re *regexp.Regexp) bool {
	for _, v := range values {
		if !re.MatchString(v) {
			return false
		}
	}
	return len(values) > 0
}

// setField maps column i to field and takes the field from any other
// column that had it. It returns the name of that column, if any.
func setField(cols []column, i int, field string) (took string) {
	if field != "" && field != source.Ignore {
		for j := range cols {
			if j != i && cols[j].Field == field {
				cols[j].Field, cols[j].How = "", howNone
				took = cols[j].Name
			}
		}
	}
	cols[i].Field, cols[i].How = field, howChosen
	return took
}

// mappingOf is the mapping for source.Options: every column that maps
// to a field or is ignored. Columns that map to nothing are left out, so
// the run reports them.
func mappingOf(cols []column) map[string]string {
	m := map[string]string{}
	for _, c := range cols {
		if c.Field != "" && c.Name != "" {
			m[c.Name] = c.Field
		}
	}
	return m
}

// mappingProblem says why the mapping cannot run, or "".
func mappingProblem(cols []column) string {
	for _, c := range cols {
		if c.Field == "email" {
			return ""
		}
	}
	return "no column maps to email, Auth0's only required field: select the column that holds email addresses and press enter"
}

// fieldLabel is how a column's field reads in the table.
func fieldLabel(c column) string {
	switch c.Field {
	case "":
		return "— not imported"
	case source.Ignore:
		return "— ignored"
	}
	return c.Field
}

// sensitive fields are masked wherever a value is shown.
var sensitive = map[string]bool{"password_hash": true, "custom_password_hash": true, "password_salt": true}

// sensitiveName reports whether a column's name suggests it holds a secret,
// whatever it maps to.
func sensitiveName(name string) bool {
	n := compact(name)
	for _, w := range []string{"pass", "pwd", "hash", "salt", "secret", "token", "key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "pw"
}

// mask is what a secret value shows as.
const mask = "*****"

// describesHash fields say how a hash was made, and are not secret.
var describesHash = map[string]bool{"password_algorithm": true, "salt_position": true, "password_encoding": true}

// secret reports whether values of a column mapped to field must be
// masked: hash fields, and columns whose name suggests a secret unless
// they are mapped to a field that only describes a hash.
func secret(name, field string) bool {
	return sensitive[field] || sensitiveName(name) && !describesHash[field]
}

// sampleOf is the first sample of a column, masked when secret.
func sampleOf(c column) string {
	if len(c.Samples) == 0 {
		return ""
	}
	if secret(c.Name, c.Field) {
		return mask
	}
	return c.Samples[0]
}

// mappingSummary counts the columns by outcome, for the column step's
// subtitle.
func mappingSummary(cols []column) string {
	mapped, ignored, none := 0, 0, 0
	for _, c := range cols {
		switch c.Field {
		case "":
			none++
		case source.Ignore:
			ignored++
		default:
			mapped++
		}
	}
	s := fmt.Sprintf("%d mapped", mapped)
	if ignored > 0 {
		s += fmt.Sprintf(", %d ignored", ignored)
	}
	if none > 0 {
		s += fmt.Sprintf(", %d not imported", none)
	}
	return s
}
