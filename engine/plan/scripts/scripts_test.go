package scripts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"provision/engine/source"
	"provision/fixtures"
)

// columns name the legacy table's columns differently from Auth0's fields,
// as real tables do.
var columns = map[string]string{
	"user_id": "id", "email": "email", "email_verified": "email_verified", "username": "username",
	"given_name": "first_name", "user_metadata": "prefs",
	"password_hash": "pw_hash", "password_algorithm": "pw_alg", "password_salt": "pw_salt",
	"salt_position": "salt_position", "password_encoding": "pw_enc",
}

func config(db string, proxy bool) Config {
	return Config{Database: db, Table: "app.members", Columns: columns, Proxy: proxy,
		Families: map[string]int{"bcrypt": 10, "md5-crypt": 3, "des-crypt": 1, "none": 2}}
}

func generate(t *testing.T, cfg Config) map[string]Script {
	t.Helper()
	list, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Script{}
	for _, s := range list {
		m[s.Name] = s
	}
	return m
}

// Known passwords of the rows below: md5-crypt of "hunter2" from openssl
// passwd -1, salted sha256 from the password_* columns, and a bcrypt the
// stub knows.
const (
	md5CryptHunter2 = "$1$ddvnrIEG$u9YljnnmFr0UY2YaSCGx//"
	bcryptHash      = "$2y$10$wTw9imv8EhmHyawLDvz/A.GvJRCzlX/TbTYkv2OHSxRWokL7Lx2Re"
)

func legacyRows() []map[string]any {
	return []map[string]any{
		{"id": 1, "email": "Ada@Example.com", "username": "ada", "first_name": "Ada", "email_verified": "t",
			"prefs": `{"lang":"en"}`, "pw_hash": md5CryptHunter2},
		{"id": 2, "email": "bob@example.com", "username": nil, "email_verified": false, "pw_hash": bcryptHash},
		{"id": 3, "email": "carl@example.com", "pw_hash": "c4bbcb1fbec99d65bf59d85c8cb62ee2db963f0fe106f483d9afa73bd4e39a8a"},
		{"id": 4, "email": "dup@example.com", "pw_hash": md5CryptHunter2},
		{"id": 5, "email": "DUP@example.com", "pw_hash": md5CryptHunter2},
		{"id": nil, "email": "noid@example.com", "pw_hash": md5CryptHunter2},
		{"id": 7, "email": "des@example.com", "pw_hash": "ySjfZU6EJTa9Q"},
		{"id": 8, "email": "nopass@example.com", "pw_hash": nil},
		{"id": 9, "email": "meta@example.com", "prefs": "{not json", "pw_hash": md5CryptHunter2},
	}
}

var known = map[string]string{bcryptHash: "correct horse battery staple"}

