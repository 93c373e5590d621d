// Package apply sets a database connection's options to what a plan asks
// for. Auth0's PATCH /api/v2/connections/{id} replaces the whole options
// object, so the planned options are merged into the current ones (nothing
// the plan does not mention is lost), the difference is shown, and only a
// confirmed change is sent. Afterwards the connection is read back to prove
// Auth0 kept every planned value.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"provision/engine/target/auth0"
)

// Connections is what applying needs from a Management API client.
type Connections interface {
	Connection(ctx context.Context, id string) (auth0.Connection, error)
	PatchConnection(ctx context.Context, id string, patch any) (auth0.Connection, error)
}

var _ Connections = (*auth0.Client)(nil)

// Kind says how an option changes.
type Kind string

// Kinds of change.
const (
	Added   Kind = "+"
	Changed Kind = "~"
	Removed Kind = "-"
)

// Change is one option that differs, by its dotted path
// (validation.username.max). Before and After are for display: long
// values (scripts) are summarised and secrets masked.
type Change struct {
	Path          string
	Kind          Kind
	Before, After string
}

// Result is what Apply did.
type Result struct {
	Connection auth0.Connection // as read before the change
	Changes    []Change
	Applied    bool
}

// Confirm is asked before anything is sent; false leaves the connection
// as it is.
type Confirm func(conn auth0.Connection, changes []Change) (bool, error)

// Apply merges planned into connection id's options and, when something
// changes and confirm agrees, patches the connection and checks the
// result.
func Apply(ctx context.Context, c Connections, id string, planned map[string]any, confirm Confirm) (Result, error) {
	conn, err := c.Connection(ctx, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Connection: conn}
	if conn.Strategy != "" && conn.Strategy != "auth0" {
		return res, fmt.Errorf("connection %s (%s) is a %s connection: the plan needs a database connection (strategy auth0); check target.connection", id, conn.Name, conn.Strategy)
	}
	current, err := decode(conn.Options)
	if err != nil {
		return res, fmt.Errorf("connection %s: its options are not a JSON object: %w", id, err)
	}
	merged := Merge(current, planned)
	res.Changes = Diff(current, merged)
	if len(res.Changes) == 0 {
		return res, nil
	}
	ok, err := confirm(conn, res.Changes)
	if err != nil || !ok {
		return res, err
	}
	after, err := c.PatchConnection(ctx, id, map[string]any{"options": merged})
	if err != nil {
		return res, err
	}
	res.Applied = true
	kept, err := decode(after.Options)
	if err != nil {
		return res, fmt.Errorf("connection %s: Auth0 answered options that are not a JSON object: %w", id, err)
	}
	if lost := Diff(Merge(kept, planned), kept); len(lost) > 0 {
		return res, fmt.Errorf("connection %s was patched, but Auth0 did not keep %s: check the connection in the Dashboard", id, paths(lost))
	}
	return res, nil
}

func decode(raw json.RawMessage) (map[string]any, error) {
	m := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Merge returns current with planned laid over it: objects are merged key
// by key, anything else planned replaces what was there. Neither input is
// changed.
func Merge(current, planned map[string]any) map[string]any {
	out := make(map[string]any, len(current)+len(planned))
	maps.Copy(out, current)
	for k, v := range planned {
		pm, pok := asMap(v)
		cm, cok := asMap(out[k])
		if pok && cok {
			out[k] = Merge(cm, pm)
			continue
		}
		out[k] = normalize(v)
	}
	return out
}

// normalize turns a planned value into its JSON form, so that it compares
// equal to the same value read back from the API.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	}
	return nil, false
}

// Diff lists what differs between two option objects, by path, in order.
func Diff(before, after map[string]any) []Change {
	b, a := map[string]any{}, map[string]any{}
	flatten("", normalize(before), b)
	flatten("", normalize(after), a)
	var out []Change
	for _, p := range slices.Sorted(maps.Keys(union(a, b))) {
		bv, inB := b[p]
		av, inA := a[p]
		switch {
		case !inB:
			out = append(out, Change{p, Added, "", show(p, av)})
		case !inA:
			out = append(out, Change{p, Removed, show(p, bv), ""})
		case jsonText(av) != jsonText(bv):
			out = append(out, Change{p, Changed, show(p, bv), show(p, av)})
		}
	}
	return out
}

func union(a, b map[string]any) map[string]any {
	u := maps.Clone(a)
	maps.Copy(u, b)
	return u
}

// flatten records every leaf under its dotted path; arrays are leaves.
func flatten(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || (len(m) == 0 && prefix != "") {
		out[prefix] = v
		return
	}
	for k, child := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		flatten(p, child, out)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// show renders a value for the diff. The connection's configuration holds
// the legacy database's URL and other secrets, so it is never shown; a
// script is shown by its size and fingerprint.
func show(path string, v any) string {
	if path == "configuration" || strings.HasPrefix(path, "configuration.") {
		return "*****"
	}
	if s, ok := v.(string); ok && (strings.Contains(s, "\n") || len(s) > 80) {
		sum := sha256.Sum256([]byte(s))
		return fmt.Sprintf("<%d lines, %d bytes, sha256 %s>", strings.Count(s, "\n")+1, len(s), hex.EncodeToString(sum[:6]))
	}
	return jsonText(v)
}

func paths(cs []Change) string {
	ps := make([]string, len(cs))
	for i, c := range cs {
		ps[i] = c.Path
	}
	return strings.Join(ps, ", ")
}

// WriteDiff prints changes one per line: + added, ~ changed, - removed.
func WriteDiff(w io.Writer, changes []Change) error {
	for _, c := range changes {
		var err error
		switch c.Kind {
		case Added:
			_, err = fmt.Fprintf(w, "  + %s: %s\n", c.Path, c.After)
		case Removed:
			_, err = fmt.Fprintf(w, "  - %s: %s\n", c.Path, c.Before)
		default:
			_, err = fmt.Fprintf(w, "  ~ %s: %s -> %s\n", c.Path, c.Before, c.After)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
