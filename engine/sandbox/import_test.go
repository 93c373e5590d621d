package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"provision/engine/sandbox"
)

func bcryptOf(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// errorsByEmail indexes job errors by the email the user had in the file
// (or by position for users without one).
func errorsByEmail(errs []sandbox.JobUserError) map[string][]sandbox.UserError {
	out := map[string][]sandbox.UserError{}
	for i, e := range errs {
		var u struct {
			Email string `json:"email"`
		}
		json.Unmarshal(e.User, &u)
		key := u.Email
		if key == "" {
			key = fmt.Sprintf("#%d", i)
		}
		out[key] = e.Errors
	}
	return out
}

func TestImportMixedFileReportsAuth0Codes(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	hash := bcryptOf(t, "correct horse")
	file := usersJSON(
		`{"email":"Ana@Example.com","email_verified":true,"given_name":"Ana","password_hash":"`+hash+`"}`,
		`{"email":"bob.example.com"}`,
		`{"given_name":"Nobody"}`,
		`{"email":"cy@example.com","favourite_colour":"blue"}`,
		`{"email":"di@example.com","custom_password_hash":{"algorithm":"crypt","hash":{"value":"abc"}}}`,
		`{"email":"ed@example.com","email_verified":"yes"}`,
		`{"email":"fa@example.com","mfa_factors":[]}`,
		`{"email":"gu@example.com","mfa_factors":[`+strings.Repeat(`{"totp":{"secret":"JBSWY3DP"}},`, 10)+`{"totp":{"secret":"JBSWY3DP"}}]}`,
		`{"email":"ha@example.com","mfa_factors":[{"totp":{"secret":"not base32!"}}]}`,
		`{"email":"io@example.com","given_name":""}`,
		`{"email":"ja@example.com","given_name":"`+strings.Repeat("x", 151)+`"}`,
		`{"email":"ka@example.com","app_metadata":{"plan":"gold","loginsCount":3}}`,
		`{"email":"lu@example.com","password_hash":"`+hash+`","custom_password_hash":{"algorithm":"md5","hash":{"value":"x","encoding":"hex"}}}`,
		`{"email":"ana@example.com","given_name":"Ana again"}`,
		`{"email":"mo@example.com","phone_number":"0612345678"}`,
		`{"email":"ny@example.com","password_hash":"md5:5f4dcc3b5aa765d61d8327deb882cf99"}`,
		`"not an object"`,
		`{"email":"ok@example.com","user_id":"legacy-42","username":"ok_user","app_metadata":{"plan":"gold"}}`,
	)
	j, errs := tn.runImport(file, false)

	want := sandbox.Summary{Inserted: 2, Updated: 0, Failed: 16, Total: 18}
	if *j.Summary != want {
		t.Errorf("summary = %+v, want %+v", *j.Summary, want)
	}
	type codePath struct{ code, path string }
	wantErrs := map[string][]codePath{
		"bob.example.com": {{"FORMAT", "email"}},
		"#1":              {{"OBJECT_REQUIRED", "email"}},
		"cy@example.com":  {{"OBJECT_ADDITIONAL_PROPERTIES", "favourite_colour"}},
		"di@example.com":  {{"ENUM_MISMATCH", "custom_password_hash.algorithm"}},
		"ed@example.com":  {{"INVALID_TYPE", "email_verified"}},
		"fa@example.com":  {{"ARRAY_LENGTH_SHORT", "mfa_factors"}},
		"gu@example.com":  {{"ARRAY_LENGTH_LONG", "mfa_factors"}},
		"ha@example.com":  {{"PATTERN", "mfa_factors[0].totp.secret"}},
		"io@example.com":  {{"MIN_LENGTH", "given_name"}},
		"ja@example.com":  {{"MAX_LENGTH", "given_name"}},
		"ka@example.com":  {{"NOT_PASSED", "app_metadata.loginsCount"}},
		"lu@example.com":  {{"NOT_PASSED", "custom_password_hash"}},
		"ana@example.com": {{"DUPLICATED_USER", "email"}},
		"mo@example.com":  {{"PATTERN", "phone_number"}},
		"ny@example.com":  {{"PATTERN", "password_hash"}},
		"#15":             {{"INVALID_TYPE", ""}},
	}
	got := errorsByEmail(errs)
	if len(got) != len(wantErrs) {
		t.Errorf("%d users with errors, want %d: %v", len(got), len(wantErrs), got)
	}
	for key, want := range wantErrs {
		var have []codePath
		for _, e := range got[key] {
			have = append(have, codePath{e.Code, e.Path})
			if e.Message == "" {
				t.Errorf("%s: %s without a message", key, e.Code)
			}
		}
		if !slices.Equal(have, want) {
			t.Errorf("%s: errors %v, want %v", key, have, want)
		}
	}

	ana := mustUser(t, tn.srv, "ana@example.com")
	if ana.Email != "ana@example.com" || !ana.EmailVerified || ana.GivenName != "Ana" || ana.Name != "ana@example.com" || ana.Nickname != "ana" {
		t.Errorf("imported user = %+v", ana)
	}
	if !strings.HasPrefix(ana.UserID, "auth0|") || len(ana.UserID) != len("auth0|")+24 {
		t.Errorf("generated user_id = %q, want auth0| and 24 hex digits", ana.UserID)
	}
	ok := mustUser(t, tn.srv, "ok@example.com")
	wantIdentity := sandbox.Identity{Connection: tn.srv.ConnectionName(), UserID: "legacy-42", Provider: "auth0"}
	if ok.UserID != "auth0|legacy-42" || ok.Username != "ok_user" || len(ok.Identities) != 1 || ok.Identities[0] != wantIdentity {
		t.Errorf("user with given id = %+v", ok)
	}
}

func TestJobErrorsRedactSecrets(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	file := usersJSON(
		`{"email":"bad","password_hash":"$2b$10$SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRE"}`,
		`{"email":"bad2","custom_password_hash":{"algorithm":"hmac","hash":{"value":"HASHVALUE","encoding":"hex","digest":"sha1","key":{"value":"HMACKEY"}},"salt":{"value":"SALTVALUE"}}}`,
		`{"email":"bad3","mfa_factors":[{"totp":{"secret":"TOTPSECRET"}}]}`,
	)
	j := tn.job(tn.importJob(file, false).ID)
	r := tn.get("/api/v2/jobs/" + j.ID + "/errors")
	for _, secret := range []string{"SECRETSECRET", "HASHVALUE", "HMACKEY", "SALTVALUE", "TOTPSECRET"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("job errors expose %q: %s", secret, r.body)
		}
	}
	var errs []struct {
		User map[string]any `json:"user"`
	}
	r.json(t, &errs)
	if len(errs) != 3 {
		t.Fatalf("%d errors, want 3", len(errs))
	}
	if errs[0].User["password_hash"] != "*****" {
		t.Errorf("password_hash shown as %v", errs[0].User["password_hash"])
	}
	c := errs[1].User["custom_password_hash"].(map[string]any)
	if c["algorithm"] != "hmac" || c["hash"].(map[string]any)["value"] != "*****" {
		t.Errorf("custom_password_hash shown as %v; want algorithm kept and value masked", c)
	}
}