func TestScriptsParse(t *testing.T) {
	t.Parallel()
	for _, db := range []string{PostgreSQL, MySQL} {
		for _, proxy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s proxy=%v", db, proxy), func(t *testing.T) {
				t.Parallel()
				list, err := Generate(config(db, proxy))
				if err != nil {
					t.Fatal(err)
				}
				want := 2
				if proxy {
					want = 6
				}
				if len(list) != want {
					t.Fatalf("%d scripts, want %d", len(list), want)
				}
				for _, s := range list {
					if !strings.Contains(s.Source, "function "+s.Function()+"(") {
						t.Errorf("%s does not define %s", s.Name, s.Function())
					}
					if !strings.Contains(s.Source, "configuration.LEGACY_DB_URL") || strings.Contains(s.Source, testURL) {
						t.Errorf("%s must read the database URL from the connection's settings", s.Name)
					}
				}
				checkSyntax(t, list)
			})
		}
	}
	checkSyntax(t, Finish())
}

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown database", Config{Database: "oracle", Columns: columns}, "use postgresql or mysql"},
		{"no email column", Config{Database: PostgreSQL, Columns: map[string]string{"user_id": "id", "password_hash": "pw"}}, "no column for email"},
		{"proxy without email_verified", Config{Database: MySQL, Proxy: true, Columns: map[string]string{"user_id": "id", "email": "e", "password_hash": "pw"}}, "email_verified"},
	}
	for _, tt := range tests {
		if _, err := Generate(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestLoginAndGetUser(t *testing.T) {
	t.Parallel()
	for _, db := range []string{PostgreSQL, MySQL} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			s := generate(t, config(db, false))
			call := func(name, script string, args ...any) jsCase {
				return jsCase{Name: name, Script: s[script].Source, Fn: s[script].Function(), Args: args,
					Dialect: db, Table: "app.members", Rows: legacyRows(), Known: known}
			}
			res := runJS(t, []jsCase{
				call("md5-crypt", Login, "ada@example.com", "hunter2"),
				call("by username", Login, "ada", "hunter2"),
				call("bcrypt", Login, "bob@example.com", "correct horse battery staple"),
				call("unsalted sha256 by length", Login, "carl@example.com", "correct horse battery staple"),
				call("wrong password", Login, "ADA@example.com", "hunter3"),
				call("unknown user", Login, "nobody@example.com", "hunter2"),
				call("two users", Login, "dup@example.com", "hunter2"),
				call("no id", Login, "noid@example.com", "hunter2"),
				call("uncheckable hash", Login, "des@example.com", "hunter2"),
				call("no password", Login, "nopass@example.com", ""),
				call("bad metadata", Login, "meta@example.com", "hunter2"),
				func() jsCase {
					c := call("database down", Login, "ada@example.com", "hunter2")
					c.DBDown = true
					return c
				}(),
				call("get_user", GetUser, "ADA@example.com"),
				call("get_user bcrypt", GetUser, "bob@example.com"),
				call("get_user unknown", GetUser, "nobody@example.com"),
				call("get_user two users", GetUser, "dup@example.com"),
				func() jsCase {
					c := call("get_user database down", GetUser, "ada@example.com")
					c.DBDown = true
					return c
				}(),
			})

			wantProfile := map[string]any{"user_id": "1", "email": "ada@example.com", "email_verified": true,
				"username": "ada", "given_name": "Ada", "user_metadata": map[string]any{"lang": "en"}}
			for _, name := range []string{"md5-crypt", "by username", "get_user"} {
				r := res[name]
				if r.Error != nil {
					t.Fatalf("%s: error %+v", name, r.Error)
				}
				var got map[string]any
				if err := json.Unmarshal(r.Value, &got); err != nil || !reflect.DeepEqual(got, wantProfile) {
					t.Errorf("%s: profile %s, want %v", name, r.Value, wantProfile)
				}
			}
			if a, b := string(res["bcrypt"].Value), string(res["get_user bcrypt"].Value); a != b || !strings.Contains(a, `"user_id":"2"`) {
				t.Errorf("login and get_user disagree: %s vs %s", a, b)
			}
			if r := res["unsalted sha256 by length"]; r.Error != nil || !strings.Contains(string(r.Value), `"user_id":"3"`) {
				t.Errorf("unsalted sha256: %+v %s", r.Error, r.Value)
			}

			wantErr := []struct {
				name, errName, message string
				user                   any // userNameOrEmail: a string, or nil
			}{
				{"wrong password", "WrongUsernameOrPasswordError", "wrong password", "ADA@example.com"},
				{"unknown user", "WrongUsernameOrPasswordError", "no such user", nil},
				{"no password", "WrongUsernameOrPasswordError", "wrong password", "nopass@example.com"},
				{"two users", "Error", "more than one legacy user matches", nil},
				{"no id", "Error", "has no id: give every user a permanent id in column id", nil},
				{"uncheckable hash", "Error", "cannot check", nil},
				{"bad metadata", "Error", "user_metadata of legacy user 9 is not JSON", nil},
				{"database down", "Error", "ECONNREFUSED", nil},
				{"get_user two users", "Error", "more than one legacy user matches", nil},
				{"get_user database down", "Error", "ECONNREFUSED", nil},
			}
			for _, w := range wantErr {
				e := res[w.name].Error
				if e == nil || e.Name != w.errName || !strings.Contains(e.Message, w.message) {
					t.Errorf("%s: error %+v, want %s containing %q", w.name, e, w.errName, w.message)
					continue
				}
				if w.errName == "WrongUsernameOrPasswordError" {
					if (w.user == nil) != (e.UserNameOrEmail == nil) || (e.UserNameOrEmail != nil && *e.UserNameOrEmail != w.user) {
						t.Errorf("%s: userNameOrEmail %v, want %v", w.name, e.UserNameOrEmail, w.user)
					}
				}
			}
			if r := res["get_user unknown"]; r.Error != nil || r.Args != 1 {
				t.Errorf("get_user of an unknown email must call callback(null): got %d args, error %+v", r.Args, r.Error)
			}
		})
	}
}

