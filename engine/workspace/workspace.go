// Package workspace is the directory where provision keeps one migration's
// files: the plan, the journal, the exports being validated, canary
// credentials, quarantine files and logs. It knows where each file lives
// and how to set up the bundled demo; it does not read or write their
// contents (plan/, storage/ and validate/ do).
//
// Layout:
//
//	.provision/                 0700
//	  plan.yaml                 the rollout plan
//	  journal.db                the run journal (bbolt)
//	  exports/                  legacy exports to validate and migrate
//	  credentials/              canary email,password files (0600)
//	  quarantine/               rejected rows, written by validation (0600)
//	  logs/provision.log        the log while the assistant owns the screen
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DefaultDir is the workspace used when none is named: .provision in the
// current directory.
const DefaultDir = ".provision"

// File and directory names inside a workspace.
const (
	PlanFile       = "plan.yaml"
	JournalFile    = "journal.db"
	ExportsDir     = "exports"
	CredentialsDir = "credentials"
	QuarantineDir  = "quarantine"
	LogsDir        = "logs"
	LogFile        = "provision.log"
)

// Modes for what a workspace holds: exports, credentials and journals
// carry personal data and secrets, so only the owner may read them.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// Workspace is an existing workspace directory.
type Workspace struct {
	dir string
}

// Exists reports whether dir is an existing directory.
func Exists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// Open returns the workspace at dir, which must exist.
func Open(dir string) (*Workspace, error) {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workspace %s does not exist: run provision in a terminal to create it, or pass --workspace", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("opening workspace: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("workspace %s is a file, not a directory: pass --workspace with a directory", dir)
	}
	return &Workspace{dir: dir}, nil
}

// Create makes an empty workspace at dir (and its subdirectories), or
// opens the one already there.
func Create(dir string) (*Workspace, error) {
	for _, d := range []string{dir,
		filepath.Join(dir, ExportsDir), filepath.Join(dir, CredentialsDir),
		filepath.Join(dir, QuarantineDir), filepath.Join(dir, LogsDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("creating workspace: %w", err)
		}
	}
	return Open(dir)
}

// Dir is the workspace directory as it was given.
func (w *Workspace) Dir() string { return w.dir }

// PlanPath is where the rollout plan lives.
func (w *Workspace) PlanPath() string { return filepath.Join(w.dir, PlanFile) }

// JournalPath is where the run journal lives.
func (w *Workspace) JournalPath() string { return filepath.Join(w.dir, JournalFile) }

// ExportsPath is the directory of legacy exports.
func (w *Workspace) ExportsPath() string { return filepath.Join(w.dir, ExportsDir) }

// CredentialsPath is the directory of canary credential files.
func (w *Workspace) CredentialsPath() string { return filepath.Join(w.dir, CredentialsDir) }

// QuarantinePath is the quarantine file for the export with the given
// file name: exports/users.csv is quarantined to quarantine/users.csv.
func (w *Workspace) QuarantinePath(export string) string {
	return filepath.Join(w.dir, QuarantineDir, filepath.Base(export))
}

// LogPath is the log file.
func (w *Workspace) LogPath() string { return filepath.Join(w.dir, LogsDir, LogFile) }

// DemoExportPath and DemoCredentialsPath are where InitDemo writes the
// bundled demo data.
func (w *Workspace) DemoExportPath() string {
	return filepath.Join(w.dir, ExportsDir, DemoExportName)
}

// DemoCredentialsPath is where InitDemo writes the demo canaries.
func (w *Workspace) DemoCredentialsPath() string {
	return filepath.Join(w.dir, CredentialsDir, DemoCredentialsName)
}

// FileState describes one workspace file.
type FileState struct {
	Path     string
	Exists   bool
	Size     int64
	Modified time.Time
}

func stat(path string) FileState {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return FileState{Path: path}
	}
	return FileState{Path: path, Exists: true, Size: st.Size(), Modified: st.ModTime()}
}

// Status is what a workspace holds, for headers and plain-text summaries.
type Status struct {
	Dir         string
	Plan        FileState
	Journal     FileState
	Exports     []string // file names in exports/, sorted
	Credentials []string // file names in credentials/, sorted
	Demo        bool     // the demo export is present
}

// Status looks at the workspace's files. It never fails: a file that
// cannot be read counts as absent.
func (w *Workspace) Status() Status {
	s := Status{Dir: w.dir, Plan: stat(w.PlanPath()), Journal: stat(w.JournalPath())}
	s.Exports = files(w.ExportsPath())
	s.Credentials = files(w.CredentialsPath())
	s.Demo = stat(w.DemoExportPath()).Exists
	return s
}

// files lists the regular files in dir by name, skipping hidden ones.
func files(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	return out
}