func TestDuplicatesWithinOneFile(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	file := usersJSON(
		`{"email":"a@example.com","username":"alpha","user_id":"1"}`,
		`{"email":"A@EXAMPLE.COM"}`,
		`{"email":"b@example.com","username":"ALPHA"}`,
		`{"email":"c@example.com","user_id":"1"}`,
		`{"email":"d@example.com"}`,
	)
	j, errs := tn.runImport(file, true) // upsert does not turn a repeat into an update
	if want := (sandbox.Summary{Inserted: 2, Failed: 3, Total: 5}); *j.Summary != want {
		t.Errorf("summary = %+v, want %+v", *j.Summary, want)
	}
	var got []string
	for _, e := range errs {
		if len(e.Errors) != 1 || e.Errors[0].Code != "DUPLICATED_USER" {
			t.Errorf("errors %+v, want one DUPLICATED_USER", e.Errors)
			continue
		}
		got = append(got, e.Errors[0].Path+": "+e.Errors[0].Message)
	}
	want := []string{
		"email: A user with this email was already provided.",
		"username: A user with this username was already provided.",
		"user_id: A user with this user_id was already provided.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("duplicates = %q, want %q", got, want)
	}
	if c, _ := tn.srv.ImportCount("a@example.com"); c != (sandbox.ImportCount{Inserted: 1}) {
		t.Errorf("a@example.com imported %+v, want inserted once", c)
	}
}