func TestProxyScripts(t *testing.T) {
	t.Parallel()
	for _, db := range []string{PostgreSQL, MySQL} {
		t.Run(db, func(t *testing.T) {
			s := generate(t, config(db, true))
			call := func(name, script string, rows []map[string]any, args ...any) jsCase {
				return jsCase{Name: name, Script: s[script].Source, Fn: s[script].Function(), Args: args,
					Dialect: db, Table: "app.members", Rows: rows, Known: known}
			}
			res := runJS(t, []jsCase{
				call("create", Create, legacyRows(), map[string]any{"email": "New@Example.com", "username": "newbie", "password": "s3cret!"}),
				call("create existing email", Create, legacyRows(), map[string]any{"email": "BOB@example.com", "password": "x"}),
				call("create taken username", Create, legacyRows(), map[string]any{"email": "other@example.com", "username": "ada", "password": "x"}),
				call("verify", Verify, legacyRows(), "bob@example.com"),
				call("verify unknown", Verify, legacyRows(), "nobody@example.com"),
				call("change_password", ChangePassword, []map[string]any{
					{"id": 3, "email": "carl@example.com", "pw_hash": "abc", "pw_alg": "sha256", "pw_salt": "NaCl", "salt_position": "suffix", "pw_enc": "hex"}},
					"carl@example.com", "n3w-password"),
				call("change_password unknown", ChangePassword, legacyRows(), "nobody@example.com", "x"),
				call("delete", Delete, legacyRows(), "2"),
			})
			if r := res["create"]; r.Error != nil || r.Args != 1 {
				t.Errorf("create: %+v, %d args", r.Error, r.Args)
			} else {
				added := r.Rows[len(r.Rows)-1]
				if added["email"] != "new@example.com" || added["username"] != "newbie" || added["email_verified"] != false ||
					!strings.HasPrefix(fmt.Sprint(added["pw_hash"]), "$2b$10$") {
					t.Errorf("created row %v", added)
				}
			}
			for _, name := range []string{"create existing email", "create taken username"} {
				if e := res[name].Error; e == nil || e.Name != "ValidationError" || e.Code != "user_exists" {
					t.Errorf("%s: error %+v, want ValidationError user_exists", name, e)
				}
			}
			if r := res["verify"]; string(r.Value) != "true" || r.Rows[1]["email_verified"] != true {
				t.Errorf("verify: value %s, row %v", r.Value, r.Rows[1])
			}
			if r := res["verify unknown"]; string(r.Value) != "false" || r.Error != nil {
				t.Errorf("verify unknown: value %s, error %+v", r.Value, r.Error)
			}
			if r := res["change_password"]; string(r.Value) != "true" {
				t.Errorf("change_password: %s %+v", r.Value, r.Error)
			} else if row := r.Rows[0]; !strings.HasPrefix(fmt.Sprint(row["pw_hash"]), "$2b$10$") ||
				row["pw_alg"] != nil || row["pw_salt"] != nil || row["salt_position"] != nil || row["pw_enc"] != nil {
				t.Errorf("after change_password the old hash's description must be cleared: %v", row)
			}
			if r := res["change_password unknown"]; string(r.Value) != "false" {
				t.Errorf("change_password unknown: %s", r.Value)
			}
			if r := res["delete"]; r.Error != nil || len(r.Rows) != len(legacyRows())-1 {
				t.Errorf("delete: %+v, %d rows left", r.Error, len(r.Rows))
			}
		})
	}

	// A user created through the proxy can then log in with that password.
	s := generate(t, config(PostgreSQL, true))
	rows := []map[string]any{}
	created := runJS(t, []jsCase{{Name: "create", Script: s[Create].Source, Fn: "create", Dialect: PostgreSQL, Table: "app.members",
		Rows: rows, Args: []any{map[string]any{"email": "eve@example.com", "password": "pa55word"}}}})["create"]
	hash := fmt.Sprint(created.Rows[0]["pw_hash"])
	login := runJS(t, []jsCase{{Name: "login", Script: s[Login].Source, Fn: "login", Dialect: PostgreSQL, Table: "app.members",
		Rows: created.Rows, Known: map[string]string{hash: "pa55word"}, Args: []any{"eve@example.com", "pa55word"}}})["login"]
	if login.Error != nil || !strings.Contains(string(login.Value), `"email":"eve@example.com"`) {
		t.Errorf("login after create: %+v %s", login.Error, login.Value)
	}
}

