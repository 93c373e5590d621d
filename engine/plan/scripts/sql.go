package scripts

import (
	"fmt"
	"strings"
)

// dialect is what differs between the databases in the SQL the scripts
// send: identifier quoting and parameter placeholders.
type dialect struct {
	Title  string
	Module string // the npm module the scripts require
	URL    string // an example LEGACY_DB_URL
	quote  func(string) string
	param  func(n int) string // the n-th parameter, from 1
	// reuse says whether a placeholder can be named twice ($1 ... $1);
	// with ? every use is its own parameter.
	reuse bool
}

var dialects = map[string]dialect{
	PostgreSQL: {
		Title: "PostgreSQL", Module: "pg", URL: "postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=require",
		quote: func(s string) string { return `"` + s + `"` },
		param: func(n int) string { return fmt.Sprintf("$%d", n) },
		reuse: true,
	},
	MySQL: {
		Title: "MySQL", Module: "mysql", URL: "mysql://USER:PASSWORD@HOST:3306/DATABASE?ssl=true",
		quote: func(s string) string { return "`" + s + "`" },
		param: func(int) string { return "?" },
	},
}

// statements are the SQL texts and the JavaScript expressions of their
// parameters. Values always travel as parameters, never inside the SQL.
type statements struct {
	SelectByLogin, SelectByLoginParams string
	SelectByEmail, SelectByEmailParams string
	SelectByUsername                   string
	Insert, InsertParams               string
	MarkVerified, MarkVerifiedParams   string
	SetPassword, SetPasswordParams     string
	Delete, DeleteParams               string
}

func (c *Config) statements(d dialect) statements {
	q := d.quote
	col := func(field string) string { return q(c.Columns[field]) }
	table := c.quotedTable(d)
	var sel []string
	for _, f := range Fields {
		if c.Columns[f] != "" {
			sel = append(sel, col(f)+" AS "+q(f))
		}
	}
	from := "SELECT " + strings.Join(sel, ", ") + " FROM " + table + " WHERE "
	byEmail := "lower(" + col("email") + ") = lower(" + d.param(1) + ")"

	var s statements
	s.SelectByEmail, s.SelectByEmailParams = from+byEmail, "[email]"
	s.SelectByLogin, s.SelectByLoginParams = from+byEmail, "[userNameOrEmail]"
	if c.Columns["username"] != "" {
		if d.reuse {
			s.SelectByLogin += " OR " + col("username") + " = " + d.param(1)
		} else {
			s.SelectByLogin += " OR " + col("username") + " = " + d.param(2)
			s.SelectByLoginParams = "[userNameOrEmail, userNameOrEmail]"
		}
		s.SelectByUsername = from + col("username") + " = " + d.param(1)
	}

	cols := []string{col("email"), col("password_hash")}
	params := []string{"user.email.toLowerCase()", "hash"}
	if c.Columns["username"] != "" {
		cols, params = append(cols, col("username")), append(params, "user.username || null")
	}
	if c.Columns["email_verified"] != "" {
		cols, params = append(cols, col("email_verified")), append(params, "false")
	}
	ph := make([]string, len(cols))
	for i := range ph {
		ph[i] = d.param(i + 1)
	}
	s.Insert = "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") + ")"
	s.InsertParams = "[" + strings.Join(params, ", ") + "]"

	if c.Columns["email_verified"] != "" {
		s.MarkVerified = "UPDATE " + table + " SET " + col("email_verified") + " = " + d.param(1) +
			" WHERE lower(" + col("email") + ") = lower(" + d.param(2) + ")"
		s.MarkVerifiedParams = "[true, email]"
	}

	// A new password is bcrypt, which describes itself: clear the columns
	// that described the old hash, or they would mislead the login script.
	set := []string{col("password_hash") + " = " + d.param(1)}
	for _, f := range []string{"password_algorithm", "password_salt", "salt_position", "password_encoding"} {
		if c.Columns[f] != "" {
			set = append(set, col(f)+" = NULL")
		}
	}
	s.SetPassword = "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE lower(" + col("email") + ") = lower(" + d.param(2) + ")"
	s.SetPasswordParams = "[hash, email]"

	s.Delete, s.DeleteParams = "DELETE FROM "+table+" WHERE "+col("user_id")+" = "+d.param(1), "[id]"
	return s
}

func (c *Config) quotedTable(d dialect) string {
	parts := strings.Split(c.Table, ".")
	for i, p := range parts {
		parts[i] = d.quote(p)
	}
	return strings.Join(parts, ".")
}
