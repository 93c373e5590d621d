package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"provision/engine/sandbox/store"
)

func (s *Server) handleListConnections(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var conns []*connectionRecord
	if err := s.store.View(func(tx store.Tx) (err error) {
		conns, err = state{tx}.connections()
		return err
	}); err != nil {
		s.log.Error("list connections", "err", err)
		internalError(w)
		return
	}
	out := []*connectionRecord{}
	for _, c := range conns {
		if name := q.Get("name"); name != "" && c.Name != name {
			continue
		}
		if strategy := q["strategy"]; len(strategy) > 0 && !slices.Contains(strategy, c.Strategy) {
			continue
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetConnection(w http.ResponseWriter, r *http.Request) {
	var c *connectionRecord
	if err := s.store.View(func(tx store.Tx) (err error) {
		c, err = state{tx}.connection(r.PathValue("id"))
		return err
	}); err != nil {
		s.log.Error("get connection", "err", err)
		internalError(w)
		return
	}
	if c == nil {
		writeAPIError(w, http.StatusNotFound, "The connection does not exist", "inexistent_connection")
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// connectionPatch is the body of PATCH /api/v2/connections/{id}. As on
// Auth0, options replaces the whole options object: send every option you
// want to keep.
type connectionPatch struct {
	Options            json.RawMessage `json:"options"`
	DisplayName        *string         `json:"display_name"`
	EnabledClients     []string        `json:"enabled_clients"`
	Metadata           json.RawMessage `json:"metadata"`
	IsDomainConnection *bool           `json:"is_domain_connection"`
	Realms             []string        `json:"realms"`
}

func (s *Server) handlePatchConnection(w http.ResponseWriter, r *http.Request) {
	body, err := readJSONObject(w, r)
	if err != nil {
		badRequest(w, err.Error(), "")
		return
	}
	for k := range body {
		if !slices.Contains([]string{"options", "display_name", "enabled_clients", "metadata", "is_domain_connection", "realms"}, k) {
			badRequest(w, "Additional properties not allowed: "+k, "")
			return
		}
	}
	raw, _ := json.Marshal(body)
	var patch connectionPatch
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&patch); err != nil {
		what, where := typeError(err)
		badRequest(w, what, where)
		return
	}
	if patch.Options != nil {
		if what, where := validateOptions(patch.Options); what != "" {
			badRequest(w, what, where)
			return
		}
	}
	var c *connectionRecord
	err = s.store.Update(func(tx store.Tx) (err error) {
		st := state{tx}
		if c, err = st.connection(r.PathValue("id")); err != nil || c == nil {
			return err
		}
		if patch.Options != nil {
			c.Options = patch.Options
		}
		if patch.DisplayName != nil {
			c.DisplayName = *patch.DisplayName
		}
		if patch.EnabledClients != nil {
			c.EnabledClients = patch.EnabledClients
		}
		if patch.Metadata != nil {
			c.Metadata = patch.Metadata
		}
		if patch.IsDomainConnection != nil {
			c.IsDomainConnection = *patch.IsDomainConnection
		}
		if patch.Realms != nil {
			c.Realms = patch.Realms
		}
		return st.putConnection(c)
	})
	switch {
	case err != nil:
		s.log.Error("patch connection", "err", err)
		internalError(w)
	case c == nil:
		writeAPIError(w, http.StatusNotFound, "The connection does not exist", "inexistent_connection")
	default:
		writeJSON(w, http.StatusOK, c)
	}
}

func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body == nil {
		return nil, fmt.Errorf("Expected type object but found invalid JSON")
	}
	return body, nil
}

// typeError words a decoding failure as Auth0's payload validation does.
func typeError(err error) (what, where string) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error(), ""
	}
	want := te.Type.Kind().String()
	switch te.Type.Kind() {
	case reflect.Bool:
		want = "boolean"
	case reflect.Slice:
		want = "array"
	case reflect.Map, reflect.Struct:
		want = "object"
	}
	got := te.Value
	if got == "bool" {
		got = "boolean"
	}
	return fmt.Sprintf("Expected type %s but found type %s", want, got), te.Field
}

// Connection options the sandbox knows (docs/auth0.md §5) and their rules.
// Other options are stored and echoed unchecked, as Auth0 has many more.
var (
	passwordPolicies = []any{"none", "low", "fair", "good", "excellent"}
	boolOptions      = []string{"requires_username", "disable_signup", "brute_force_protection", "import_mode", "enabledDatabaseCustomization"}
)

// validateOptions checks an options object. It returns what is wrong and
// where, in Auth0's validation wording, or "" when the options are valid.
func validateOptions(raw json.RawMessage) (what, where string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var opts any
	if err := dec.Decode(&opts); err != nil {
		return "Expected type object but found invalid JSON", "options"
	}
	o, ok := opts.(map[string]any)
	if !ok {
		return "Expected type object but found type " + jsonType(opts), "options"
	}
	v := optionValidator{}
	if p, ok := o["passwordPolicy"]; ok && p != nil {
		v.enum("options.passwordPolicy", p, passwordPolicies)
	}
	for _, name := range boolOptions {
		if b, ok := o[name]; ok {
			v.typ("options."+name, b, "boolean")
		}
	}
	if pc, ok := v.object("options.password_complexity_options", o); ok {
		v.integer("options.password_complexity_options.min_length", pc["min_length"], 1, 128)
	}
	if ph, ok := v.object("options.password_history", o); ok {
		v.optionalBool("options.password_history.enable", ph)
		v.integer("options.password_history.size", ph["size"], 0, 24)
	}
	if pd, ok := v.object("options.password_dictionary", o); ok {
		v.optionalBool("options.password_dictionary.enable", pd)
		v.stringArray("options.password_dictionary.dictionary", pd["dictionary"], 200, 50)
	}
	if pi, ok := v.object("options.password_no_personal_info", o); ok {
		v.optionalBool("options.password_no_personal_info.enable", pi)
	}
	if val, ok := v.object("options.validation", o); ok {
		if u, ok := v.object("options.validation.username", val); ok {
			v.integer("options.validation.username.min", u["min"], 1, 128)
			v.integer("options.validation.username.max", u["max"], 1, 128)
			if lo, hi, ok := intPair(u["min"], u["max"]); ok && v.what == "" && lo > hi {
				v.fail(fmt.Sprintf("Value %d is greater than max %d", lo, hi), "options.validation.username.min")
			}
		}
	}
	if po, ok := v.object("options.password_options", o); ok {
		v.passwordOptions(po)
	}
	return v.what, v.where
}

// optionValidator keeps the first problem found.
type optionValidator struct{ what, where string }

func (v *optionValidator) fail(what, where string) {
	if v.what == "" {
		v.what, v.where = what, where
	}
}

func (v *optionValidator) typ(path string, val any, want string) bool {
	if got := jsonType(val); got != want && !(want == "number" && got == "integer") {
		v.fail(fmt.Sprintf("Expected type %s but found type %s", want, got), path)
		return false
	}
	return true
}

// object returns parent[last segment of path] as an object, when present
// and not null.
func (v *optionValidator) object(path string, parent map[string]any) (map[string]any, bool) {
	val, ok := parent[path[strings.LastIndexByte(path, '.')+1:]]
	if !ok || val == nil {
		return nil, false
	}
	if !v.typ(path, val, "object") {
		return nil, false
	}
	return val.(map[string]any), true
}

func (v *optionValidator) optionalBool(path string, parent map[string]any) {
	if b, ok := parent[path[strings.LastIndexByte(path, '.')+1:]]; ok {
		v.typ(path, b, "boolean")
	}
}

func (v *optionValidator) integer(path string, val any, lo, hi int64) {
	if val == nil {
		return
	}
	if !v.typ(path, val, "integer") {
		return
	}
	n, _ := val.(json.Number).Int64()
	switch {
	case n < lo:
		v.fail(fmt.Sprintf("Value %d is less than minimum %d", n, lo), path)
	case n > hi:
		v.fail(fmt.Sprintf("Value %d is greater than maximum %d", n, hi), path)
	}
}

func (v *optionValidator) enum(path string, val any, allowed []any) {
	if !slices.Contains(allowed, val) {
		v.fail("No enum match for: "+display(val), path)
	}
}

func (v *optionValidator) stringArray(path string, val any, maxItems, maxLen int) {
	if val == nil || !v.typ(path, val, "array") {
		return
	}
	items := val.([]any)
	if len(items) > maxItems {
		v.fail(fmt.Sprintf("Array is too long (%d), maximum %d", len(items), maxItems), path)
		return
	}
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		if !v.typ(p, it, "string") {
			return
		}
		if n := utf8.RuneCountInString(it.(string)); n > maxLen {
			v.fail(fmt.Sprintf("String is too long (%d chars), maximum %d", n, maxLen), p)
			return
		}
	}
}

