// Package scripts writes the custom database scripts through which Auth0
// reaches a legacy PostgreSQL or MySQL user store: login and get_user for
// automatic migration, and create, verify, change_password and delete as
// well for an identity-store proxy (docs/auth0.md §4, §6).
//
// The scripts follow Auth0's contract: each is one function, calls its
// callback exactly once, reports a wrong password as
// WrongUsernameOrPasswordError and an existing user as
// ValidationError("user_exists"), and returns the same profile, with the
// same permanent user_id, from login and get_user. Every value reaches the
// database as a query parameter. The database's URL is read from the
// connection's settings (configuration.LEGACY_DB_URL), never written into a
// script.
//
// login checks the typed password against whatever form the legacy store
// holds it in: bcrypt and Argon2 through the bcrypt and argon2 modules; the
// rest (PBKDF2 and scrypt in their PHC, passlib, Django and Werkzeug forms,
// RFC 2307 LDAP, salted and unsalted digests, md5-crypt, sha256-crypt,
// sha512-crypt, phpass, Drupal 7, MySQL PASSWORD()) through Node's crypto.
// Modules assumed in Auth0's custom database sandbox: pg or mysql, bcrypt,
// and argon2 only when the store holds Argon2 hashes.
package scripts

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"provision/engine/hashes"
)

// Databases the scripts are written for.
const (
	PostgreSQL = "postgresql"
	MySQL      = "mysql"
)

// MaxScriptBytes is Auth0's limit on one script (docs/auth0.md §4).
const MaxScriptBytes = 100 * 1024

// The scripts, by the names Auth0 gives them in options.customScripts.
const (
	Login          = "login"
	GetUser        = "get_user"
	Create         = "create"
	Verify         = "verify"
	ChangePassword = "change_password"
	Delete         = "delete"
)

// Fields are the Auth0 fields the scripts read from the legacy table, in
// the order they select them.
var Fields = []string{
	"user_id", "email", "email_verified", "username", "given_name", "family_name", "name", "nickname",
	"picture", "phone_number", "app_metadata", "user_metadata",
	"password_hash", "password_algorithm", "password_salt", "salt_position", "password_encoding",
}

// Config describes the legacy store and what the scripts are for.
type Config struct {
	Database string // PostgreSQL or MySQL
	Table    string // [schema.]table
	// Columns maps an Auth0 field (user_id, email, password_hash, ...) to
	// the table's column; user_id, email and password_hash are required.
	Columns map[string]string
	// Proxy adds create, verify, change_password and delete: the legacy
	// store stays the source of truth. Otherwise the scripts serve
	// automatic migration.
	Proxy bool
	// HashDefaults describe hashes whose rows do not, as the plan's
	// hash_defaults (Hash is not used).
	HashDefaults hashes.Input
	// Families counts the sample's users per hash family, for the header
	// and to decide which modules are needed.
	Families map[string]int
}

// Script is one generated script.
type Script struct {
	Name   string // Auth0's name: login, get_user, ...
	Source string
}

// Function is the name of the function the script defines, as in Auth0's
// templates.
func (s Script) Function() string { return functions[s.Name] }

var functions = map[string]string{
	Login: "login", GetUser: "getByEmail", Create: "create", Verify: "verify",
	ChangePassword: "changePassword", Delete: "remove",
}

// FileName is the script's file name in a workspace.
func (s Script) FileName() string { return s.Name + ".js" }

//go:embed js/scripts.js.tmpl
var templateText string

//go:embed js/verify.js
var verifyJS string

var tmpl = template.Must(template.New("scripts").Funcs(template.FuncMap{
	"js": jsString,
}).Parse(templateText))

