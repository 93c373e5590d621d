package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"provision/engine/sandbox/store"
)

// Paging limits of GET /api/v2/users (Auth0: at most 100 per page and only
// the first 1000 results; the export job is the way to see more).
const (
	defaultPerPage = 50
	maxPerPage     = 100
	maxListed      = 1000
)

// handleUsersByEmail is an exact, case-sensitive match, as Auth0
// documents: Auth0 stores a database user's email lower-cased, so a
// mixed-case query finds nobody.
func (s *Server) handleUsersByEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email := q.Get("email")
	if email == "" {
		badQuery(w, "Missing required property: email", "")
		return
	}
	var found []*userRecord
	err := s.store.View(func(tx store.Tx) error {
		st := state{tx}
		conns, err := st.connections()
		if err != nil {
			return err
		}
		for _, c := range conns {
			u, err := st.userBy(bucketByEmail, c.ID, email)
			if err != nil {
				return err
			}
			if u != nil {
				found = append(found, u)
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("users by email", "err", err)
		internalError(w)
		return
	}
	out, ok := projectUsers(w, q, found)
	if ok {
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("q") != "" {
		writeAPIError(w, http.StatusBadRequest,
			"The sandbox does not implement user search (q); look users up with /api/v2/users-by-email or list them without q", "invalid_query_string")
		return
	}
	page, ok := intParam(w, q, "page", 0, 0, maxListed)
	if !ok {
		return
	}
	perPage, ok := intParam(w, q, "per_page", defaultPerPage, 0, maxPerPage)
	if !ok {
		return
	}
	start := page * perPage
	if start >= maxListed && perPage > 0 {
		writeAPIError(w, http.StatusBadRequest,
			"You can only page through the first 1000 records. Use the users export job to read more.", "invalid_paging")
		return
	}
	var all []*userRecord
	if err := s.store.View(func(tx store.Tx) (err error) {
		all, err = state{tx}.users("")
		return err
	}); err != nil {
		s.log.Error("list users", "err", err)
		internalError(w)
		return
	}
	end := min(start+perPage, len(all), maxListed)
	pageUsers := []*userRecord{}
	if start < end {
		pageUsers = all[start:end]
	}
	out, ok := projectUsers(w, q, pageUsers)
	if !ok {
		return
	}
	if q.Get("include_totals") != "true" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"start": start, "limit": perPage, "length": len(pageUsers), "total": len(all), "users": out,
	})
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	var u *userRecord
	if err := s.store.View(func(tx store.Tx) (err error) {
		u, err = state{tx}.user(r.PathValue("id"))
		return err
	}); err != nil {
		s.log.Error("get user", "err", err)
		internalError(w)
		return
	}
	if u == nil {
		writeAPIError(w, http.StatusNotFound, "The user does not exist.", "inexistent_user")
		return
	}
	out, ok := projectUsers(w, r.URL.Query(), []*userRecord{u})
	if ok {
		writeJSON(w, http.StatusOK, out[0])
	}
}

// handleDeleteUser answers 204 whether or not the user existed: the
// outcome the caller wants holds either way.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	err := s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		u, err := st.user(r.PathValue("id"))
		if err != nil || u == nil {
			return err
		}
		return st.deleteUser(u)
	})
	if err != nil {
		s.log.Error("delete user", "err", err)
		internalError(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// projectUsers applies the fields / include_fields query parameters.
func projectUsers(w http.ResponseWriter, q map[string][]string, users []*userRecord) ([]any, bool) {
	fields := splitFields(first(q["fields"]))
	include := first(q["include_fields"]) != "false"
	out := make([]any, 0, len(users))
	for _, u := range users {
		if len(fields) == 0 {
			out = append(out, u.User)
			continue
		}
		m, err := toMap(u.User)
		if err != nil {
			internalError(w)
			return nil, false
		}
		for k := range m {
			_, listed := fields[k]
			if listed != include {
				delete(m, k)
			}
		}
		out = append(out, m)
	}
	return out, true
}

func splitFields(s string) map[string]struct{} {
	fields := map[string]struct{}{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			fields[f] = struct{}{}
		}
	}
	return fields
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func intParam(w http.ResponseWriter, q map[string][]string, name string, def, lo, hi int) (int, bool) {
	v := first(q[name])
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		badQuery(w, "Expected type integer but found type string", name)
	case n < lo:
		badQuery(w, "Value "+v+" is less than minimum "+strconv.Itoa(lo), name)
	case n > hi:
		badQuery(w, "Value "+v+" is greater than maximum "+strconv.Itoa(hi), name)
	default:
		return n, true
	}
	return 0, false
}
