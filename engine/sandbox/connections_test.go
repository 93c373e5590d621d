package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"provision/engine/sandbox"
)

func TestConnectionGetAndPatch(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	path := "/api/v2/connections/" + tn.srv.ConnectionID()

	var conn struct {
		ID, Name, Strategy string
		Options            map[string]any
		EnabledClients     []string `json:"enabled_clients"`
		Realms             []string
	}
	tn.get(path).json(t, &conn)
	if conn.ID != tn.srv.ConnectionID() || conn.Name != tn.srv.ConnectionName() || conn.Strategy != "auth0" ||
		conn.Options["brute_force_protection"] != true || len(conn.Realms) != 1 || conn.EnabledClients[0] != tn.srv.ClientID() {
		t.Fatalf("connection = %+v", conn)
	}

	options := map[string]any{
		"passwordPolicy":              "excellent",
		"password_complexity_options": map[string]any{"min_length": 12},
		"password_history":            map[string]any{"enable": true, "size": 5},
		"password_dictionary":         map[string]any{"enable": true, "dictionary": []string{"acme", "rocket"}},
		"password_no_personal_info":   map[string]any{"enable": true},
		"brute_force_protection":      true,
		"disable_signup":              false,
		"validation":                  map[string]any{"username": map[string]any{"min": 2, "max": 20}},
		"some_future_option":          map[string]any{"kept": "as is"},
	}
	r := tn.sendJSON(http.MethodPatch, path, map[string]any{"options": options, "display_name": "Staff"})
	if r.status != http.StatusOK {
		t.Fatalf("PATCH = %d %s", r.status, r.body)
	}
	var echoed struct {
		Options     map[string]any `json:"options"`
		DisplayName string         `json:"display_name"`
	}
	tn.get(path).json(t, &echoed)
	want, _ := json.Marshal(options)
	got, _ := json.Marshal(echoed.Options)
	if string(got) != string(want) || echoed.DisplayName != "Staff" {
		t.Errorf("stored options = %s, want %s (display_name %q)", got, want, echoed.DisplayName)
	}

	// options replaces the whole object, as on Auth0.
	tn.sendJSON(http.MethodPatch, path, map[string]any{"options": map[string]any{"disable_signup": true}})
	var replaced struct{ Options map[string]any }
	tn.get(path).json(t, &replaced)
	if len(replaced.Options) != 1 || replaced.Options["disable_signup"] != true {
		t.Errorf("options after a second PATCH = %v, want only disable_signup", replaced.Options)
	}
}

func TestConnectionPatchValidation(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	path := "/api/v2/connections/" + tn.srv.ConnectionID()
	tests := []struct {
		name        string
		body        map[string]any
		wantMessage string
	}{
		{"unknown policy", map[string]any{"options": map[string]any{"passwordPolicy": "strong"}},
			`Payload validation error: 'No enum match for: "strong"' on property options.passwordPolicy`},
		{"min length too small", map[string]any{"options": map[string]any{"password_complexity_options": map[string]any{"min_length": 0}}},
			"Payload validation error: 'Value 0 is less than minimum 1' on property options.password_complexity_options.min_length"},
		{"history too long", map[string]any{"options": map[string]any{"password_history": map[string]any{"size": 25}}},
			"Payload validation error: 'Value 25 is greater than maximum 24' on property options.password_history.size"},
		{"dictionary too big", map[string]any{"options": map[string]any{"password_dictionary": map[string]any{"dictionary": make([]string, 201)}}},
			"Payload validation error: 'Array is too long (201), maximum 200' on property options.password_dictionary.dictionary"},
		{"dictionary word too long", map[string]any{"options": map[string]any{"password_dictionary": map[string]any{"dictionary": []string{strings.Repeat("a", 51)}}}},
			"Payload validation error: 'String is too long (51 chars), maximum 50' on property options.password_dictionary.dictionary[0]"},
		{"boolean as string", map[string]any{"options": map[string]any{"brute_force_protection": "yes"}},
			"Payload validation error: 'Expected type boolean but found type string' on property options.brute_force_protection"},
		{"username max too big", map[string]any{"options": map[string]any{"validation": map[string]any{"username": map[string]any{"min": 1, "max": 129}}}},
			"Payload validation error: 'Value 129 is greater than maximum 128' on property options.validation.username.max"},
		{"username min above max", map[string]any{"options": map[string]any{"validation": map[string]any{"username": map[string]any{"min": 10, "max": 5}}}},
			"Payload validation error: 'Value 10 is greater than max 5' on property options.validation.username.min"},
		{"flexible policy rule", map[string]any{"options": map[string]any{"password_options": map[string]any{"complexity": map[string]any{"character_type_rule": "two_of_four"}}}},
			`Payload validation error: 'No enum match for: "two_of_four"' on property options.password_options.complexity.character_type_rule`},
		{"options not an object", map[string]any{"options": "strict"},
			"Payload validation error: 'Expected type object but found type string' on property options"},
		{"name cannot change", map[string]any{"name": "other"},
			"Payload validation error: 'Additional properties not allowed: name'"},
		{"wrong type elsewhere", map[string]any{"display_name": 5},
			"Payload validation error: 'Expected type string but found type number' on property display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tn.sendJSON(http.MethodPatch, path, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status = %d %s, want 400", r.status, r.body)
			}
			if _, msg, code := r.apiError(t); msg != tt.wantMessage || code != "invalid_body" {
				t.Errorf("message = %q (%s)\nwant      %q", msg, code, tt.wantMessage)
			}
		})
	}
	var conn struct{ Options map[string]any }
	tn.get(path).json(t, &conn)
	if conn.Options["passwordPolicy"] != "good" {
		t.Errorf("a rejected PATCH changed the options: %v", conn.Options)
	}
	if r := tn.sendJSON(http.MethodPatch, "/api/v2/connections/con_AAAAAAAAAAAAAAAA", map[string]any{"display_name": "x"}); r.status != http.StatusNotFound {
		t.Errorf("PATCH of an unknown connection = %d", r.status)
	}
}

func TestListConnections(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	var conns []struct{ ID, Name string }
	tn.get("/api/v2/connections?strategy=auth0&name="+tn.srv.ConnectionName()).json(t, &conns)
	if len(conns) != 1 || conns[0].ID != tn.srv.ConnectionID() {
		t.Errorf("connections = %+v", conns)
	}
	tn.get("/api/v2/connections?name=nope").json(t, &conns)
	if len(conns) != 0 {
		t.Errorf("filtered connections = %+v", conns)
	}
}
