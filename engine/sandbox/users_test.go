package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"provision/engine/importuser"
	"provision/engine/sandbox"
)

func importUser(email, userMetadata string) importuser.User {
	u := importuser.User{Email: email}
	if userMetadata != "" {
		u.UserMetadata = json.RawMessage(userMetadata)
	}
	return u
}

func TestUsersByEmailIsExactAndCaseSensitive(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importUser("Ana@Example.com", ""))
	tests := []struct {
		email string
		want  int
	}{
		{"ana@example.com", 1},
		{"Ana@Example.com", 0}, // stored lower-cased; the search is case-sensitive
		{"ana@example.co", 0},
	}
	for _, tt := range tests {
		r := tn.get("/api/v2/users-by-email?email=" + url.QueryEscape(tt.email))
		var users []sandbox.User
		r.json(t, &users)
		if r.status != http.StatusOK || len(users) != tt.want {
			t.Errorf("%s: %d with %d users, want %d", tt.email, r.status, len(users), tt.want)
		}
	}
	if r := tn.get("/api/v2/users-by-email"); r.status != http.StatusBadRequest {
		t.Errorf("no email = %d, want 400", r.status)
	}
	r := tn.get("/api/v2/users-by-email?email=ana@example.com&fields=user_id,email")
	var projected []map[string]any
	r.json(t, &projected)
	if len(projected) != 1 || len(projected[0]) != 2 {
		t.Errorf("fields=user_id,email gave %v", projected)
	}
}

func TestListUsersPages(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	var users []importuser.User
	for i := range 7 {
		users = append(users, importUser(fmt.Sprintf("u%d@example.com", i), ""))
		tn.clock.Advance(1) // distinct creation times keep the order stable
	}
	tn.srv.Import(false, users...)

	r := tn.get("/api/v2/users?page=1&per_page=3&include_totals=true")
	var page struct {
		Start, Limit, Length, Total int
		Users                       []sandbox.User
	}
	r.json(t, &page)
	if page.Start != 3 || page.Limit != 3 || page.Length != 3 || page.Total != 7 || len(page.Users) != 3 {
		t.Errorf("page = %+v", page)
	}
	var plain []sandbox.User
	tn.get("/api/v2/users?page=2&per_page=3").json(t, &plain)
	if len(plain) != 1 {
		t.Errorf("last page has %d users, want 1", len(plain))
	}
	for _, q := range []string{"page=20&per_page=50", "per_page=101", "page=-1", "q=email:x"} {
		if r := tn.get("/api/v2/users?" + q); r.status != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", q, r.status)
		}
	}
}

func TestGetAndDeleteUser(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importuser.User{Email: "a@example.com", UserID: "legacy|7"})
	path := "/api/v2/users/" + url.PathEscape("auth0|legacy|7")

	var u sandbox.User
	r := tn.get(path)
	r.json(t, &u)
	if r.status != http.StatusOK || u.Email != "a@example.com" {
		t.Fatalf("GET user = %d %s", r.status, r.body)
	}
	for i := range 2 { // deleting twice: the goal state holds either way
		if r := tn.do(http.MethodDelete, path, "", nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE #%d = %d %s", i+1, r.status, r.body)
		}
	}
	r = tn.get(path)
	if _, msg, code := r.apiError(t); r.status != http.StatusNotFound || code != "inexistent_user" {
		t.Errorf("GET deleted user = %d %q %q", r.status, msg, code)
	}
	// The email is free again, but the tenant remembers it was imported.
	tn.srv.Import(false, importUser("a@example.com", ""))
	if c, _ := tn.srv.ImportCount("a@example.com"); c.Inserted != 2 {
		t.Errorf("import count = %+v, want 2 inserts", c)
	}
}