func TestFinishScripts(t *testing.T) {
	t.Parallel()
	fin := Finish()
	res := runJS(t, []jsCase{
		{Name: "login", Script: fin[0].Source, Fn: fin[0].Function(), Args: []any{"ada@example.com", "x"}},
		{Name: "get_user", Script: fin[1].Source, Fn: fin[1].Function(), Args: []any{"ada@example.com"}},
	})
	for name, r := range res {
		if r.Error != nil || r.Args != 2 || string(r.Value) != "null" || len(r.Queries) != 0 {
			t.Errorf("%s: want callback(null, null) without touching the store; got %+v", name, r)
		}
	}
}

// TestLoginChecksLegacyHashes runs every legacy hash of engine/hashes'
// vectors (passwords from openssl, htpasswd, passlib, Django, ...) through
// the login script: the right password logs in, a wrong one is a wrong
// password, and a form the script cannot check is an error, never a wrong
// password.
func TestLoginChecksLegacyHashes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../hashes/testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name     string   `json:"name"`
		Password string   `json:"password"`
		Family   string   `json:"family"`
		Wrong    []string `json:"wrong"`
		Input    *struct {
			Hash, Algorithm, Salt, Encoding string
			Position                        string `json:"salt_position"`
		} `json:"input"`
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	// Forms whose digest Node's crypto lacks (OpenSSL 3 moved MD4 and
	// Whirlpool to its legacy provider), and rare ways of writing LDAP
	// hashes that a store's password column does not hold.
	unchecked := map[string]bool{
		"openssl kdf PBKDF2 whirlpool": true, "openssl kdf PBKDF2 md4": true,
		"md4 hex (openssl legacy provider)": true, "md4 base64 (openssl legacy provider)": true,
		"LDIF base64 of {SSHA} (userPassword:: …)": true, "sha384 hex through ldap {SHA384}": true,
		"sha384(password+salt) through ldap {SSHA384}": true,
	}
	// Forms Auth0 cannot import that the script still checks.
	alsoChecked := map[string]bool{"Werkzeug pbkdf2 with a digest Auth0 lacks (sha3_256)": true}
	s := generate(t, Config{Database: PostgreSQL, Table: "users", Columns: map[string]string{
		"user_id": "id", "email": "email", "password_hash": "password_hash", "password_algorithm": "password_algorithm",
		"password_salt": "password_salt", "salt_position": "salt_position", "password_encoding": "password_encoding"}})
	type expect struct {
		ok    bool
		error bool
	}
	var cases []jsCase
	want := map[string]expect{}
	for i, v := range vectors {
		if v.Input == nil {
			continue // a ready-made Auth0 object, not a legacy hash
		}
		row := map[string]any{"id": i, "email": fmt.Sprintf("u%d@example.com", i), "password_hash": v.Input.Hash,
			"password_algorithm": v.Input.Algorithm, "password_salt": v.Input.Salt, "salt_position": v.Input.Position,
			"password_encoding": v.Input.Encoding}
		k := map[string]string{}
		if v.Family == "bcrypt" || v.Family == "argon2" {
			// What the library would have hashed: the salt column is part of it.
			hashed := v.Password
			if v.Input.Position == "suffix" {
				hashed += v.Input.Salt
			} else {
				hashed = v.Input.Salt + hashed
			}
			k[strings.TrimPrefix(v.Input.Hash, "bcrypt$")] = hashed
			k["$"+strings.TrimPrefix(v.Input.Hash, "argon2$")] = hashed
		}
		supported := (Checks(v.Family) || alsoChecked[v.Name]) && !unchecked[v.Name]
		// The right password and one wrong one: the vectors' expensive
		// hashes (scrypt at 64 MiB, PBKDF2 at 100,000 rounds) add up.
		for j, pw := range append([]string{v.Password}, v.Wrong...)[:min(2, 1+len(v.Wrong))] {
			name := fmt.Sprintf("%s #%d", v.Name, j)
			cases = append(cases, jsCase{Name: name, Script: s[Login].Source, Fn: "login", Dialect: PostgreSQL, Table: "users",
				Rows: []map[string]any{row}, Known: k, Args: []any{row["email"], pw}})
			want[name] = expect{ok: supported && j == 0, error: !supported}
		}
	}
	res := runJS(t, cases)
	checkedForms := 0
	for name, w := range want {
		r := res[name]
		switch {
		case w.ok && r.Error != nil:
			t.Errorf("%s: right password refused: %+v", name, r.Error)
		case w.ok:
			checkedForms++
		case w.error && (r.Error == nil || r.Error.Name != "Error"):
			t.Errorf("%s: a form the script cannot check must be an error, got %+v", name, r.Error)
		case !w.ok && !w.error && (r.Error == nil || r.Error.Name != "WrongUsernameOrPasswordError"):
			t.Errorf("%s: wrong password accepted or misreported: %+v", name, r.Error)
		}
	}
	if checkedForms < 50 {
		t.Errorf("only %d legacy hash forms verified; the vectors hold more", checkedForms)
	}
}

