package target

import "testing"

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		wantErr bool
	}{
		{"auth0:acme.auth0.com", Spec{"auth0", "acme.auth0.com"}, false},
		{"auth0:http://127.0.0.1:8787", Spec{"auth0", "http://127.0.0.1:8787"}, false},
		{"file:import/", Spec{"file", "import/"}, false},
		{"file:", Spec{}, true},
		{"s3:bucket", Spec{}, true},
		{"acme.auth0.com", Spec{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSpec(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSpec(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestTerminalStatuses(t *testing.T) {
	for status, want := range map[JobStatus]bool{
		StatusPending: false, StatusProcessing: false, "queued": false,
		StatusCompleted: true, StatusFailed: true, StatusExpired: true,
	} {
		if status.Terminal() != want {
			t.Errorf("%q.Terminal() = %v, want %v", status, !want, want)
		}
	}
	if got := (Submission{Seq: 12}).FileName(); got != "users-0012.json" {
		t.Errorf("FileName = %q", got)
	}
	e := JobUserError{Errors: []UserError{{Code: "DUPLICATED_USER"}, {Code: "FORMAT"}}}
	if got := e.Codes(); len(got) != 2 || got[0] != "DUPLICATED_USER" || got[1] != "FORMAT" {
		t.Errorf("Codes = %v", got)
	}
}
