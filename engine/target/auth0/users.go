package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"provision/engine/target"
)

// UsersByEmail finds users by exact email: GET /api/v2/users-by-email
// (scope read:users). The endpoint is case-sensitive and Auth0 database
// connections store emails lower-cased, so the address is lower-cased
// before the lookup. Users of every connection are returned; compare
// Identities to the migration's connection.
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]target.User, error) {
	var users []userJSON
	err := c.do(ctx, call{
		op:     "look up a user by email",
		method: "GET",
		path:   "/api/v2/users-by-email",
		query:  url.Values{"email": {strings.ToLower(email)}},
	}, &users)
	if err != nil {
		return nil, err
	}
	out := make([]target.User, len(users))
	for i, u := range users {
		out[i] = u.user()
	}
	return out, nil
}

// DeleteUser deletes a user: DELETE /api/v2/users/{id} (scope
// delete:users). A user already gone counts as deleted.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	if userID == "" {
		return errors.New("delete user: empty user id")
	}
	path, raw := apiPath("users", userID)
	err := c.do(ctx, call{op: "delete user " + userID, method: "DELETE", path: path, rawPath: raw}, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// ListUsersOptions select a page of GET /api/v2/users.
type ListUsersOptions struct {
	Page    int // zero-based
	PerPage int // 1–100 (Auth0's maximum); default 50
	// Query is a Lucene query (search engine v3), e.g.
	// identities.connection:"Username-Password-Authentication".
	Query string
}

// UsersPage is one page of users and the paging totals.
type UsersPage struct {
	Users               []target.User
	Start, Limit, Total int
}

// ListUsers reads one page of users (scope read:users). Auth0 serves at
// most 1,000 users through paging (page × per_page); for more, use
// ExportUsers.
func (c *Client) ListUsers(ctx context.Context, opts ListUsersOptions) (UsersPage, error) {
	if opts.PerPage <= 0 {
		opts.PerPage = 50
	}
	if opts.PerPage > 100 {
		return UsersPage{}, fmt.Errorf("list users: per page %d is over Auth0's maximum of 100", opts.PerPage)
	}
	q := url.Values{
		"page":           {strconv.Itoa(opts.Page)},
		"per_page":       {strconv.Itoa(opts.PerPage)},
		"include_totals": {"true"},
	}
	if opts.Query != "" {
		q.Set("q", opts.Query)
		q.Set("search_engine", "v3")
	}
	var page struct {
		Start int        `json:"start"`
		Limit int        `json:"limit"`
		Total int        `json:"total"`
		Users []userJSON `json:"users"`
	}
	if err := c.do(ctx, call{op: "list users", method: "GET", path: "/api/v2/users", query: q}, &page); err != nil {
		return UsersPage{}, err
	}
	out := UsersPage{Start: page.Start, Limit: page.Limit, Total: page.Total, Users: make([]target.User, len(page.Users))}
	for i, u := range page.Users {
		out.Users[i] = u.user()
	}
	return out, nil
}

// userJSON is a user as the Management API writes it.
type userJSON struct {
	UserID        string `json:"user_id"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
	Identities    []struct {
		Connection string          `json:"connection"`
		Provider   string          `json:"provider"`
		UserID     json.RawMessage `json:"user_id"` // a number for some providers
	} `json:"identities"`
}

func (u userJSON) user() target.User {
	out := target.User{UserID: u.UserID, Email: u.Email, EmailVerified: u.EmailVerified,
		CreatedAt: parseTime(u.CreatedAt), UpdatedAt: parseTime(u.UpdatedAt)}
	for _, id := range u.Identities {
		var uid string
		if json.Unmarshal(id.UserID, &uid) != nil {
			uid = string(id.UserID)
		}
		out.Identities = append(out.Identities, target.Identity{Connection: id.Connection, Provider: id.Provider, UserID: uid})
	}
	return out
}
