package scripts

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// jsCase is one call of a script in testdata/harness.js.
type jsCase struct {
	Name    string            `json:"name"`
	Script  string            `json:"script"`
	Fn      string            `json:"fn"`
	Args    []any             `json:"args"`
	Dialect string            `json:"dialect"`
	Table   string            `json:"table"`
	Rows    []map[string]any  `json:"rows"`
	Known   map[string]string `json:"known,omitempty"`
	URL     string            `json:"url"`
	DBDown  bool              `json:"dbDown,omitempty"`
}

type jsError struct {
	Name            string  `json:"name"`
	Message         string  `json:"message"`
	Code            string  `json:"code"`
	UserNameOrEmail *string `json:"userNameOrEmail"`
}

type jsResult struct {
	Name    string          `json:"name"`
	Calls   int             `json:"calls"`
	Args    int             `json:"args"`
	Error   *jsError        `json:"error"`
	Value   json.RawMessage `json:"value"`
	Queries []struct {
		Text   string `json:"text"`
		Values []any  `json:"values"`
	} `json:"queries"`
	Rows         []map[string]any `json:"rows"`
	Opened       int              `json:"opened"`
	Closed       int              `json:"closed"`
	HarnessError string           `json:"harnessError"`
}

// testURL stands for the connection setting; the stubs check the scripts
// read it from configuration.
const testURL = "postgres://legacy@db.internal/app"

func nodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the scripts' behaviour is checked only where node runs")
	}
	return node
}

// runJS runs the cases in one node process and checks the contract every
// script must keep whatever the case: the callback is called exactly once,
// and every connection opened is closed.
func runJS(t *testing.T, cases []jsCase) map[string]jsResult {
	t.Helper()
	node := nodePath(t)
	for i := range cases {
		if cases[i].URL == "" {
			cases[i].URL = testURL
		}
		if cases[i].Rows == nil {
			cases[i].Rows = []map[string]any{}
		}
	}
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "harness.js"))
	cmd.Stdin = bytes.NewReader(in)
	// PBKDF2 and scrypt run on libuv's thread pool: more threads, less wall time.
	cmd.Env = append(os.Environ(), "UV_THREADPOOL_SIZE=16")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	var results []jsResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("harness output: %v\n%s", err, out)
	}
	byName := map[string]jsResult{}
	for _, r := range results {
		if r.HarnessError != "" {
			t.Fatalf("%s: %s", r.Name, r.HarnessError)
		}
		if r.Calls != 1 {
			t.Errorf("%s: callback called %d times, want exactly once", r.Name, r.Calls)
		}
		if r.Opened != r.Closed {
			t.Errorf("%s: %d connections opened, %d closed", r.Name, r.Opened, r.Closed)
		}
		byName[r.Name] = r
	}
	return byName
}

// checkSyntax runs node --check on each script, all at once.
func checkSyntax(t *testing.T, scripts []Script) {
	t.Helper()
	node := nodePath(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for _, s := range scripts {
		path := filepath.Join(dir, s.FileName())
		if err := os.WriteFile(path, []byte(s.Source), 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if out, err := exec.Command(node, "--check", path).CombinedOutput(); err != nil {
				t.Errorf("node --check %s: %v\n%s", s.Name, err, out)
			}
		})
	}
	wg.Wait()
}