func TestReimportWithoutUpsertIsDuplicatedUser(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.runImport(usersJSON(`{"email":"a@example.com","user_id":"u1","username":"anna","phone_number":"+33612345678"}`), false)

	tests := []struct{ name, user string }{
		{"same email", `{"email":"a@example.com"}`},
		{"same email other case", `{"email":"A@Example.COM"}`},
		{"same user_id", `{"email":"x1@example.com","user_id":"u1"}`},
		{"same username", `{"email":"x2@example.com","username":"anna"}`},
		{"same phone", `{"email":"x3@example.com","phone_number":"+33612345678"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, errs := tn.runImport(usersJSON(tt.user), false)
			if *j.Summary != (sandbox.Summary{Failed: 1, Total: 1}) || len(errs) != 1 {
				t.Fatalf("summary %+v, errors %+v", *j.Summary, errs)
			}
			e := errs[0].Errors
			if len(e) != 1 || e[0].Code != "DUPLICATED_USER" || e[0].Message != "The user already exist and upsert parameter is false" {
				t.Errorf("errors = %+v", e)
			}
		})
	}
	users, _ := tn.srv.Users()
	if len(users) != 1 {
		t.Errorf("tenant holds %d users, want 1", len(users))
	}
}

func TestUpsertUpdatesOnlyUpsertableAttributes(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.runImport(usersJSON(`{"email":"a@example.com","user_id":"u1","username":"anna","given_name":"Anna","family_name":"Old",
		"nickname":"ann","blocked":false,"email_verified":false,
		"app_metadata":{"plan":"gold","region":"eu"},"user_metadata":{"lang":"fr"}}`), false)
	before := mustUser(t, tn.srv, "a@example.com")
	tn.clock.Advance(1e9)

	j, errs := tn.runImport(usersJSON(`{"email":"A@example.com","user_id":"other-id","username":"new_name","given_name":"Ann",
		"blocked":true,"email_verified":true,"phone_number":"+15551234567",
		"app_metadata":{"tier":2}}`), true)
	if *j.Summary != (sandbox.Summary{Updated: 1, Total: 1}) || errs != nil {
		t.Fatalf("summary %+v errors %+v, want one update", *j.Summary, errs)
	}
	after := mustUser(t, tn.srv, "a@example.com")
	checks := []struct {
		field     string
		got, want any
	}{
		{"given_name (upsertable)", after.GivenName, "Ann"},
		{"family_name (absent from file: kept)", after.FamilyName, "Old"},
		{"nickname (absent: kept)", after.Nickname, "ann"},
		{"email_verified (upsertable)", after.EmailVerified, true},
		{"app_metadata (overwritten, not merged)", string(after.AppMetadata), `{"tier":2}`},
		{"user_metadata (absent: kept)", string(after.UserMetadata), `{"lang":"fr"}`},
		{"blocked (not upsertable)", after.Blocked, false},
		{"username (not upsertable)", after.Username, "anna"},
		{"user_id (not upsertable)", after.UserID, "auth0|u1"},
		{"phone_number (not upsertable)", after.PhoneNumber, ""},
		{"created_at", after.CreatedAt, before.CreatedAt},
		{"updated_at moves", after.UpdatedAt.After(before.UpdatedAt.Time), true},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if c, _ := tn.srv.ImportCount("a@example.com"); c != (sandbox.ImportCount{Inserted: 1, Updated: 1}) {
		t.Errorf("import count = %+v, want inserted 1, updated 1", c)
	}
}

func TestUpsertConflicts(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.runImport(usersJSON(
		`{"email":"a@example.com","user_id":"u1","username":"anna","phone_number":"+15550000001"}`,
		`{"email":"b@example.com","user_id":"u2","username":"bert","phone_number":"+15550000002"}`), false)
	tests := []struct {
		name, user, wantCode, wantPath string
	}{
		{"new email, existing user_id", `{"email":"new@example.com","user_id":"u1"}`, "CONFLICT_EMAIL", "user_id"},
		{"new email, existing username", `{"email":"new@example.com","username":"anna"}`, "CONFLICT_USERNAME", "username"},
		{"new email, existing phone", `{"email":"new@example.com","phone_number":"+15550000001"}`, "CONFLICT", "phone_number"},
		{"email of one, username of another", `{"email":"a@example.com","username":"bert"}`, "CONFLICT_USERNAME", "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, errs := tn.runImport(usersJSON(tt.user), true)
			if *j.Summary != (sandbox.Summary{Failed: 1, Total: 1}) || len(errs) != 1 {
				t.Fatalf("summary %+v errors %+v", *j.Summary, errs)
			}
			if e := errs[0].Errors; len(e) != 1 || e[0].Code != tt.wantCode || e[0].Path != tt.wantPath {
				t.Errorf("errors = %+v, want %s on %s", e, tt.wantCode, tt.wantPath)
			}
		})
	}
	// The same user_id on the user that the email matches is no conflict.
	if j, _ := tn.runImport(usersJSON(`{"email":"a@example.com","user_id":"u1","given_name":"A"}`), true); j.Summary.Updated != 1 {
		t.Errorf("upsert of a consistent user: %+v", *j.Summary)
	}
}

func TestConnectionRequiringUsernames(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	r := tn.sendJSON(http.MethodPatch, "/api/v2/connections/"+tn.srv.ConnectionID(), map[string]any{
		"options": map[string]any{"requires_username": true, "validation": map[string]any{"username": map[string]any{"min": 3, "max": 12}}},
	})
	if r.status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", r.status, r.body)
	}
	_, errs := tn.runImport(usersJSON(
		`{"email":"a@example.com"}`,
		`{"email":"b@example.com","username":"ab"}`,
		`{"email":"c@example.com","username":"much_too_long_name"}`,
		`{"email":"d@example.com","username":"bad name"}`,
		`{"email":"e@example.com","username":"e@ex.co"}`,
		`{"email":"f@example.com","username":"Fine.Name"}`,
	), false)
	got := errorsByEmail(errs)
	for email, code := range map[string]string{
		"a@example.com": "OBJECT_REQUIRED", "b@example.com": "MIN_LENGTH", "c@example.com": "MAX_LENGTH",
		"d@example.com": "PATTERN", "e@example.com": "PATTERN",
	} {
		if e := got[email]; len(e) == 0 || e[0].Code != code {
			t.Errorf("%s: errors %+v, want %s", email, e, code)
		}
	}
	if u := mustUser(t, tn.srv, "f@example.com"); u.Username != "fine.name" {
		t.Errorf("username stored as %q, want it lower-cased", u.Username)
	}
}

func TestImportRejectsBadRequests(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	file := usersJSON(`{"email":"a@example.com"}`)
	tests := []struct {
		name        string
		users       []byte
		fields      map[string]string
		wantStatus  int
		wantMessage string
	}{
		{"no users file", nil, map[string]string{"connection_id": tn.srv.ConnectionID()}, 400, "Payload validation error: 'Missing required property: users'"},
		{"no connection", file, nil, 400, "Payload validation error: 'Missing required property: connection_id'"},
		{"malformed connection id", file, map[string]string{"connection_id": "con_123"}, 400,
			"Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id"},
		{"unknown connection", file, map[string]string{"connection_id": "con_AAAAAAAAAAAAAAAA"}, 400, "The connection does not exist"},
		{"upsert not a boolean", file, map[string]string{"connection_id": tn.srv.ConnectionID(), "upsert": "maybe"}, 400,
			"Payload validation error: 'Expected type boolean but found type string' on property upsert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := importForm(t, tt.users, tt.fields)
			r := tn.do(http.MethodPost, "/api/v2/jobs/users-imports", ct, body)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if _, msg, _ := r.apiError(t); msg != tt.wantMessage {
				t.Errorf("message = %q, want %q", msg, tt.wantMessage)
			}
		})
	}
}

func TestImportJobCreationResponse(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	ct, body := importForm(t, usersJSON(`{"email":"a@example.com"}`), map[string]string{
		"connection_id": tn.srv.ConnectionID(), "external_id": "run-7/chunk-3", "upsert": "true",
	})
	r := tn.do(http.MethodPost, "/api/v2/jobs/users-imports", ct, body)
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d %s", r.status, r.body)
	}
	var got map[string]any
	r.json(t, &got)
	want := map[string]any{
		"status": "pending", "type": "users_import", "connection_id": tn.srv.ConnectionID(),
		"external_id": "run-7/chunk-3", "upsert": true, "send_completion_email": true,
		"created_at": "2026-03-01T09:00:00.000Z",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if id, _ := got["id"].(string); !strings.HasPrefix(id, "job_") || len(id) != 20 {
		t.Errorf("id = %q, want job_ and 16 characters", id)
	}
	if j := tn.job(got["id"].(string)); j.ExternalID != "run-7/chunk-3" {
		t.Errorf("GET job external_id = %q", j.ExternalID)
	}
}