// TestLoginOnDemoCanaries logs in, through the generated script, every
// canary of the bundled demo with its known password, from the demo
// export's own rows: the phpass canary, whose hash Auth0 cannot import,
// included. The canary listed with a wrong password must fail.
func TestLoginOnDemoCanaries(t *testing.T) {
	t.Parallel()
	r, err := source.NewReader(strings.NewReader(string(fixtures.DemoUsers)), fixtures.DemoUsersFile, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	header := r.Header()
	rows := map[string]map[string]any{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Broken != nil {
			continue
		}
		m := map[string]any{}
		for i, cell := range row.RawCells {
			m[header[i]] = cell
		}
		if m["user_id"] == "" {
			// The export left some ids blank; the table's primary key never is.
			m["user_id"] = fmt.Sprintf("line-%d", row.Line)
		}
		rows[strings.ToLower(row.Email)] = m
	}
	cols := map[string]string{}
	for _, f := range Fields {
		cols[f] = f
	}
	s := generate(t, Config{Database: MySQL, Table: "users", Columns: cols})
	var cases []jsCase
	for _, c := range fixtures.DemoCanaries {
		row := rows[strings.ToLower(c.Email)]
		if row == nil {
			t.Fatalf("canary %s is not in the demo export", c.Email)
		}
		pw := canaryPassword(t, c.Email)
		k := map[string]string{}
		if h := fmt.Sprint(row["password_hash"]); !c.WrongPassword && (strings.HasPrefix(h, "$2") || strings.HasPrefix(h, "$argon2")) {
			k[h] = pw // bcrypt and Argon2 are the libraries' job
		}
		cases = append(cases, jsCase{Name: c.Email, Script: s[Login].Source, Fn: "login", Dialect: MySQL, Table: "users",
			Rows: []map[string]any{row}, Known: k, Args: []any{c.Email, pw}})
	}
	res := runJS(t, cases)
	for _, c := range fixtures.DemoCanaries {
		r := res[c.Email]
		switch {
		case c.WrongPassword && (r.Error == nil || r.Error.Name != "WrongUsernameOrPasswordError"):
			t.Errorf("%s (%s): wrong password not refused: %+v", c.Email, c.Family, r.Error)
		case !c.WrongPassword && r.Error != nil:
			t.Errorf("%s (%s): %+v", c.Email, c.Family, r.Error)
		}
	}
}

func canaryPassword(t *testing.T, email string) string {
	t.Helper()
	for _, line := range strings.Split(string(fixtures.DemoCredentials), "\n")[1:] {
		e, pw, ok := strings.Cut(line, ",")
		if ok && strings.EqualFold(e, email) {
			return strings.TrimRight(pw, "\r")
		}
	}
	t.Fatalf("no password for %s", email)
	return ""
}
