package validate

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"provision/engine/importuser"
	"provision/engine/source"
)

func runCSV(t *testing.T, text string, opts RunOptions) (*Report, []Result) {
	t.Helper()
	r, err := source.NewReader(strings.NewReader(text), "users.csv", source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	prev := opts.OnResult
	opts.OnResult = func(res *Result) error {
		results = append(results, *res)
		if prev != nil {
			return prev(res)
		}
		return nil
	}
	opts.File = "users.csv"
	rep, err := Run(context.Background(), r, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep, results
}

func codesOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestRunEveryRowEndsInOneBucket(t *testing.T) {
	text := "email,username,user_id,email_verified,legacy_flag\n" +
		"ana@example.com,ana,u1,true,x\n" +
		"ANA@example.com,ana2,u2,false,x\n" + // duplicate email (case-insensitive) of line 2
		"bob@example.com,ana,u3,,x\n" + // duplicate username of line 2
		"bad-email,carl,u4,,x\n" + // invalid
		"carl@example.com,carl,u4,,x\n" + // u4 was only used by a quarantined row: valid
		"dan@example.com,dan,u4,,x\n" + // duplicate user_id of line 6
		"eve@example.com,eve,u7,maybe,x\n" +
		"short,row\n" + // broken: wrong field count
		"fay@example.com,fay,u9,yes,x\n"
	rep, results := runCSV(t, text, RunOptions{})
	if rep.Rows != 9 || rep.Valid+rep.Quarantined != rep.Rows {
		t.Fatalf("rows=%d valid=%d quarantined=%d: every row must land in exactly one bucket", rep.Rows, rep.Valid, rep.Quarantined)
	}
	if rep.Valid != 3 || rep.Quarantined != 6 || rep.Duplicates != 3 {
		t.Fatalf("valid=%d quarantined=%d duplicates=%d, want 3/6/3", rep.Valid, rep.Quarantined, rep.Duplicates)
	}
	wantValid := map[int]bool{2: true, 6: true, 10: true}
	for _, res := range results {
		if wantValid[res.Line] == res.Quarantined {
			t.Errorf("line %d quarantined=%v (findings %v)", res.Line, res.Quarantined, res.Findings)
		}
	}
	dup := results[1].Findings[0]
	if dup.Code != CodeDuplicateEmail || !strings.Contains(dup.Message, "line 2") || dup.Line != 3 {
		t.Errorf("duplicate finding must name the earlier line: %+v", dup)
	}
	if results[5].Findings[0].Code != CodeDuplicateUserID || !strings.Contains(results[5].Findings[0].Message, "line 6") {
		t.Errorf("user_id duplicate: %+v", results[5].Findings)
	}
	if rep.ByCode[CodeUnknownColumn] != 1 {
		t.Errorf("unknown column must be reported once, got %d", rep.ByCode[CodeUnknownColumn])
	}
	if f := rep.Findings[0]; f.Code != CodeUnknownColumn || f.Line != 1 || !strings.Contains(f.Message, "legacy_flag") {
		t.Errorf("first finding = %+v, want the unknown column on line 1", f)
	}
	if rep.ByCode[CodeBrokenRecord] != 1 || rep.ByCode[CodeInvalidBoolean] != 1 || rep.ByCode[CodeEmailInvalid] != 1 {
		t.Errorf("by_code = %v", rep.ByCode)
	}
	if got := results[0].User; got.Email != "ana@example.com" || got.EmailVerified == nil || !*got.EmailVerified {
		t.Errorf("converted user = %+v", got)
	}
}

func TestRunMaxFindingsKeepsCounts(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	for i := 0; i < 50; i++ {
		b.WriteString("not-an-email\n")
	}
	rep, _ := runCSV(t, b.String(), RunOptions{MaxFindings: 10})
	if len(rep.Findings) != 10 || rep.FindingsOmitted != 40 || rep.ByCode[CodeEmailInvalid] != 50 {
		t.Fatalf("findings=%d omitted=%d by_code=%v", len(rep.Findings), rep.FindingsOmitted, rep.ByCode)
	}
}

func TestValidUsersPassAuth0Schema(t *testing.T) {
	text := "email,given_name,name,nickname,picture,blocked,phone_number,phone_verified,app_metadata,user_metadata,mfa_factors\n" +
		`Zoe@Example.com,Zoë,Ζωή Παπαδοπούλου,zoe,https://cdn.example.com/z.png,no,+306912345678,1,"{""plan"":""gold""}","{""lang"":""el""}","[{""totp"":{""secret"":""JBSWY3DPEHPK3PXP""}}]"` + "\n" +
		"li@example.cn,李,李小龙,,,,,,,,\n"
	rep, results := runCSV(t, text, RunOptions{})
	if rep.Valid != 2 {
		t.Fatalf("want 2 valid rows, got %+v", rep.Findings)
	}
	for _, res := range results {
		if err := importuser.ValidateUser(res.User); err != nil {
			t.Errorf("line %d: valid by our rules but not by Auth0's schema: %v", res.Line, err)
		}
	}
}

func TestQuarantineFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rejected.csv")
	if err := os.WriteFile(path, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := CreateQuarantine(path)
	if err != nil {
		t.Fatal(err)
	}
	text := "email,name,password_hash\n" +
		"ok@example.com,Ok,\n" +
		"broken-email,\"=HYPERLINK(\"\"http://evil\"\")\",+abc/def==\n"
	r, _ := source.NewReader(strings.NewReader(text), "users.csv", source.Options{})
	if err := q.Start(r.Header()); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), r, RunOptions{File: "users.csv", OnResult: q.Add}); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("quarantine mode = %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != "line,reason,email,name,password_hash" {
		t.Fatalf("quarantine = %q", recs)
	}
	row := recs[1]
	if row[0] != "3" || !strings.Contains(row[1], "EMAIL_INVALID") || row[3] != `'=HYPERLINK("http://evil")` || row[4] != "'+abc/def==" {
		t.Fatalf("quarantined row = %q", row)
	}
	// Fed back, the file reads as the original row: the neutralizing quote
	// is removed and the line/reason columns are not "unknown".
	r2, _ := source.NewReader(bytes.NewReader(data), "rejected.csv", source.Options{})
	var back []Result
	rep, err := Run(context.Background(), r2, RunOptions{File: "rejected.csv", OnResult: func(res *Result) error { back = append(back, *res); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ByCode[CodeUnknownColumn] != 0 || back[0].Row.Name != `=HYPERLINK("http://evil")` || back[0].Row.PasswordHash != "+abc/def==" {
		t.Fatalf("rerun: by_code=%v row=%+v", rep.ByCode, back[0].Row)
	}
}

func TestRowFieldsFollowSourceFields(t *testing.T) {
	var r source.Row
	if got := len(rowFields(&r)); got != len(source.Fields) {
		t.Fatalf("rowFields has %d entries, source.Fields %d", got, len(source.Fields))
	}
	for i, p := range rowFields(&r) {
		*p = source.Fields[i]
	}
	if r.Email != "email" || r.MFAFactors != "mfa_factors" || r.PasswordEncoding != "password_encoding" || r.UserID != "user_id" {
		t.Fatalf("rowFields order differs from source.Fields: %+v", r)
	}
}

func TestCanariesVerifyConvertedHash(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	if err != nil {
		t.Fatal(err)
	}
	h12, _ := bcrypt.GenerateFromPassword([]byte("battery staple"), 11)
	text := "email,password_hash\n" +
		"ana@example.com," + string(h) + "\n" +
		"bob@example.com," + string(h12) + "\n" +
		"carl@example.com,$1$abcdefgh$abcdefghijklmnopqrstuv\n" +
		"dan@example.com,\n"
	creds := "email,password\nANA@example.com,correct horse\nbob@example.com,wrong\ncarl@example.com,x\ndan@example.com,y\nnobody@example.com,z\n"
	c, err := ReadCanaries(strings.NewReader(creds), "creds.csv")
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := runCSV(t, text, RunOptions{Canaries: c})
	got := map[string]CanaryResult{}
	for _, cr := range rep.Canaries {
		got[cr.Email] = cr
	}
	if len(rep.Canaries) != 5 {
		t.Fatalf("canaries = %+v", rep.Canaries)
	}
	if a := got["ana@example.com"]; !a.Verified || a.Algorithm != "bcrypt" || a.Line != 2 {
		t.Errorf("ana: %+v", a)
	}
	if b := got["bob@example.com"]; b.Verified || !b.Importable || b.Problem == "" {
		t.Errorf("bob (wrong password): %+v", b)
	}
	if c := got["carl@example.com"]; c.Importable || c.Verified {
		t.Errorf("carl (md5-crypt): %+v", c)
	}
	if n := got["nobody@example.com"]; n.Line != 0 || !strings.Contains(n.Problem, "creds.csv, line 6") {
		t.Errorf("missing canary: %+v", n)
	}
	out, _ := json.Marshal(rep)
	for _, secret := range []string{"correct horse", "battery staple", string(h)} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("report leaks %q", secret)
		}
	}
}

func TestReadCanariesErrorsNameFileAndLine(t *testing.T) {
	tests := map[string]string{
		"mail,pw\na@b.co,x\n":                  "line 1",
		"email,password\n,x\n":                 "line 2, field email",
		"email,password\na@b.co,\n":            "line 2, field password",
		"email,password\na@b.co,x\nA@b.co,y\n": "line 3, field email",
		"email,password\na@b.co,x,extra\n":     "line 2: has 3 fields",
	}
	for in, want := range tests {
		_, err := ReadCanaries(strings.NewReader(in), "creds.csv")
		if err == nil || !strings.Contains(err.Error(), "creds.csv") || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadCanaries(%q) = %v, want mention of %q", in, err, want)
		}
	}
}

func TestReportJSONContract(t *testing.T) {
	rep, _ := runCSV(t, "email\nbad\nok@example.com\n", RunOptions{})
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rows", "valid", "quarantined", "warnings", "by_code", "hash_algorithms", "findings", "canaries"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	f := m["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"line", "field", "code", "severity", "message"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q", k)
		}
	}
	if m["hash_algorithms"].(map[string]any)["none"].(float64) != 2 {
		t.Errorf("hash_algorithms = %v", m["hash_algorithms"])
	}
}
