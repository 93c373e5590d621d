// Package advisor recommends how an organisation's users should get into
// Auth0. It is a pure function of two things: what the operator says about
// their situation (Answers) and what their data shows (Data, a summary of
// validating a sample export). The rules follow Auth0's B2C provisioning
// guidance (docs/auth0.md S8): proxy a legacy store that must keep serving apps,
// prefer automatic migration because users keep their passwords, finish
// with a bulk import of whoever is left, and bulk-import directly when every
// password can be imported anyway.
//
// Each recommendation names the rule of the decision table that produced it
// and gives its reasons, ranked alternatives with a reason each, additions
// (social sign-up) and risks, all in words a consultant can put in front of
// a client.
package advisor

import (
	"fmt"
	"strings"
)

// Strategy is a way of provisioning users into Auth0.
type Strategy string

// The strategies, as named in plan files.
const (
	// SelfSignup: users sign up themselves in an Auth0 database connection.
	SelfSignup Strategy = "self-signup"
	// Proxy: Auth0 authenticates against the legacy store through custom
	// database scripts, and users stay there (import mode off).
	Proxy Strategy = "proxy"
	// Automatic: users move into Auth0 one by one as they log in (custom
	// database scripts with import mode on).
	Automatic Strategy = "automatic"
	// Bulk: users are imported from an export through import jobs.
	Bulk Strategy = "bulk"
	// AutomaticThenBulk: automatic migration for a window, then a bulk
	// import of the users who did not log in.
	AutomaticThenBulk Strategy = "automatic-then-bulk"
)

// Strategies lists every strategy, in the order the report presents them.
var Strategies = []Strategy{SelfSignup, Proxy, Automatic, Bulk, AutomaticThenBulk}

// ParseStrategy reads a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	st := Strategy(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Strategies {
		if st == known {
			return st, nil
		}
	}
	names := make([]string, len(Strategies))
	for i, k := range Strategies {
		names[i] = string(k)
	}
	return "", fmt.Errorf("strategy %q: use one of %s", s, strings.Join(names, ", "))
}

// Title is the strategy's name for people.
func (s Strategy) Title() string {
	switch s {
	case SelfSignup:
		return "Self sign-up"
	case Proxy:
		return "Identity-store proxy"
	case Automatic:
		return "Automatic migration"
	case Bulk:
		return "Bulk migration"
	case AutomaticThenBulk:
		return "Automatic migration, then bulk"
	}
	return string(s)
}

// UsesScripts reports whether the strategy runs custom database scripts
// against the legacy store.
func (s Strategy) UsesScripts() bool {
	return s == Proxy || s == Automatic || s == AutomaticThenBulk
}

// Imports reports whether the strategy runs bulk import jobs, and so needs
// stages.
func (s Strategy) Imports() bool { return s == Bulk || s == AutomaticThenBulk }