// Generate writes the scripts for cfg: login and get_user, and for a proxy
// also create, verify, change_password and delete.
func Generate(cfg Config) ([]Script, error) {
	d, ok := dialects[cfg.Database]
	if !ok {
		return nil, fmt.Errorf("legacy database %q: use postgresql or mysql", cfg.Database)
	}
	for _, f := range []string{"user_id", "email", "password_hash"} {
		if cfg.Columns[f] == "" {
			return nil, fmt.Errorf("no column for %s: the scripts need user_id, email and password_hash", f)
		}
	}
	if cfg.Proxy && cfg.Columns["email_verified"] == "" {
		return nil, fmt.Errorf("no column for email_verified: the proxy's verify script records verification in it; map it in the plan's legacy.columns")
	}
	h := cfg.HashDefaults
	defaults, _ := json.Marshal(map[string]string{
		"algorithm": h.Algorithm, "salt": h.Salt, "salt_position": h.SaltPosition, "encoding": h.Encoding,
	})
	data := struct {
		Config
		Name         string // the script being written
		Dialect      dialect
		SQL          statements
		Modules      string // the modules of the script being written
		Families     string
		Unchecked    string
		HashDefaults string
		Verify       string
		Purpose      string
	}{
		Config: cfg, Dialect: d, SQL: cfg.statements(d),
		Families:     families(cfg.Families, true),
		Unchecked:    families(cfg.Families, false),
		HashDefaults: string(defaults),
		Verify:       verifyJS,
		Purpose:      "automatic migration (import mode on): a user who logs in is copied into Auth0 with this profile and the password just typed",
	}
	if cfg.Proxy {
		data.Purpose = "an identity-store proxy (import mode off): the legacy store stays the source of truth"
	}
	names := []string{Login, GetUser}
	if cfg.Proxy {
		names = append(names, Create, Verify, ChangePassword, Delete)
	}
	var out []Script
	for _, name := range names {
		data.Name = name
		switch name {
		case Login:
			data.Modules = strings.Join(Modules(cfg), ", ")
		case Create, ChangePassword:
			data.Modules = d.Module + ", bcrypt"
		default:
			data.Modules = d.Module
		}
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
			return nil, fmt.Errorf("write the %s script: %w", name, err)
		}
		if b.Len() > MaxScriptBytes {
			return nil, fmt.Errorf("the %s script is %d bytes, over Auth0's %d", name, b.Len(), MaxScriptBytes)
		}
		out = append(out, Script{Name: name, Source: b.String()})
	}
	return out, nil
}

// Finish returns the login and get_user scripts for after the bulk phase:
// every user is in Auth0, so both find nobody, and the legacy store can be
// switched off. Import mode stays on (docs/auth0.md §4).
func Finish() []Script {
	return []Script{
		{Login, finishHeader + "function login(userNameOrEmail, password, callback) {\n  return callback(null, null);\n}\n"},
		{GetUser, finishHeader + "function getByEmail(email, callback) {\n  return callback(null, null);\n}\n"},
	}
}

const finishHeader = `// Migration finished: every user is in Auth0, so the legacy store is no
// longer asked. Keep the connection's import mode on (docs/auth0.md §4).
`

// Modules lists the npm modules the login script requires, besides Node's
// own; the other scripts need fewer.
func Modules(cfg Config) []string {
	mods := []string{dialects[cfg.Database].Module, "bcrypt"}
	if cfg.Families["argon2"] > 0 {
		mods = append(mods, "argon2")
	}
	return mods
}

// Checks reports whether the login script can check passwords of a hash
// family (as the validation report names them).
func Checks(family string) bool {
	return slices.Contains(checked, family)
}

var checked = []string{
	"bcrypt", "argon2", "pbkdf2", "ldap", "scrypt", "md5", "sha1", "sha256", "sha512", "hmac",
	"md5-crypt", "apr1", "sha256-crypt", "sha512-crypt", "phpass", "drupal7", "mysql-native",
}

// families lists the families the script checks (or those it does not) as
// "bcrypt 142, md5-crypt 6".
func families(fams map[string]int, checkable bool) string {
	var names []string
	for f := range fams {
		if f == "none" || f == "invalid" || f == "conflict" || Checks(f) != checkable {
			continue
		}
		names = append(names, f)
	}
	slices.SortFunc(names, func(a, b string) int {
		if fams[a] != fams[b] {
			return fams[b] - fams[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, fams[n])
	}
	return strings.Join(parts, ", ")
}

// jsString writes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	// JSON is valid JavaScript except for U+2028 and U+2029 in old
	// engines; encoding/json escapes those already.
	return string(b)
}