// passwordOptions checks the Flexible Password Policy object (docs/auth0.md §5,
// S18) where its members are present.
func (v *optionValidator) passwordOptions(po map[string]any) {
	const base = "options.password_options"
	if c, ok := v.object(base+".complexity", po); ok {
		v.integer(base+".complexity.min_length", c["min_length"], 1, 72)
		if types, ok := c["character_types"]; ok && v.typ(base+".complexity.character_types", types, "array") {
			for i, t := range types.([]any) {
				v.enum(fmt.Sprintf("%s.complexity.character_types[%d]", base, i), t, []any{"uppercase", "lowercase", "number", "special"})
			}
		}
		for _, e := range []struct {
			name    string
			allowed []any
		}{
			{"character_type_rule", []any{"all", "three_of_four"}},
			{"identical_characters", []any{"allow", "block"}},
			{"sequential_characters", []any{"allow", "block"}},
			{"max_length_exceeded", []any{"truncate", "error"}},
		} {
			if val, ok := c[e.name]; ok {
				v.enum(base+".complexity."+e.name, val, e.allowed)
			}
		}
	}
	if d, ok := v.object(base+".dictionary", po); ok {
		if val, ok := d["default"]; ok {
			v.enum(base+".dictionary.default", val, []any{"en_10k", "en_100k"})
		}
	}
	if h, ok := v.object(base+".history", po); ok {
		v.integer(base+".history.size", h["size"], 1, 24)
	}
	if p, ok := v.object(base+".profile_data", po); ok {
		if bf, ok := p["blocked_fields"]; ok && v.typ(base+".profile_data.blocked_fields", bf, "array") {
			if n := len(bf.([]any)); n > 12 {
				v.fail(fmt.Sprintf("Array is too long (%d), maximum 12", n), base+".profile_data.blocked_fields")
			}
		}
	}
}

func intPair(a, b any) (int64, int64, bool) {
	x, ok1 := a.(json.Number)
	y, ok2 := b.(json.Number)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	lo, err1 := x.Int64()
	hi, err2 := y.Int64()
	return lo, hi, err1 == nil && err2 == nil
}

// jsonType names a decoded JSON value's type as JSON Schema does.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
