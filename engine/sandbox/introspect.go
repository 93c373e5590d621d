package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"

	"provision/engine/importuser"
	"provision/engine/sandbox/store"
)

// Introspection and control for tests and rehearsals: what the tenant
// holds, seen from the server side, and administrative actions that have
// no Management API endpoint here. Each call first brings jobs up to date
// with the tenant's clock.

// Users returns every user of the tenant, oldest first.
func (s *Server) Users() ([]User, error) {
	if err := s.advance(); err != nil {
		return nil, err
	}
	var out []User
	err := s.store.View(func(tx store.Tx) error {
		all, err := state{tx}.users("")
		for _, u := range all {
			out = append(out, u.User)
		}
		return err
	})
	return out, err
}

// UserByEmail finds the user of the tenant's connection with this email
// (compared lower-cased, as Auth0 stores it).
func (s *Server) UserByEmail(email string) (User, bool, error) {
	if err := s.advance(); err != nil {
		return User{}, false, err
	}
	var u *userRecord
	err := s.store.View(func(tx store.Tx) (err error) {
		u, err = state{tx}.userBy(bucketByEmail, s.cfg.ConnectionID, strings.ToLower(email))
		return err
	})
	if err != nil || u == nil {
		return User{}, false, err
	}
	return u.User, true, nil
}

// ImportCount says how often imports inserted and updated a user with this
// email, over the tenant's life: a user imported twice shows Inserted 2
// even if it was deleted in between.
func (s *Server) ImportCount(email string) (ImportCount, error) {
	if err := s.advance(); err != nil {
		return ImportCount{}, err
	}
	var c ImportCount
	err := s.store.View(func(tx store.Tx) (err error) {
		c, err = state{tx}.importCount(strings.ToLower(email))
		return err
	})
	return c, err
}

// ImportCounts returns ImportCount for every email ever imported.
func (s *Server) ImportCounts() (map[string]ImportCount, error) {
	if err := s.advance(); err != nil {
		return nil, err
	}
	out := map[string]ImportCount{}
	err := s.store.View(func(tx store.Tx) error {
		return tx.ForEach(bucketImportCounts, func(k string, v []byte) error {
			var c ImportCount
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("import count of %s: %w", k, err)
			}
			out[k] = c
			return nil
		})
	})
	return out, err
}

// ActiveImports is the number of import jobs pending or processing.
func (s *Server) ActiveImports() (int, error) {
	if err := s.advance(); err != nil {
		return 0, err
	}
	var n int
	err := s.store.View(func(tx store.Tx) (err error) {
		n, err = state{tx}.activeImports()
		return err
	})
	return n, err
}

// Import puts users into the tenant's connection at once, through the same
// rules as an import job, and reports what a finished job would. Use it
// to give a test a tenant that already holds users.
func (s *Server) Import(upsert bool, users ...importuser.User) (Summary, []JobUserError, error) {
	elements := make([]json.RawMessage, len(users))
	for i, u := range users {
		b, err := json.Marshal(u)
		if err != nil {
			return Summary{}, nil, err
		}
		elements[i] = b
	}
	var res importResult
	err := s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		conn, err := st.connection(s.cfg.ConnectionID)
		if err != nil || conn == nil {
			return fmt.Errorf("connection %s: %v", s.cfg.ConnectionID, err)
		}
		res, err = newImporter(st, conn, upsert, s.now()).run(elements)
		return err
	})
	return res.summary, res.errors, err
}

// ExpireTokens makes every token issued so far expired, as if their
// lifetime had passed: the next Management API call with one gets 401.
func (s *Server) ExpireTokens() error {
	return s.store.Update(func(tx store.Tx) error {
		n, err := state{tx}.nextSeq(metaTokenGen)
		if err == nil {
			s.tokenGen.Store(n)
		}
		return err
	})
}

func (s *Server) tokenGeneration() uint64 { return s.tokenGen.Load() }

// UnblockLogins lifts every brute-force block, as an administrator's
// unblock would.
func (s *Server) UnblockLogins() { s.logins.clear() }
